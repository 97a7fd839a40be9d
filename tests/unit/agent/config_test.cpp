#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>

#include "config/agent_config.hpp"

namespace valise::agent {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("valise-agent-config-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  config_result load(const std::string& text) {
    const auto file = dir_ / "agent.toml";
    std::ofstream(file) << text;
    return load_config(file);
  }

  std::filesystem::path dir_;
};

constexpr const char* recipient = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";

TEST_F(ConfigTest, EmptyFileTakesTheDefaults) {
  auto c = load("");
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->state_dir, "/var/lib/valise-agent");
  EXPECT_EQ(c->spool(), "/var/lib/valise-agent/spool");
  EXPECT_EQ(c->poll_timeout, std::chrono::seconds(50));
  EXPECT_TRUE(c->profiles.empty());
}

TEST_F(ConfigTest, ReadsAFullProfile) {
  auto c = load(fmt::format(R"(
server = "https://collector.example:8443"
state_dir = "/tmp/state"
spool_max_bytes = "2G"
poll_timeout = "30s"

[delivery]
recipients = ["{}"]

[profiles.web]
description = "nginx and the app"
remote = true
approval = "operator"
files = ["/var/log/nginx/*.log*", "/etc/nginx/nginx.conf"]
exclude = ["/var/log/nginx/debug.log"]
journal = ["nginx.service"]
journal_priority = "warning"
commands = [["/usr/bin/df", "-h"], ["df", "-i"], {{ name = "sockets", argv = ["ss", "-tn"], timeout = "5s" }}]
command_timeout = "10s"
max_file_bytes = "16M"
max_bundle_bytes = 1048576
services = ["nginx.service"]
redact_emails = true
redact = [{{ name = "card", pattern = "\\d{{16}}", replacement = "[CARD]" }}]
)",
                            recipient));
  ASSERT_TRUE(c) << c.error();
  EXPECT_EQ(c->server, "https://collector.example:8443");
  EXPECT_EQ(c->spool_max_bytes, 2ull << 30);
  EXPECT_EQ(c->poll_timeout, std::chrono::seconds(30));
  ASSERT_EQ(c->delivery.recipients.size(), 1u);
  const auto& p = c->profiles.at("web");
  EXPECT_TRUE(p.remote);
  EXPECT_EQ(p.approval, approval_mode::operator_approval);
  EXPECT_EQ(p.files.size(), 2u);
  EXPECT_EQ(p.journal_units, std::vector<std::string>{"nginx.service"});
  EXPECT_EQ(p.journal_max_priority, 4);
  ASSERT_EQ(p.commands.size(), 3u);
  EXPECT_EQ(p.commands[0].name, "df");
  EXPECT_EQ(p.commands[1].name, "df-2");
  EXPECT_EQ(p.commands[0].timeout, std::chrono::seconds(10));
  EXPECT_EQ(p.commands[2].name, "sockets");
  EXPECT_EQ(p.commands[2].timeout, std::chrono::seconds(5));
  EXPECT_EQ(p.max_file_bytes, 16u << 20);
  EXPECT_EQ(p.max_bundle_bytes, 1u << 20);
  EXPECT_TRUE(p.redact_emails);
  ASSERT_EQ(p.redact.size(), 1u);
  EXPECT_EQ(p.redact[0].replacement, "[CARD]");
}

TEST_F(ConfigTest, JournalTrueMeansEveryUnit) {
  auto c = load("[profiles.all]\njournal = true\n");
  ASSERT_TRUE(c) << c.error();
  EXPECT_TRUE(c->profiles.at("all").journal_all);
}

// Each mistake an operator makes gets one line naming the file, line and key.
TEST_F(ConfigTest, RefusesMistakesWithTheKeyAndLine) {
  struct mistake {
    const char* text;
    const char* expected;
  };
  const mistake mistakes[] = {
      {"sevrer = \"https://x\"\n", "agent.toml:1: unknown setting sevrer"},
      {"[profiles.web]\nfiels = []\n", "agent.toml:2: unknown setting profiles.web.fiels"},
      {"server = \"http://x\"\n", "must be an https:// URL"},
      {"[profiles.web]\nfiles = [\"var/log/*\"]\n", "must be an absolute path or glob"},
      {"[profiles.web]\ncommands = [[]]\n", "non-empty argv"},
      {"[profiles.web]\ncommands = \"df -h\"\n", "a list of argv lists"},
      {"[profiles.web]\napproval = \"maybe\"\n", "\"auto\" or \"operator\""},
      {"[profiles.web]\njournal_priority = \"loud\"\n", "a syslog priority"},
      {"[profiles.web]\nmax_file_bytes = \"lots\"\n", "a size such as"},
      {"poll_timeout = \"forever\"\n", "a duration such as"},
      {"spool_max_age = \"3651d\"\n", "(at most \"3650d\")"},
      {"spool_max_age = 315360001\n", "(at most \"3650d\")"},
      {"poll_timeout = \"5m\"\n", "at most \"60s\""},
      {"[delivery]\nrecipients = [\"age1nope\"]\n", "is not an age1... recipient"},
      {"[delivery]\nnotifier = [\"sms\"]\n", "must be an absolute path"},
      {"[profiles.\"a b\"]\n", "NAME made of letters"},
      {"[profiles.web]\nredact = [{ name = \"x\" }]\n",
       "a name (letters, digits, -_.) and a pattern"},
      {"[profiles.web]\nredact = [{ name = \"bad\", pattern = \"a(b\" }]\n",
       "redaction rule 'bad'"},
      {"server = [\n", "agent.toml:"},
  };
  for (const auto& m : mistakes) {
    auto c = load(m.text);
    ASSERT_FALSE(c) << m.text;
    EXPECT_NE(c.error().find(m.expected), std::string::npos) << c.error();
    EXPECT_EQ(c.error().find('\n'), std::string::npos) << c.error();
  }
}

TEST_F(ConfigTest, RecipientsAndAPassphraseChannelExcludeEachOther) {
  auto c = load(
      fmt::format("[delivery]\nrecipients = [\"{}\"]\nnotifier = [\"/bin/true\"]\n", recipient));
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find("keep one"), std::string::npos) << c.error();
}

TEST_F(ConfigTest, MissingFileSaysSo) {
  auto c = load_config(dir_ / "absent.toml");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().find("absent.toml"), std::string::npos) << c.error();
}

// Found with config_fuzz: a priority of 2^32 + 2 was taken as 2, and a float
// for a size went through toml++'s float-to-integer cast, undefined out of range.
TEST_F(ConfigTest, NumbersOutOfRangeAreRefused) {
  for (const char* text : {"[profiles.web]\njournal_priority = 4294967298\n",
                           "spool_max_bytes = 1e300\n", "[profiles.web]\nmax_file_bytes = 64.0\n"})
    EXPECT_FALSE(load(text)) << text;
}

}  // namespace
}  // namespace valise::agent
