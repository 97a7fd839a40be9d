// The redaction engine over buffers: each default rule, the profile's own
// rules, PEM blocks across lines and writes, secrets split across writes,
// long lines, CRLF and binary input.
#include "redact/redactor.hpp"

#include <gtest/gtest.h>

#include <random>

namespace valise::agent::redact {
namespace {

rule_set defaults(bool emails = false, bool ips = false, std::vector<redaction_rule> own = {}) {
  auto r = rule_set::compile(own, true, emails, ips);
  EXPECT_TRUE(r) << (r ? "" : r.error());
  return std::move(*r);
}

std::string redact(const rule_set& rules, std::string_view text,
                   std::map<std::string, std::uint64_t>* counts = nullptr) {
  return redact_text(rules, text, counts);
}

// Writes `text` in pieces of `piece` bytes.
std::string redact_in_pieces(const rule_set& rules, std::string_view text, std::size_t piece,
                             std::map<std::string, std::uint64_t>* counts = nullptr,
                             redactor_limits limits = {}) {
  crypto::memory_sink sink;
  redactor r(rules, sink, limits);
  for (std::size_t at = 0; at < text.size(); at += piece) {
    const auto part = text.substr(at, piece);
    EXPECT_TRUE(r.write({reinterpret_cast<const std::uint8_t*>(part.data()), part.size()}));
  }
  EXPECT_TRUE(r.finish());
  if (counts) *counts = r.counts();
  return {sink.data().begin(), sink.data().end()};
}

TEST(redactor, secret_assignments_keep_the_key) {
  const auto rules = defaults();
  const std::vector<std::pair<std::string, std::string>> cases{
      {"login user=bob password=hunter2 result=failure\n",
       "login user=bob password=[REDACTED] result=failure\n"},
      {"config loaded: smtp.password=Xy/9+z api_key=eyJhbGc.x\n",
       "config loaded: smtp.password=[REDACTED] api_key=[REDACTED]\n"},
      {"    password: Pr0d-billing-2024!\n", "    password: [REDACTED]\n"},
      {"  api-key: ak_live_billing_51HxQ\n", "  api-key: [REDACTED]\n"},
      {R"({"user":"a","Password": "two words","n":1})"
       "\n",
       R"({"user":"a","Password": "[REDACTED]","n":1})"
       "\n"},
      {"client_secret='s3cr3t' PASSWD=abc DB_PWD=x\n",
       "client_secret='[REDACTED]' PASSWD=[REDACTED] DB_PWD=[REDACTED]\n"},
      {"access_key = AKIAxyz; token:abc&next=1\n",
       "access_key = [REDACTED]; token:[REDACTED]&next=1\n"},
  };
  for (const auto& [in, want] : cases) EXPECT_EQ(redact(rules, in), want) << in;
}

TEST(redactor, every_trigger_word_in_mixed_case_and_at_the_end_of_the_input) {
  const auto rules = defaults(true);
  const std::vector<std::pair<std::string, std::string>> cases{
      {"PaSsWoRd=hunter2", "PaSsWoRd=[REDACTED]"},
      {"db_PwD: x1", "db_PwD: [REDACTED]"},
      {"Client_SECRET='s3'", "Client_SECRET='[REDACTED]'"},
      {"refresh_ToKeN = abc", "refresh_ToKeN = [REDACTED]"},
      {"X-Api-KEY: k1", "X-Api-KEY: [REDACTED]"},
      {"AWS_CREDENTIALS=c2", "AWS_CREDENTIALS=[REDACTED]"},
      {"HTTPS://u:PW@h", "HTTPS://u:[REDACTED]@h"},
      {"sent BEARER abcdefgh12", "sent BEARER [REDACTED]"},
      {"AUTHORIZATION: Basic dXNlcg==", "AUTHORIZATION: Basic [REDACTED]"},
      {"-----BEGIN EC PRIVATE KEY-----\nMHcC", "-----BEGIN EC PRIVATE KEY-----\n[REDACTED]\n"},
      {"to Jean.Dupont@Example.FR", "to [REDACTED]"},
  };
  for (const auto& [in, want] : cases) {
    // The secret ends the input (no newline), after 0 to 40 bytes of text
    // that the scan steps over 32 at a time.
    for (std::size_t pad = 0; pad <= 40; pad += 5) {
      const std::string filler(pad, '.');
      EXPECT_EQ(redact(rules, filler + " " + in), filler + " " + want) << in;
      // (A key without its END takes the rest, newline included.)
      const std::string end = in.starts_with("-----") ? "" : "\n";
      EXPECT_EQ(redact(rules, filler + " " + in + "\n"), filler + " " + want + end) << in;
    }
    // Written in two pieces, split at every byte.
    for (std::size_t cut = 1; cut < in.size(); ++cut) {
      crypto::memory_sink sink;
      redactor r(rules, sink);
      ASSERT_TRUE(r.write({reinterpret_cast<const std::uint8_t*>(in.data()), cut}));
      ASSERT_TRUE(
          r.write({reinterpret_cast<const std::uint8_t*>(in.data()) + cut, in.size() - cut}));
      ASSERT_TRUE(r.finish());
      EXPECT_EQ(std::string(sink.data().begin(), sink.data().end()), want) << in << " cut " << cut;
    }
  }
}

TEST(redactor, leaves_text_without_secrets_alone) {
  const auto rules = defaults();
  for (const std::string text :
       {"sshd[12]: Failed password for invalid user bobx from 10.0.0.1 port 4022 ssh2\n",
        "sudo: alice : TTY=pts/1 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/ls\n",
        "FATAL:  password authentication failed for user \"bob\"\n",
        "cache miss key=customer:42 took 3ms\n", "GET https://example.com/a?b=c HTTP/1.1\n",
        "bearer of news\n", "", "no newline at the end"}) {
    std::map<std::string, std::uint64_t> counts;
    EXPECT_EQ(redact(rules, text, &counts), text);
    EXPECT_TRUE(counts.empty()) << text;
  }
}

TEST(redactor, url_credentials_and_bearer_tokens) {
  const auto rules = defaults();
  std::map<std::string, std::uint64_t> counts;
  EXPECT_EQ(redact(rules,
                   "url=postgresql://app:p4/ss+w@db-01:5432/orders\n"
                   "outgoing call Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.abc\n"
                   "\"authorization\":\"Basic dXNlcjpwYXNz\"\n"
                   "sent bearer abcdefgh12345678== to upstream\r\n",
                   &counts),
            "url=postgresql://app:[REDACTED]@db-01:5432/orders\n"
            "outgoing call Authorization: Bearer [REDACTED]\n"
            "\"authorization\":\"Basic [REDACTED]\"\n"
            "sent bearer [REDACTED] to upstream\r\n");
  EXPECT_EQ(counts,
            (std::map<std::string, std::uint64_t>{{url_credentials, 1}, {bearer_token, 3}}));
}

TEST(redactor, private_key_blocks_go_whole_across_writes) {
  const auto rules = defaults();
  std::string body;
  for (int i = 0; i < 30; ++i)
    body += "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC" + std::to_string(i) + "\n";
  const std::string text =
      "before\n-----BEGIN RSA PRIVATE KEY-----\n" + body +
      "-----END RSA PRIVATE KEY-----\nafter password=x\n"
      "{\"key\":\"-----BEGIN PRIVATE KEY-----\\nMIIE\\n-----END PRIVATE KEY-----\"}\n"
      "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n";
  const std::string want =
      "before\n-----BEGIN RSA PRIVATE KEY-----\n[REDACTED]\n-----END RSA PRIVATE KEY-----\n"
      "after password=[REDACTED]\n"
      "{\"key\":\"-----BEGIN PRIVATE KEY-----[REDACTED]-----END PRIVATE KEY-----\"}\n"
      "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n";
  for (const std::size_t piece : {std::size_t{1}, std::size_t{7}, std::size_t{64}, text.size()}) {
    std::map<std::string, std::uint64_t> counts;
    const auto out = redact_in_pieces(rules, text, piece, &counts);
    EXPECT_EQ(out, want) << "pieces of " << piece;
    EXPECT_EQ(counts[private_key], 2u);
    EXPECT_EQ(out.find("MIIEvQ"), std::string::npos);
  }
}

TEST(redactor, a_key_without_its_end_is_dropped_to_the_end) {
  const auto rules = defaults();
  EXPECT_EQ(redact(rules, "a\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\nmore"),
            "a\n-----BEGIN OPENSSH PRIVATE KEY-----\n[REDACTED]\n");
}

TEST(redactor, secrets_split_across_writes_are_found) {
  const auto rules = defaults();
  std::string text;
  for (int i = 0; i < 2000; ++i) {
    text += "line " + std::to_string(i) + " password=Secret" + std::to_string(i) +
            "Value and url https://u:Pw" + std::to_string(i) + "@h/\n";
  }
  for (const std::size_t piece : {std::size_t{1}, std::size_t{13}, std::size_t{4096}}) {
    std::map<std::string, std::uint64_t> counts;
    const auto out = redact_in_pieces(rules, text, piece, &counts);
    EXPECT_EQ(out.find("Secret"), std::string::npos) << piece;
    EXPECT_EQ(out.find(":Pw"), std::string::npos) << piece;
    EXPECT_EQ(counts[secret_assignment], 2000u);
    EXPECT_EQ(counts[url_credentials], 2000u);
  }
}

TEST(redactor, optional_emails_and_ip_addresses) {
  const auto rules = defaults(true, true);
  std::map<std::string, std::uint64_t> counts;
  EXPECT_EQ(redact(rules,
                   "mail to jean.dupont@example.fr from 192.168.1.20 and fe80::1ff:fe23:4567:890a\n"
                   "at 10:22:33 std::string 2001:db8:0:0:0:0:2:1 mac 00:1a:2b:3c:4d:5e v1.2.3\n",
                   &counts),
            "mail to [REDACTED] from [REDACTED] and [REDACTED]\n"
            "at 10:22:33 std::string [REDACTED] mac 00:1a:2b:3c:4d:5e v1.2.3\n");
  EXPECT_EQ(counts[email], 1u);
  EXPECT_EQ(counts[ip_address], 3u);
  // Not asked for: left alone.
  EXPECT_EQ(redact(defaults(), "a@example.com 10.0.0.1\n"), "a@example.com 10.0.0.1\n");
}

TEST(redactor, profile_rules_with_groups_and_their_own_names) {
  const auto rules = defaults(false, false,
                              {{"badge", R"(badge=(\d{4})\d+)", R"(badge=\1****)"},
                               {"customer", R"(^customer \w+$)", "customer [hidden]"}});
  std::map<std::string, std::uint64_t> counts;
  EXPECT_EQ(redact(rules, "door B1 badge=12345678 ok\ncustomer acme\nold customer x\n", &counts),
            "door B1 badge=1234**** ok\ncustomer [hidden]\nold customer x\n");
  EXPECT_EQ(counts["badge"], 1u);
  EXPECT_EQ(counts["customer"], 1u);
  // Without the defaults, only the profile's rules apply.
  auto own = rule_set::compile({{"badge", R"(badge=\d+)", "badge=x"}}, false, false, false);
  ASSERT_TRUE(own);
  EXPECT_EQ(redact(*own, "badge=1 password=p\n"), "badge=x password=p\n");
}

TEST(redactor, invalid_rules_are_refused_with_their_name) {
  EXPECT_FALSE(validate({"ok", "a+b", "x"}));
  EXPECT_EQ(validate({"bad", "a(b", "x"}).value_or(""), "redaction rule 'bad': missing ): a(b");
  EXPECT_NE(validate({"group", "a(b)", R"(\2)"}).value_or("").find("redaction rule 'group'"),
            std::string::npos);
  EXPECT_TRUE(validate({"empty", "x*", ""}));
  EXPECT_TRUE(validate({"", "x", ""}));
  auto r = rule_set::compile({{"bad", "[", ""}}, true, false, false);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().rfind("redaction rule 'bad': ", 0), 0u) << r.error();
}

TEST(redactor, rules_never_match_across_lines) {
  const auto rules = defaults(false, false, {{"pair", R"(a\s+b)", "X"}});
  EXPECT_EQ(redact(rules, "a\nb a b\n"), "a\nb X\n");
  EXPECT_EQ(redact(rules, "password=\nhunter2\n"), "password=\nhunter2\n");
}

TEST(redactor, long_lines_are_cut_and_still_redacted) {
  const auto rules = defaults();
  std::string line;
  for (int i = 0; line.size() < 300000; ++i)
    line += "item" + std::to_string(i) + " password=pw" + std::to_string(i) + "x ";
  std::map<std::string, std::uint64_t> counts;
  const auto out = redact_in_pieces(rules, line + "\n", 5000, &counts, {.max_line = 64 * 1024});
  EXPECT_EQ(out.find("=pw"), std::string::npos);
  EXPECT_GT(counts[secret_assignment], 10000u);
}

TEST(redactor, binary_input_passes_without_harm) {
  const auto rules = defaults(true, true, {{"x", "[\\x80-\\xff]{4}", "Y"}});
  std::mt19937 rng(1);
  std::string noise(1 << 20, '\0');
  for (auto& c : noise) c = static_cast<char>(rng());
  noise += "password=hunter2\n";
  const auto out = redact_in_pieces(rules, noise, 100000);
  EXPECT_FALSE(out.empty());
  EXPECT_EQ(out.find("hunter2"), std::string::npos);
}

}  // namespace
}  // namespace valise::agent::redact
