// What a link may be made with, and the rules about seeing, terminating and
// metering uploads, as upload_policy decides them without a store.
#include "uploads/upload_policy.hpp"

#include <gtest/gtest.h>

#include "uploads/link_terms.hpp"

namespace valise::server::uploads {
namespace {

constexpr unix_time now = 1'800'000'000;
const std::string team_key = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";

server_config team_config() {
  server_config c;
  c.recipients = {team_key};
  c.link_expires_in = std::chrono::seconds(3600);
  c.link_max_bytes = 1000;
  return c;
}

TEST(UploadPolicy, ALinkTakesTheServersDefaultsAndTheTeamsKeys) {
  auto terms = link_terms_for({}, team_config(), now);
  ASSERT_TRUE(std::holds_alternative<link_terms>(terms));
  const auto& t = std::get<link_terms>(terms);
  EXPECT_EQ(t.mode, link_mode::recipients);
  EXPECT_EQ(t.recipients, std::vector<std::string>{team_key});
  EXPECT_EQ(t.expires_at, now + 3600);
  EXPECT_EQ(t.max_bytes, 1000u);

  auto asked = link_terms_for({.expires_in_s = 60, .max_bytes = 5}, team_config(), now);
  EXPECT_EQ(std::get<link_terms>(asked).expires_at, now + 60);
  EXPECT_EQ(std::get<link_terms>(asked).max_bytes, 5u);
}

TEST(UploadPolicy, LinkRefusals) {
  auto no_keys = link_terms_for({}, server_config{}, now);
  ASSERT_TRUE(std::holds_alternative<link_refusal>(no_keys));
  EXPECT_EQ(std::get<link_refusal>(no_keys).code, refusal::no_recipients);

  auto both = link_terms_for({.mode = "passphrase", .recipients = std::vector{team_key}},
                             team_config(), now);
  ASSERT_TRUE(std::holds_alternative<link_refusal>(both));
  EXPECT_EQ(std::get<link_refusal>(both).code, refusal::bad_request);

  auto passphrase = link_terms_for({.mode = "passphrase"}, server_config{}, now);
  ASSERT_TRUE(std::holds_alternative<link_terms>(passphrase));  // no keys needed
  EXPECT_TRUE(std::get<link_terms>(passphrase).recipients.empty());

  EXPECT_TRUE(
      std::holds_alternative<link_refusal>(link_terms_for({.mode = "x"}, team_config(), now)));
  auto zero = team_config();
  zero.link_max_bytes = 0;
  EXPECT_TRUE(std::holds_alternative<link_refusal>(link_terms_for({}, zero, now)));
}

TEST(UploadPolicy, LinksAndAgentsSeeOnlyTheirOwnUploads) {
  const upload_info u{.id = "upl_1", .owner_id = "lnk_a"};
  EXPECT_TRUE(upload_policy::may_see({.kind = role::upload_link, .id = "lnk_a"}, u));
  EXPECT_FALSE(upload_policy::may_see({.kind = role::upload_link, .id = "lnk_b"}, u));
  EXPECT_FALSE(upload_policy::may_see({.kind = role::agent, .id = "agt_1"}, u));
  EXPECT_TRUE(upload_policy::may_see({.kind = role::technician, .id = "tok_1"}, u));
  EXPECT_TRUE(upload_policy::may_see({.kind = role::admin, .id = "tok_2"}, u));
}

TEST(UploadPolicy, OnlyALinksDeferredUploadIsMetered) {
  EXPECT_EQ(upload_policy::metered_floor({.owner_id = "lnk_a"}), smallest_age_file);
  EXPECT_EQ(upload_policy::metered_floor({.owner_id = "lnk_a", .length = 100}), std::nullopt);
  EXPECT_EQ(upload_policy::metered_floor({.owner_id = "tok_1"}), std::nullopt);
}

TEST(UploadPolicy, ACompleteUploadIsNotTerminated) {
  EXPECT_TRUE(upload_policy::may_terminate({.status = tus::upload_status::receiving}));
  auto done =
      upload_policy::may_terminate({.id = "upl_1", .status = tus::upload_status::completed});
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().code, tus::error::forbidden);
}

TEST(UploadPolicy, RefusalsHaveTheirOwnCategory) {
  std::error_code ec = refusal::quota_exceeded;
  EXPECT_EQ(&ec.category(), &refusal_category());
  EXPECT_EQ(ec.message(), "over the owner's upload budget");
}

TEST(UploadPolicy, AFilenameIsShownNeverTrusted) {
  EXPECT_EQ(upload_policy::filename({{"filename", "a.age"}, {"name", "b.age"}}), "a.age");
  EXPECT_EQ(upload_policy::filename({{"name", "b.age"}}), "b.age");
  EXPECT_EQ(upload_policy::filename({}), "upload.age");
  EXPECT_EQ(upload_policy::filename({{"filename", "a\nb\x7f.age"}}), "a_b_.age");
  EXPECT_EQ(upload_policy::filename({{"filename", std::string(300, 'x')}}).size(), 255u);
}

TEST(UploadPolicy, AMeteredUploadsFloorIsTheSmallestAgeFile) {
  EXPECT_EQ(upload_policy::metered_floor_bytes, smallest_age_file);
}

}  // namespace
}  // namespace valise::server::uploads
