#include "valise/common/manifest.hpp"

#include <gtest/gtest.h>

#include <set>

#include "valise/common/bundle.hpp"

using namespace valise::common;

namespace {

TEST(manifest, round_trips_every_field) {
  manifest m;
  m.bundle_id = new_bundle_id();
  m.ticket = "T-1";
  m.host = "web01";
  m.profile = "default";
  m.created_at = now_rfc3339();
  m.since = "2026-11-01T00:00:00Z";
  m.redactions = 3;
  m.notes = {"2 files outside the time window"};
  m.items.push_back({.path = "var/log/syslog",
                     .source = "/var/log/syslog",
                     .size = 10,
                     .sha256 = std::string(64, 'a'),
                     .error = "",
                     .truncated = false,
                     .redactions = 3,
                     .redactions_by_rule = {{"password", 2}, {"bearer-token", 1}}});
  m.items.push_back({.path = "x",
                     .source = "/x",
                     .size = 0,
                     .sha256 = "",
                     .error = "permission denied",
                     .truncated = true,
                     .redactions = 0});
  auto back = parse_manifest(to_json(m));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(to_json(*back), to_json(m));
  EXPECT_EQ(back->since, m.since);
  EXPECT_FALSE(back->until);
  EXPECT_EQ(back->items[1].error, "permission denied");
  EXPECT_TRUE(back->items[1].truncated);
  EXPECT_EQ(back->items[0].redactions_by_rule, m.items[0].redactions_by_rule);
  EXPECT_EQ(back->notes, m.notes);
}

TEST(manifest, counts_per_rule_and_notes_are_optional_and_typed) {
  // As written before they existed: read as empty.
  const std::string old = R"({"format":1,"bundle_id":"","ticket":"","host":"","profile":"",
      "created_at":"","redactions":0,"items":[{"path":"a","source":"","size":0,"sha256":"",
      "error":"","truncated":false,"redactions":0}]})";
  auto m = parse_manifest(old);
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->items[0].redactions_by_rule.empty());
  EXPECT_TRUE(m->notes.empty());
  for (const std::string bad : {R"("redactions_by_rule":[])", R"("redactions_by_rule":{"a":-1})",
                                R"("redactions_by_rule":{"a":"1"})"}) {
    auto text = old;
    text.insert(text.find(R"("redactions":0}]})"), bad + ",");
    EXPECT_EQ(parse_manifest(text).error(), bundle_errc::manifest_invalid) << text;
  }
  for (const std::string bad : {R"("notes":"x",)", R"("notes":[1],)"}) {
    auto text = old;
    text.insert(1, bad);
    EXPECT_EQ(parse_manifest(text).error(), bundle_errc::manifest_invalid) << text;
  }
}

TEST(manifest, rejects_garbage_and_wrong_types) {
  for (const char* text : {"", "[]", "{", "{\"format\":1}", "not json",
                           R"({"format":2,"bundle_id":"","ticket":"","host":"","profile":"",
                              "created_at":"","redactions":0,"items":[]})",
                           R"({"format":1,"bundle_id":5,"ticket":"","host":"","profile":"",
                              "created_at":"","redactions":0,"items":[]})",
                           R"({"format":1,"bundle_id":"","ticket":"","host":"","profile":"",
                              "created_at":"","redactions":-1,"items":[]})",
                           R"({"format":1,"bundle_id":"","ticket":"","host":"","profile":"",
                              "created_at":"","redactions":0,"items":[{"path":1}]})",
                           // 2^32 + 1: must not wrap around to format 1.
                           R"({"format":4294967297,"bundle_id":"","ticket":"","host":"",
                              "profile":"","created_at":"","redactions":0,"items":[]})",
                           R"({"format":1,"bundle_id":"","ticket":"","host":"","profile":"",
                              "created_at":"","redactions":0,"items":{}})",
                           R"({"format":1,"bundle_id":"","ticket":"","host":"","profile":"",
                              "created_at":"","redactions":0,"items":[7]})"}) {
    EXPECT_EQ(parse_manifest(text).error(), bundle_errc::manifest_invalid) << text;
  }
}

// Items must have the shape to_json writes: the reader compares hashes as text.
TEST(manifest, rejects_malformed_items) {
  manifest m;
  m.items.push_back({.path = "a", .sha256 = std::string(64, 'a')});
  ASSERT_TRUE(parse_manifest(to_json(m)));
  for (const std::string& bad_hash :
       {std::string(63, 'a'), std::string(64, 'A'), std::string(64, 'g'), std::string(65, 'a')}) {
    m.items[0].sha256 = bad_hash;
    EXPECT_EQ(parse_manifest(to_json(m)).error(), bundle_errc::manifest_invalid) << bad_hash;
  }
  m.items[0] = {.path = "", .error = "lost"};
  EXPECT_EQ(parse_manifest(to_json(m)).error(), bundle_errc::manifest_invalid);
  m.items[0] = {.path = "a", .size = 1, .error = "permission denied"};
  EXPECT_TRUE(parse_manifest(to_json(m))) << "an item that was not stored has no hash";
}

TEST(manifest, keys_come_out_in_a_stable_order) {
  manifest m;
  m.items.push_back({.path = "a"});
  const auto json = to_json(m);
  EXPECT_EQ(json.rfind(R"({"format":1,"bundle_id":)", 0), 0u) << json;
  EXPECT_LT(json.find(R"("path")"), json.find(R"("sha256")"));
  EXPECT_EQ(to_json(*parse_manifest(json)), json);
}

TEST(manifest, creation_time_is_rfc3339_utc) {
  const auto t = now_rfc3339();
  ASSERT_EQ(t.size(), 20u) << t;
  EXPECT_EQ(t[4], '-');
  EXPECT_EQ(t[10], 'T');
  EXPECT_EQ(t.back(), 'Z');
}

TEST(manifest, bundle_ids_are_random_uuid_v4) {
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) {
    const auto id = new_bundle_id();
    ASSERT_EQ(id.size(), 36u);
    EXPECT_EQ(id[14], '4');
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 100u);
}

}  // namespace
