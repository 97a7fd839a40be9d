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
  m.items.push_back({.path = "var/log/syslog",
                     .source = "/var/log/syslog",
                     .size = 10,
                     .sha256 = std::string(64, 'a'),
                     .error = "",
                     .truncated = false,
                     .redactions = 3});
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
                              "created_at":"","redactions":0,"items":[{"path":1}]})"}) {
    EXPECT_EQ(parse_manifest(text).error(), bundle_errc::manifest_invalid) << text;
  }
}

TEST(manifest, bundle_ids_are_random_uuid_v4) {
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) {
    const auto id = new_bundle_id();
    ASSERT_EQ(id.size(), 36u);
    EXPECT_EQ(id[14], '4');
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 100u);
}

TEST(archive_path, relative_kept_absolute_stripped_escapes_rooted) {
  EXPECT_EQ(*archive_path_for("logs/app/"), "logs/app");
  EXPECT_EQ(*archive_path_for("./logs//x.log"), "logs/x.log");
  EXPECT_EQ(*archive_path_for("/var/log/syslog"), "var/log/syslog");
  const auto up = archive_path_for("../x");
  ASSERT_TRUE(up);
  EXPECT_EQ(up->find(".."), std::string::npos);
  EXPECT_EQ(archive_path_for("manifest.json").error(), bundle_errc::unsafe_path);
}

}  // namespace
