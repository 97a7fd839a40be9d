#include "helpdesk/connector_config.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

namespace valise::server::helpdesk {
namespace {

using read_result = boost::system::result<std::string, std::string>;

read_result read_fixture(const std::filesystem::path& p) {
  if (p.filename() == "glpi.secret")
    return read_result{boost::system::in_place_value, "from-file\n"};
  return read_result{boost::system::in_place_error, "No such file or directory"};
}

boost::system::result<std::vector<connector>, std::string> parse(std::string_view text) {
  const file_reader read = read_fixture;
  auto root = toml::parse(text, std::string_view("server.toml"));
  return parse_connectors(*root["helpdesk"].as_table(), "/etc/valise/server.toml", read);
}

TEST(HelpdeskConfig, PresetsFillEveryDefault) {
  auto c = parse(R"(
[helpdesk.glpi]
preset = "glpi"
secret = "s3cret"
[helpdesk.support]
preset = "zammad"
secret_file = "glpi.secret"
grace_period = "2s"
)");
  ASSERT_TRUE(c) << c.error();
  ASSERT_EQ(c->size(), 2u);
  const auto& glpi = (*c)[0];
  EXPECT_EQ(glpi.name, "glpi");
  EXPECT_EQ(glpi.kind, preset::glpi);
  EXPECT_EQ(glpi.signature_header, "X-GLPI-signature");
  EXPECT_EQ(glpi.timestamp_header, "X-GLPI-timestamp");
  EXPECT_EQ(glpi.signed_payload, "{body}{timestamp}");
  EXPECT_EQ(glpi.algorithm, digest::sha256);
  EXPECT_EQ(glpi.secret, "s3cret");
  EXPECT_EQ(glpi.grace_period, std::chrono::hours(1));
  EXPECT_EQ(glpi.timestamp_window, std::chrono::minutes(5));
  const auto& zammad = (*c)[1];
  EXPECT_EQ(zammad.algorithm, digest::sha1);
  EXPECT_EQ(zammad.signature_prefix, "sha1=");
  EXPECT_EQ(zammad.delivery_id_header, "X-Zammad-Delivery");
  EXPECT_EQ(zammad.secret, "from-file");  // the file's line, without its newline
  EXPECT_EQ(zammad.grace_period, std::chrono::seconds(2));
}

TEST(HelpdeskConfig, KeysOverrideThePreset) {
  auto c = parse(R"(
[helpdesk.jsm]
preset = "jira"
secret = "x"
status_pointer = "/issue/fields/status/statusCategory/key"
solved_statuses = ["done"]
priorities = { "P1" = "blocking", "P2" = "semi-blocking" }
default_severity = "semi-blocking"
api_url = "https://example.atlassian.net/"
api_user = "bot@example.com"
api_token = "tok"
)");
  ASSERT_TRUE(c) << c.error();
  const auto& j = (*c)[0];
  EXPECT_EQ(j.status_pointer, "/issue/fields/status/statusCategory/key");
  EXPECT_EQ(j.solved_statuses, std::vector<std::string>{"done"});
  ASSERT_EQ(j.priorities.size(), 2u);
  EXPECT_EQ(j.default_severity, severity::semi_blocking);
  EXPECT_EQ(j.api_url, "https://example.atlassian.net");
  EXPECT_EQ(j.signature_prefix, "sha256=");  // the rest stays the preset's
}

TEST(HelpdeskConfig, MistakesSayWhereAndWhat) {
  auto expect = [](std::string_view text, std::string_view wanted) {
    auto c = parse(text);
    ASSERT_FALSE(c) << text;
    EXPECT_NE(c.error().find(wanted), std::string::npos) << c.error();
  };
  expect("[helpdesk.a]\npreset = \"glpi\"\nsecret = \"x\"\nsecert = \"y\"\n",
         "server.toml:4: helpdesk.a.secert: unknown setting");
  expect("[helpdesk.a]\nsecret = \"x\"\n", "helpdesk.a: preset is missing");
  expect("[helpdesk.a]\npreset = \"otrs\"\nsecret = \"x\"\n", "helpdesk.a.preset: must be");
  expect("[helpdesk.a]\npreset = \"glpi\"\n", "secret (or secret_file) is missing");
  expect("[helpdesk.a]\npreset = \"glpi\"\nsecret_file = \"nope\"\n",
         "helpdesk.a.secret_file: cannot read nope");
  expect("[helpdesk.a]\npreset = \"glpi\"\nsecret = \"x\"\nsecret_file = \"glpi.secret\"\n",
         "set secret or secret_file, not both");
  expect("[helpdesk.a]\npreset = \"glpi\"\nsecret = \"x\"\ngrace_period = \"1\"\n",
         "helpdesk.a.grace_period: must be a duration");
  expect("[helpdesk.a]\npreset = \"glpi\"\nsecret = \"x\"\nstatus_pointer = \"item.status\"\n",
         "must be a JSON pointer");
  expect("[helpdesk.a]\npreset = \"glpi\"\nsecret = \"x\"\npriorities = { \"1\" = \"low\" }\n",
         "\"1\" must map to");
  expect("[helpdesk.a]\npreset = \"custom\"\nsecret = \"x\"\n", "signature_header is missing");
  expect("[helpdesk.A]\npreset = \"glpi\"\nsecret = \"x\"\n", "a connector's name is");
  expect("[helpdesk]\nglpi = \"x\"\n", "write one table per helpdesk");
  // A timestamp must be signed to mean anything.
  expect("[helpdesk.a]\npreset = \"glpi\"\nsecret = \"x\"\nsigned_payload = \"{body}\"\n",
         "timestamp_header is set but the timestamp is not signed");
  expect("[helpdesk.a]\npreset = \"zendesk\"\nsecret = \"x\"\nverify = \"token\"\n",
         "timestamp_header is set but the timestamp is not signed");
}

// Each page's server.toml block parses, and its "what the preset sets" block
// says exactly what the preset sets.
TEST(HelpdeskConfig, TheDocsShowThePresetsAsTheyAre) {
  const file_reader any = [](const std::filesystem::path&) -> read_result {
    return read_result{boost::system::in_place_value, "x"};
  };
  for (const char* name : {"glpi", "zammad", "jira", "zendesk"}) {
    SCOPED_TRACE(name);
    std::ifstream in(std::string(VALISE_DOCS_DIR) + "/" + name + ".md");
    std::stringstream page;
    page << in.rdbuf();
    const std::string text = page.str();
    std::vector<std::string> blocks;
    const std::regex toml_block("```toml\n([\\s\\S]*?)```");
    for (std::sregex_iterator it(text.begin(), text.end(), toml_block), end; it != end; ++it)
      blocks.push_back((*it)[1]);
    ASSERT_EQ(blocks.size(), 2u);
    auto root = toml::parse(blocks[0], std::string_view("server.toml"));
    auto configured = parse_connectors(*root["helpdesk"].as_table(), "server.toml", any);
    ASSERT_TRUE(configured) << configured.error();
    ASSERT_EQ(configured->size(), 1u);
    const auto kind = parse_preset(name);
    EXPECT_EQ((*configured)[0].kind, *kind);
    auto listed =
        toml::parse(std::string("[helpdesk.x]\npreset = \"custom\"\nsecret = \"x\"\n") + blocks[1],
                    std::string_view("preset.toml"));
    auto shown = parse_connectors(*listed["helpdesk"].as_table(), "preset.toml", any);
    ASSERT_TRUE(shown) << shown.error();
    const auto& doc = (*shown)[0];
    const auto real = preset_defaults(*kind);
    EXPECT_EQ(doc.algorithm, real.algorithm);
    EXPECT_EQ(doc.signed_payload, real.signed_payload);
    EXPECT_EQ(doc.signature_header, real.signature_header);
    EXPECT_EQ(doc.signature_prefix, real.signature_prefix);
    EXPECT_EQ(doc.signature_encoding, real.signature_encoding);
    EXPECT_EQ(doc.timestamp_header, real.timestamp_header);
    EXPECT_EQ(doc.timestamp_window, real.timestamp_window);
    EXPECT_EQ(doc.delivery_id_header, real.delivery_id_header);
    EXPECT_EQ(doc.ticket_id_pointer, real.ticket_id_pointer);
    EXPECT_EQ(doc.title_pointer, real.title_pointer);
    EXPECT_EQ(doc.priority_pointer, real.priority_pointer);
    EXPECT_EQ(doc.status_pointer, real.status_pointer);
    EXPECT_EQ(doc.solved_statuses, real.solved_statuses);
    EXPECT_EQ(doc.closed_statuses, real.closed_statuses);
    EXPECT_EQ(doc.reopened_statuses, real.reopened_statuses);
    auto sorted = [](auto v) {
      std::sort(v.begin(), v.end());
      return v;
    };
    EXPECT_EQ(sorted(doc.priorities), sorted(real.priorities));
  }
}

}  // namespace
}  // namespace valise::server::helpdesk
