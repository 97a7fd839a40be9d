#include "valise/server/config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "calendar/calendar.hpp"

namespace valise::server {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/valise-config-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path write(const std::string& text) {
    auto path = dir_ / "server.toml";
    std::ofstream(path) << text;
    return path;
  }
  std::filesystem::path dir_;
};

TEST_F(ConfigTest, TheWrittenFileReadsBackTheSameSettings) {
  server_config c;
  c.listen = "0.0.0.0:9443";
  c.hostname = "collector.example";
  c.retention = std::chrono::hours(24 * 7);
  auto loaded = load_config(write(format_config(c)));
  ASSERT_TRUE(loaded) << loaded.error();
  EXPECT_EQ(loaded->listen, "0.0.0.0:9443");
  EXPECT_EQ(loaded->hostname, "collector.example");
  EXPECT_EQ(loaded->retention, std::chrono::hours(24 * 7));
  EXPECT_EQ(loaded->data_dir, dir_);
  EXPECT_EQ(loaded->upload_url(), "https://collector.example:9443/api/v1/uploads");
}

TEST_F(ConfigTest, DataDirIsTheFilesDirectoryOrRelativeToIt) {
  auto same = load_config(write("[server]\ndata_dir = \"\"\n"));
  ASSERT_TRUE(same) << same.error();
  EXPECT_EQ(same->data_dir, dir_);
  auto relative = load_config(write("[server]\ndata_dir = \"data/../state\"\n"));
  ASSERT_TRUE(relative) << relative.error();
  EXPECT_EQ(relative->data_dir, dir_ / "state");
  auto absolute = load_config(write("[server]\ndata_dir = \"/var/lib/valise-server\"\n"));
  ASSERT_TRUE(absolute) << absolute.error();
  EXPECT_EQ(absolute->data_dir, "/var/lib/valise-server");
  EXPECT_EQ(absolute->resolve("ca.pem"), "/var/lib/valise-server/ca.pem");
}

TEST_F(ConfigTest, ThePackagedFileReadsBackWithAnEmptyHostname) {
  auto loaded = load_config(write(format_config(packaged_defaults())));
  ASSERT_TRUE(loaded) << loaded.error();
  EXPECT_EQ(loaded->data_dir, "/var/lib/valise-server");
  EXPECT_EQ(loaded->listen, "0.0.0.0:8443");
  EXPECT_EQ(loaded->hostname, "");
}

TEST_F(ConfigTest, EveryKeyIsDocumentedWithItsDefault) {
  auto text = format_config(server_config{});
  EXPECT_NE(text.find("# Address and port to listen on (HOST:PORT). Default: \"127.0.0.1:8443\"."),
            std::string::npos);
  EXPECT_NE(text.find("max_age = \"30d\""), std::string::npos);
}

TEST_F(ConfigTest, ConsoleSessionsHaveTheirTimeouts) {
  auto text = format_config(server_config{});
  EXPECT_NE(text.find("[console]\n"), std::string::npos);
  EXPECT_NE(text.find("session_idle_timeout = \"30m\""), std::string::npos);
  EXPECT_NE(text.find("session_lifetime = \"12h\""), std::string::npos);
  auto loaded =
      load_config(write("[console]\nsession_idle_timeout = \"2s\"\nsession_lifetime = \"1d\"\n"));
  ASSERT_TRUE(loaded) << loaded.error();
  EXPECT_EQ(loaded->session_idle_timeout, std::chrono::seconds(2));
  EXPECT_EQ(loaded->session_lifetime, std::chrono::hours(24));
  EXPECT_FALSE(load_config(write("[console]\nsession_idle_timeout = \"0s\"\n")));
}

TEST_F(ConfigTest, ThePublicBaseIsThePublicUrlWithoutItsSlash) {
  server_config c;
  c.listen = "0.0.0.0:9443";
  c.hostname = "collector.example";
  EXPECT_EQ(c.public_base(), "https://collector.example:9443");
  c.public_url = "https://valise.example.com/";
  EXPECT_EQ(c.public_base(), "https://valise.example.com");
}

TEST_F(ConfigTest, WebRootAndOwnCertificateAreDocumentedAndReadBack) {
  auto text = format_config(server_config{});
  EXPECT_NE(text.find("[web]\n"), std::string::npos);
  EXPECT_NE(text.find("root = \"\""), std::string::npos);
  EXPECT_NE(text.find("own_certificate = \"\""), std::string::npos);
  auto loaded =
      load_config(write("[web]\nroot = \"/srv/web\"\n[tls]\nown_certificate = \"tls/server.pem\"\n"
                        "own_private_key = \"tls/server.key\"\n"));
  ASSERT_TRUE(loaded) << loaded.error();
  EXPECT_EQ(loaded->web_root, "/srv/web");
  EXPECT_EQ(loaded->resolve(loaded->own_certificate), dir_ / "tls/server.pem");
  auto half = load_config(write("[tls]\nown_certificate = \"tls/server.pem\"\n"));
  ASSERT_FALSE(half);
  EXPECT_NE(half.error().find("tls.own_certificate and tls.own_private_key are set together"),
            std::string::npos)
      << half.error();
}

TEST_F(ConfigTest, TheCalendarSectionIsReadWithFileAndLineInItsErrors) {
  auto loaded = load_config(write("[calendar]\nzone = \"America/New_York\"\nfriday = \"\"\n"));
  ASSERT_TRUE(loaded) << loaded.error();
  ASSERT_NE(loaded->business_calendar, nullptr);
  EXPECT_EQ(loaded->business_calendar->zone_name, "America/New_York");
  EXPECT_TRUE(loaded->business_calendar->hours[5].empty());   // Friday closed
  EXPECT_EQ(loaded->business_calendar->hours[1].size(), 2u);  // Monday as by default
  auto wrong = load_config(write("[calendar]\nzone = \"Europe/Pariss\"\n"));
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().find("server.toml:2: calendar.zone: unknown time zone"),
            std::string::npos)
      << wrong.error();
  auto missing = load_config(write("[calendar]\nholidays_ical = \"nope.ics\"\n"));
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().find("calendar.holidays_ical"), std::string::npos) << missing.error();
}

TEST_F(ConfigTest, MissingKeysTakeDefaults) {
  auto loaded = load_config(write("[server]\nthreads = 4\n"));
  ASSERT_TRUE(loaded) << loaded.error();
  EXPECT_EQ(loaded->threads, 4u);
  EXPECT_EQ(loaded->listen, server_config{}.listen);
}

TEST_F(ConfigTest, ErrorsNameFileLineAndKey) {
  auto typo = load_config(write("[server]\n\nlisten_on = \"x\"\n"));
  ASSERT_FALSE(typo);
  EXPECT_NE(typo.error().find("server.toml:3: unknown setting server.listen_on"), std::string::npos)
      << typo.error();
  auto wrong_type = load_config(write("[retention]\nmax_age = 30\n"));
  ASSERT_FALSE(wrong_type);
  EXPECT_NE(wrong_type.error().find("retention.max_age: expected a duration"), std::string::npos)
      << wrong_type.error();
  auto broken = load_config(write("[server\n"));
  ASSERT_FALSE(broken);
  EXPECT_NE(broken.error().find("server.toml:1"), std::string::npos) << broken.error();
  auto missing = load_config(dir_ / "absent.toml");
  EXPECT_FALSE(missing);
}

TEST_F(ConfigTest, AgentCertificateLifetimeIsADurationWithinBounds) {
  auto short_lived = load_config(write("[tls]\nagent_certificate_lifetime = \"10m\"\n"));
  ASSERT_TRUE(short_lived) << short_lived.error();
  EXPECT_EQ(short_lived->agent_certificate_lifetime, std::chrono::minutes(10));
  EXPECT_EQ(server_config{}.agent_certificate_lifetime, std::chrono::days(30));
  auto too_short = load_config(write("[tls]\nagent_certificate_lifetime = \"4m\""));
  ASSERT_FALSE(too_short);
  EXPECT_NE(too_short.error().find("tls.agent_certificate_lifetime must be \"5m\" to \"3650d\""),
            std::string::npos)
      << too_short.error();
  // Longer than any duration setting may be.
  auto too_long = load_config(write("[tls]\nagent_certificate_lifetime = \"3651d\""));
  ASSERT_FALSE(too_long);
  EXPECT_NE(too_long.error().find("tls.agent_certificate_lifetime: expected a duration"),
            std::string::npos)
      << too_long.error();
}

TEST_F(ConfigTest, ZeroDurationsOnlyWhereTheyMeanSomething) {
  auto keep = load_config(write("[retention]\nmax_age = \"0s\"\npurge_interval = \"15m\"\n"));
  ASSERT_TRUE(keep) << keep.error();
  EXPECT_EQ(keep->retention, std::chrono::seconds(0));
  EXPECT_EQ(keep->purge_interval, std::chrono::minutes(15));
  for (const char* line :
       {"[retention]\npurge_interval = \"0s\"", "[server]\nrequest_timeout = \"0m\"",
        "[uploads]\nexpires_after = \"0d\"", "[links]\nexpires_in = \"00h\""}) {
    auto refused = load_config(write(line));
    ASSERT_FALSE(refused) << line;
    EXPECT_NE(refused.error().find("must be more than \"0s\""), std::string::npos)
        << refused.error();
  }
  // A unit always: "30" would be seconds where days were likely meant.
  for (const char* value : {"\"s\"", "\"-5m\"", "\"0x\"", "\"1w\"", "\"99999999999d\"", "\"\"",
                            "\"30\"", "\"0\"", "\"3651d\""}) {
    auto junk = load_config(write(std::string("[links]\nexpires_in = ") + value));
    ASSERT_FALSE(junk) << value;
    EXPECT_NE(junk.error().find("links.expires_in: expected a duration such as \"90s\", \"15m\", "
                                "\"12h\" or \"30d\" (at most \"3650d\")"),
              std::string::npos)
        << junk.error();
  }
  // Links live at most 90 days, whatever asks for one.
  EXPECT_TRUE(load_config(write("[links]\nexpires_in = \"90d\"\n")));
  auto long_links = load_config(write("[links]\nexpires_in = \"91d\"\n"));
  ASSERT_FALSE(long_links);
  EXPECT_NE(long_links.error().find("links.expires_in must be at most \"90d\""), std::string::npos)
      << long_links.error();
}

// [cors] allowed_origins: a string list, each an origin as browsers send it.
std::string cors(const std::string& list) {
  return "[cors]\nallowed_origins = " + list + "\n";
}

TEST_F(ConfigTest, CorsNoneByDefaultAndDocumented) {
  EXPECT_TRUE(server_config{}.cors_allowed_origins.empty());
  EXPECT_NE(format_config(server_config{}).find("[cors]\n"), std::string::npos);
  EXPECT_NE(format_config(server_config{}).find("allowed_origins = []"), std::string::npos);
}

TEST_F(ConfigTest, CorsOriginsAsBrowsersSendThemReadBack) {
  auto loaded = load_config(write(
      cors(R"(["https://helpdesk.example.com", "http://localhost:8080", "https://[::1]:9000"])")));
  ASSERT_TRUE(loaded) << loaded.error();
  EXPECT_EQ(loaded->cors_allowed_origins,
            (std::vector<std::string>{"https://helpdesk.example.com", "http://localhost:8080",
                                      "https://[::1]:9000"}));
  server_config c;
  c.cors_allowed_origins = {"https://a.example", "https://b.example"};
  auto again = load_config(write(format_config(c)));
  ASSERT_TRUE(again) << again.error();
  EXPECT_EQ(again->cors_allowed_origins, c.cors_allowed_origins);
}

TEST_F(ConfigTest, CorsWhatNoBrowserSendsIsRefusedWithTheReason) {
  for (const char* bad :
       {R"(["*"])", R"(["https://helpdesk.example/"])", R"(["https://helpdesk.example/upload"])",
        R"(["HTTPS://x.example"])", R"(["https://X.example"])", R"(["https://x.example:443"])",
        R"(["http://x.example:80"])", R"(["https://x.example:99999"])", R"(["helpdesk.example"])",
        R"(["null"])", R"([""])", R"(["https://"])"}) {
    auto loaded = load_config(write(cors(bad)));
    ASSERT_FALSE(loaded) << bad;
    EXPECT_NE(loaded.error().find("cors.allowed_origins"), std::string::npos) << loaded.error();
    EXPECT_NE(loaded.error().find("not an origin"), std::string::npos) << loaded.error();
  }
  auto wrong_type = load_config(write(cors(R"("https://x.example")")));
  ASSERT_FALSE(wrong_type);
  EXPECT_NE(wrong_type.error().find("expected a list of strings"), std::string::npos);
}

TEST_F(ConfigTest, TeamKeysAreAgePublicKeysKeptCanonical) {
  const std::string key = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";
  EXPECT_TRUE(server_config{}.recipients.empty());
  EXPECT_NE(format_config(server_config{}).find("[keys]\n# The support team's age public keys"),
            std::string::npos);
  EXPECT_NE(format_config(server_config{}).find("\nrecipients = []\n"), std::string::npos);
  server_config c;
  c.recipients = {key};
  auto loaded = load_config(write(format_config(c)));
  ASSERT_TRUE(loaded) << loaded.error();
  EXPECT_EQ(loaded->recipients, c.recipients);
  // Capitals (age reads them) and repeats: kept once, in lowercase.
  loaded = load_config(
      write("[keys]\nrecipients = [\"" + key +
            "\", \"AGE1QL3Z7HJY54PW3HYWW5AYYFG7ZQGVC7W3J2ELW8ZMRJ2KG5SFN9AQMCAC8P\"]\n"));
  ASSERT_TRUE(loaded) << loaded.error();
  EXPECT_EQ(loaded->recipients, std::vector<std::string>{key});
  for (const std::string& bad : {key.substr(0, key.size() - 1) + "q", std::string("age1"),
                                 std::string("ssh-ed25519 AAAA"), std::string("")}) {
    auto refused = load_config(write("[keys]\nrecipients = [\"" + bad + "\"]\n"));
    ASSERT_FALSE(refused) << bad;
    EXPECT_NE(refused.error().find("keys.recipients: \"" + bad + "\" is not an age public key"),
              std::string::npos)
        << refused.error();
  }
  std::string many = "[keys]\nrecipients = [";
  for (int i = 0; i < 33; ++i) many += std::string(i ? ", " : "") + "\"" + key + "\"";
  EXPECT_TRUE(load_config(write(many + "]\n"))) << "repeats count once";
}

// Found with config_fuzz: toml++ casts a float to an integer, undefined out of
// range (343.94e67); integer settings take integers only.
TEST_F(ConfigTest, IntegerSettingsTakeIntegersOnly) {
  for (const char* text :
       {"[uploads]\nmax_upload_bytes = 343.94e67\n", "[server]\nthreads = 4.0\n"})
    EXPECT_FALSE(load_config(write(text))) << text;
}

}  // namespace
}  // namespace valise::server
