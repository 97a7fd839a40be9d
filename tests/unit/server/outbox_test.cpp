// The outbox's pure parts: the Standard Webhooks signature against the
// spec's own test vector, the secret's form, the request a webhook target
// renders, the retry policy (what a status means, the backoff schedule,
// Retry-After) and the [outbox] / [webhooks.NAME] keys.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <fstream>
#include <map>

#include "outbox/backoff.hpp"
#include "outbox/outbox_config.hpp"
#include "outbox/standard_webhook.hpp"

namespace valise::server::outbox {
namespace {

using namespace std::chrono_literals;

// From standard-webhooks/standard-webhooks, libraries/go/webhook_test.go
// (TestWebhookSign), the same in every library of the spec's repository.
constexpr const char* spec_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr const char* spec_id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr std::int64_t spec_timestamp = 1614265330;
constexpr const char* spec_payload = R"({"test": 2432232314})";
constexpr const char* spec_signature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

TEST(StandardWebhooks, SignatureMatchesTheSpecsVector) {
  auto key = parse_webhook_secret(spec_secret);
  ASSERT_TRUE(key);
  EXPECT_EQ(webhook_signature(*key, spec_id, spec_timestamp, spec_payload), spec_signature);
  EXPECT_NE(webhook_signature(*key, spec_id, spec_timestamp + 1, spec_payload), spec_signature);
}

TEST(StandardWebhooks, SecretsMustBeWhsecBase64OfEnoughBytes) {
  EXPECT_FALSE(parse_webhook_secret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));  // no prefix
  EXPECT_FALSE(parse_webhook_secret("whsec_"));
  EXPECT_FALSE(parse_webhook_secret("whsec_c2hvcnQ="));  // "short": 5 bytes
  EXPECT_FALSE(parse_webhook_secret("whsec_not base64 at all!!"));
  EXPECT_EQ(parse_webhook_secret(spec_secret)->size(), 24u);
}

TEST(StandardWebhooks, TargetRendersASignedPost) {
  webhook_target t({.name = "hook",
                    .url = "https://hooks.example.com/valise?x=1",
                    .key = *parse_webhook_secret(spec_secret),
                    .events = {"bundle.arrived"}});
  EXPECT_TRUE(t.wants("bundle.arrived"));
  EXPECT_FALSE(t.wants("bundles.purged"));
  outbox_entry e{.id = "msg_1",
                 .target = "hook",
                 .ticket_ref = "T-1",
                 .event = "bundle.arrived",
                 .payload = R"({"ticket":"T-1","bundle":"bdl_1"})",
                 .created_at = 1800000000};
  auto r = t.render(e, 1800000005, {});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->method, "POST");
  EXPECT_EQ(r->url, "https://hooks.example.com/valise?x=1");
  auto body = boost::json::parse(r->body).as_object();
  EXPECT_EQ(body.at("type").as_string(), "bundle.arrived");
  EXPECT_EQ(body.at("timestamp").as_string(), "2027-01-15T08:00:00Z");
  EXPECT_EQ(body.at("data").at("bundle").as_string(), "bdl_1");
  std::map<std::string, std::string> h;
  for (const auto& [name, value] : r->headers) h[name] = value;
  EXPECT_EQ(h["webhook-id"], "msg_1");
  EXPECT_EQ(h["webhook-timestamp"], "1800000005");
  EXPECT_EQ(h["webhook-signature"],
            webhook_signature(*parse_webhook_secret(spec_secret), "msg_1", 1800000005, r->body));
  EXPECT_EQ(h["Content-Type"], "application/json");
}

TEST(RetryPolicy, StatusesAreClassifiedAsFluentBitDoes) {
  for (unsigned s : {200u, 201u, 204u, 299u}) EXPECT_EQ(classify(s), verdict::delivered) << s;
  for (unsigned s : {400u, 401u, 403u, 404u, 410u, 422u})
    EXPECT_EQ(classify(s), verdict::give_up) << s;
  for (unsigned s : {408u, 429u, 500u, 502u, 503u, 504u, 301u, 0u})
    EXPECT_EQ(classify(s), verdict::retry) << s;
}

TEST(RetryPolicy, BackoffDoublesUpToItsCapLessAtMostHalf) {
  const retry_settings s{1s, 3600s, 72h};
  // No jitter: 1, 2, 4, ... 2048, then the cap.
  const std::int64_t expected[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 3600, 3600};
  for (std::uint32_t n = 1; n <= std::size(expected); ++n)
    EXPECT_EQ(backoff_delay(n, s, 0).count(), expected[n - 1]) << n;
  EXPECT_EQ(backoff_delay(1000000, s, 0), 3600s);  // no overflow
  // The most jitter takes half off, never below a second.
  EXPECT_EQ(backoff_delay(12, s, 0.999999), 1025s);
  EXPECT_EQ(backoff_delay(13, s, 0.999999), 1801s);
  EXPECT_EQ(backoff_delay(1, s, 0.999999), 1s);
  EXPECT_EQ(backoff_delay(1, {0s, 0s, 1s}, 0), 1s);
}

TEST(RetryPolicy, RetryAfterInSecondsOnly) {
  EXPECT_EQ(parse_retry_after("120"), 120s);
  EXPECT_EQ(parse_retry_after(" 5 "), 5s);
  EXPECT_FALSE(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"));
  EXPECT_FALSE(parse_retry_after("-1"));
  EXPECT_FALSE(parse_retry_after(""));
  EXPECT_FALSE(parse_retry_after("99999999999999999999"));
}

boost::system::result<outbox_config, std::string> parse_text(const std::string& text) {
  return parse_outbox_config(toml::parse(text, std::string("/etc/valise/server.toml")),
                             "/etc/valise/server.toml");
}

TEST(OutboxConfig, DefaultsAndSettings) {
  auto none = parse_text("");
  ASSERT_TRUE(none) << none.error();
  EXPECT_EQ(none->min_backoff, 1s);
  EXPECT_EQ(none->max_backoff, 3600s);
  EXPECT_EQ(none->give_up_after, 72h);
  EXPECT_TRUE(none->webhooks.empty());
  auto c = parse_text(std::string(R"(
[outbox]
min_backoff = "5s"
max_backoff = "10m"
give_up_after = "1d"
max_pending_per_target = 50
[webhooks.ops-hook]
url = "https://hooks.example.com/valise"
secret = ")") + spec_secret +
                      R"("
ca_file = "private-ca.pem"
events = ["bundles.purged"]
)");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->min_backoff, 5s);
  EXPECT_EQ(c->max_backoff, 600s);
  EXPECT_EQ(c->give_up_after, 24h);
  EXPECT_EQ(c->max_pending_per_target, 50u);
  ASSERT_EQ(c->webhooks.size(), 1u);
  EXPECT_EQ(c->webhooks[0].name, "ops-hook");
  EXPECT_EQ(c->webhooks[0].key, *parse_webhook_secret(spec_secret));
  EXPECT_EQ(c->webhooks[0].ca_file, "/etc/valise/private-ca.pem");
  EXPECT_EQ(c->webhooks[0].events, std::vector<std::string>{"bundles.purged"});
  // What init writes parses back to the same settings.
  auto again = parse_text(format_outbox_config(*c));
  ASSERT_TRUE(again) << again.error();
  EXPECT_EQ(again->max_backoff, 600s);
  EXPECT_EQ(again->max_pending_per_target, 50u);
}

TEST(OutboxConfig, SecretFileIsRead) {
  const std::string path = ::testing::TempDir() + "/hook.secret";
  std::ofstream(path) << spec_secret << "\n";
  auto c =
      parse_text("[webhooks.h]\nurl = \"https://h.example/\"\nsecret_file = \"" + path + "\"\n");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->webhooks[0].key, *parse_webhook_secret(spec_secret));
}

TEST(OutboxConfig, MistakesSayWhatToWriteAndNeverTheSecret) {
  const std::string good =
      std::string("url = \"https://h.example/\"\nsecret = \"") + spec_secret + "\"\n";
  struct bad_case {
    std::string text;
    std::string says;
  } cases[] = {
      {"[outbox]\nmin_backoff = \"soon\"\n", "outbox.min_backoff: expected a duration"},
      {"[outbox]\nmin_backoff = \"30\"\n", "outbox.min_backoff: expected a duration"},
      {"[outbox]\nmin_backoff = \"2h\"\nmax_backoff = \"1h\"\n", "must not be more than"},
      {"[outbox]\nretries = 3\n", "unknown setting outbox.retries"},
      {"[outbox]\nmax_pending_per_target = 0\n", "expected 1 to 1000000"},
      {"[webhooks.h]\nurl = \"http://h.example/\"\nsecret = "
       "\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n",
       "url must be an https:// URL"},
      {"[webhooks.h]\nurl = \"https://h.example/\"\nsecret = \"hunter2-hunter2-hunter2\"\n",
       "secret (or secret_file) must be \"whsec_\""},
      {"[webhooks.h]\n" + good + "events = [\"ticket.created\"]\n", "events are"},
      {"[webhooks.h]\n" + good + "token = \"x\"\n", "unknown setting webhooks.h.token"},
      {"[webhooks.Bad_Name]\n" + good, "lowercase letters"},
      {"[webhooks.h]\n" + good + "secret_file = \"/nonexistent/secret\"\n", "cannot read"},
  };
  for (const auto& c : cases) {
    auto r = parse_text(c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_NE(r.error().find(c.says), std::string::npos) << r.error();
    EXPECT_TRUE(r.error().starts_with("/etc/valise/server.toml")) << r.error();
    EXPECT_EQ(r.error().find("hunter2"), std::string::npos) << r.error();
  }
}

}  // namespace
}  // namespace valise::server::outbox
