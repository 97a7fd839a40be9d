// Each preset's note request against the shape its REST API documents.
#include "helpdesk/notes.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "helpdesk/connector_config.hpp"

namespace valise::server::helpdesk {
namespace {

connector configured(preset p, std::string url) {
  auto c = preset_defaults(p);
  c.name = std::string(to_string(p));
  c.api_url = std::move(url);
  c.api_token = "api-tok";
  c.api_user = "bot@example.com";
  c.app_token = "app-tok";
  return c;
}

std::string header(const http_call& call, std::string_view name) {
  for (const auto& [k, v] : call.headers)
    if (k == name) return v;
  return "<none>";
}

TEST(HelpdeskNotes, GlpiPrivateFollowupInASession) {
  auto c = configured(preset::glpi, "https://glpi.example.com/apirest.php");
  auto init = glpi_init_session(c);
  EXPECT_EQ(init.method, "GET");
  EXPECT_EQ(init.url, "https://glpi.example.com/apirest.php/initSession");
  EXPECT_EQ(header(init, "App-Token"), "app-tok");
  EXPECT_EQ(header(init, "Authorization"), "user_token api-tok");
  auto note = note_request(c, "42", "bundle <bdl_1> & \"x\"\narrived", "sess-1");
  ASSERT_TRUE(note) << note.error();
  EXPECT_EQ(note->method, "POST");
  EXPECT_EQ(note->url, "https://glpi.example.com/apirest.php/ITILFollowup");
  EXPECT_EQ(header(*note, "Session-Token"), "sess-1");
  EXPECT_EQ(header(*note, "App-Token"), "app-tok");
  EXPECT_EQ(
      boost::json::serialize(note->body),
      R"({"input":{"itemtype":"Ticket","items_id":42,"content":"bundle &lt;bdl_1&gt; &amp; &quot;x&quot;<br>\narrived","is_private":1}})");
  EXPECT_FALSE(note_request(c, "SUP-1", "x", "s"));
}

TEST(HelpdeskNotes, ZammadInternalArticle) {
  auto note = note_request(configured(preset::zammad, "https://zammad.example.com"), "17", "hi");
  ASSERT_TRUE(note) << note.error();
  EXPECT_EQ(note->method, "POST");
  EXPECT_EQ(note->url, "https://zammad.example.com/api/v1/ticket_articles");
  EXPECT_EQ(header(*note, "Authorization"), "Token token=api-tok");
  EXPECT_EQ(header(*note, "Content-Type"), "application/json");
  EXPECT_EQ(
      boost::json::serialize(note->body),
      R"({"ticket_id":17,"body":"hi","content_type":"text/plain","type":"note","internal":true})");
}

TEST(HelpdeskNotes, JiraServiceManagementInternalComment) {
  auto note =
      note_request(configured(preset::jira, "https://example.atlassian.net"), "SUP-12", "purged");
  ASSERT_TRUE(note) << note.error();
  EXPECT_EQ(note->method, "POST");
  EXPECT_EQ(note->url, "https://example.atlassian.net/rest/servicedeskapi/request/SUP-12/comment");
  // base64("bot@example.com:api-tok")
  EXPECT_EQ(header(*note, "Authorization"), "Basic Ym90QGV4YW1wbGUuY29tOmFwaS10b2s=");
  EXPECT_EQ(boost::json::serialize(note->body), R"({"body":"purged","public":false})");
  // An id cannot walk to another path of the API.
  auto odd = note_request(configured(preset::jira, "https://x"), "../../api/2/user", "x");
  ASSERT_TRUE(odd);
  EXPECT_EQ(odd->url, "https://x/rest/servicedeskapi/request/..%2F..%2Fapi%2F2%2Fuser/comment");
}

TEST(HelpdeskNotes, ZendeskPrivateComment) {
  auto note = note_request(configured(preset::zendesk, "https://acme.zendesk.com"), "35436", "x");
  ASSERT_TRUE(note) << note.error();
  EXPECT_EQ(note->method, "PUT");
  EXPECT_EQ(note->url, "https://acme.zendesk.com/api/v2/tickets/35436");
  // base64("bot@example.com/token:api-tok")
  EXPECT_EQ(header(*note, "Authorization"), "Basic Ym90QGV4YW1wbGUuY29tL3Rva2VuOmFwaS10b2s=");
  EXPECT_EQ(boost::json::serialize(note->body),
            R"({"ticket":{"comment":{"body":"x","public":false}}})");
}

TEST(HelpdeskNotes, NoApiNoNote) {
  EXPECT_FALSE(note_request(configured(preset::zammad, ""), "1", "x"));
  EXPECT_FALSE(note_request(configured(preset::custom, "https://x"), "1", "x"));
}

}  // namespace
}  // namespace valise::server::helpdesk
