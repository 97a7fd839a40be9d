// Notes back to the helpdesk: the text each outbox event becomes (worked out
// by hand), the request a connector's target renders from it, GLPI's
// session, and the routing that gives a helpdesk only its own tickets.
#include "outbox/helpdesk_target.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <map>

#include "helpdesk/connector_config.hpp"
#include "outbox/delivery_worker.hpp"
#include "outbox/note_text.hpp"

namespace valise::server::outbox {
namespace {

helpdesk::connector connector_of(helpdesk::preset kind, const std::string& name) {
  helpdesk::connector c = helpdesk::preset_defaults(kind);
  c.name = name;
  c.kind = kind;
  c.api_url = "https://desk.example.com/apirest.php";
  c.api_token = "user-token";
  c.app_token = "app-token";
  return c;
}

outbox_entry entry(std::string event, std::string payload) {
  return {.id = "msg_1",
          .target = "helpdesk:glpi",
          .ticket_ref = "4021",
          .event = std::move(event),
          .payload = std::move(payload),
          .created_at = 1800000000};
}

std::map<std::string, std::string> headers(const outbound_request& r) {
  std::map<std::string, std::string> h;
  for (const auto& [name, value] : r.headers) h[name] = value;
  return h;
}

TEST(NoteText, ABundleArrived) {
  auto text = note_text(entry("bundle.arrived", R"({"bundle":"bdl_7","filename":"logs.tar.age",
      "size":12893184,"sha256":"ab12","uploader":"link:lnk_3","request":"req_9"})"));
  ASSERT_TRUE(text);
  // 12893184 / 1048576 = 12.296 MiB.
  EXPECT_EQ(*text,
            "valise: a bundle arrived for this ticket.\n"
            "File: logs.tar.age, 12.3 MiB (12893184 bytes)\n"
            "SHA-256: ab12\n"
            "From: link:lnk_3 (request req_9)\n"
            "Fetch it: valise bundle get bdl_7\n");
}

TEST(NoteText, ARequestFailed) {
  auto text = note_text(entry("request.failed",
                              R"({"request":"req_1","agent":"agt_2","profile":"default",
                                  "reason":"the agent was revoked"})"));
  ASSERT_TRUE(text);
  EXPECT_EQ(*text,
            "valise: the request req_1 to agent agt_2 (profile default) failed: the agent was "
            "revoked\n");
}

TEST(NoteText, APurgeReceipt) {
  // 1800000000 = 2027-01-15T08:00:00Z.
  auto text = note_text(entry("bundles.purged", R"({"cause":"purge.resolved",
      "purged_at":1800000000,"bundles":[{"id":"bdl_1","size":4096,"sha256":"cd34"},
      {"id":"bdl_2","size":10,"sha256":"ef56"}],"uploads":[{"id":"upl_1","offset":77}]})"));
  ASSERT_TRUE(text);
  EXPECT_EQ(*text,
            "valise: purge receipt. 2 bundles destroyed at 2027-01-15T08:00:00Z (the ticket was "
            "resolved).\n"
            "- bdl_1, 4.0 KiB (4096 bytes), SHA-256 cd34\n"
            "- bdl_2, 10 bytes, SHA-256 ef56\n"
            "- unfinished upload upl_1 discarded at byte 77\n"
            "Nothing of it is left on the collector.\n");
}

TEST(NoteText, OtherEventsAndBadDataAreErrors) {
  EXPECT_FALSE(note_text(entry("ticket.created", "{}")));
  EXPECT_FALSE(note_text(entry("bundle.arrived", "[1]")));
  EXPECT_FALSE(note_text(entry("bundle.arrived", "not json")));
}

TEST(HelpdeskTarget, GlpiOpensASessionThenPostsAPrivateFollowup) {
  helpdesk_target t(connector_of(helpdesk::preset::glpi, "glpi"));
  EXPECT_EQ(t.name(), "helpdesk:glpi");
  EXPECT_EQ(t.connector(), "glpi");
  auto open = t.session_request();
  ASSERT_TRUE(open);
  EXPECT_EQ(open->method, "GET");
  EXPECT_EQ(open->url, "https://desk.example.com/apirest.php/initSession");
  EXPECT_EQ(headers(*open)["Authorization"], "user_token user-token");
  EXPECT_EQ(headers(*open)["App-Token"], "app-token");
  EXPECT_TRUE(open->body.empty());

  common::http_response answer{.status = 200, .body = R"({"session_token":"s3ss"})"};
  auto session = t.session_of(answer);
  ASSERT_TRUE(session);
  EXPECT_EQ(*session, "s3ss");
  EXPECT_FALSE(t.session_of({.status = 200, .body = R"({"other":1})"}));
  EXPECT_FALSE(t.session_of({.status = 200, .body = "<html>"}));

  auto r = t.render(entry("request.failed", R"({"request":"req_1","agent":"agt_2",
      "profile":"default","reason":"timed out"})"),
                    1800000000, *session);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->method, "POST");
  EXPECT_EQ(r->url, "https://desk.example.com/apirest.php/ITILFollowup");
  EXPECT_EQ(headers(*r)["Session-Token"], "s3ss");
  auto input = boost::json::parse(r->body).at("input").as_object();
  EXPECT_EQ(input.at("items_id").as_int64(), 4021);
  EXPECT_EQ(input.at("is_private").as_int64(), 1);
  EXPECT_NE(std::string(input.at("content").as_string()).find("timed out"), std::string::npos);
}

TEST(HelpdeskTarget, ZammadNeedsNoSession) {
  helpdesk_target t(connector_of(helpdesk::preset::zammad, "zammad"));
  EXPECT_FALSE(t.session_request());
  EXPECT_TRUE(t.wants("bundles.purged"));
  EXPECT_FALSE(t.wants("ticket.created"));
  // A note the helpdesk cannot take (an id that is not its) fails for good.
  auto e = entry("bundle.arrived", R"({"bundle":"bdl_1"})");
  e.ticket_ref = "not-a-number";
  EXPECT_FALSE(t.render(e, 1800000000, {}));
}

TEST(HelpdeskTarget, OnlyConnectorsWithAnApiWriteBack) {
  auto with = connector_of(helpdesk::preset::zammad, "zammad");
  auto without = connector_of(helpdesk::preset::glpi, "glpi");
  without.api_url.clear();
  auto targets = helpdesk_targets({with, without});
  ASSERT_EQ(targets.size(), 1u);
  EXPECT_EQ(targets[0]->name(), "helpdesk:zammad");
}

TEST(HelpdeskTarget, ATicketsEventsGoToTheHelpdeskItCameFromOnly) {
  server_config config;
  config.helpdesks = {connector_of(helpdesk::preset::glpi, "glpi"),
                      connector_of(helpdesk::preset::zammad, "zammad")};
  auto policy = routing_policy(configured_targets(config), config.outbox, [] {});
  using names = std::vector<std::string>;
  EXPECT_EQ(policy.route({"4021", "glpi"}, "bundle.arrived"), names{"helpdesk:glpi"});
  EXPECT_EQ(policy.route({"77", "zammad"}, "bundles.purged"), names{"helpdesk:zammad"});
  EXPECT_EQ(policy.route({"T-1", ""}, "bundle.arrived"), names{});
  EXPECT_EQ(policy.route({"4021", "glpi"}, "ticket.created"), names{});
}

}  // namespace
}  // namespace valise::server::outbox
