// The API's spelling of times, profile names, recipients and requests.
#include "api/json_views.hpp"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

namespace valise::server {
namespace {

TEST(Rfc3339, UtcOffsetsAndFractionsParseToTheSameInstant) {
  EXPECT_EQ(parse_rfc3339("2026-11-22T14:03:07Z"), 1795356187);
  EXPECT_EQ(parse_rfc3339("2026-11-22T15:03:07+01:00"), 1795356187);
  EXPECT_EQ(parse_rfc3339("2026-11-22T13:33:07.250-00:30"), 1795356187);
  EXPECT_EQ(rfc3339(*parse_rfc3339("1970-01-01T00:00:00Z")), "1970-01-01T00:00:00Z");
  for (const char* bad : {"", "2026-11-22", "2026-11-22 14:03:07Z", "2026-11-22T14:03:07",
                          "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-11-22T24:00:00Z",
                          "2026-11-22T14:03:07Zjunk", "2026-11-22T14:03:07.Z", "yesterday"})
    EXPECT_FALSE(parse_rfc3339(bad)) << bad;
}

TEST(Names, ProfilesAndRecipients) {
  EXPECT_TRUE(valid_profile_name("base"));
  EXPECT_TRUE(valid_profile_name("web-1.logs_v2"));
  EXPECT_TRUE(valid_profile_name(std::string(64, 'p')));
  EXPECT_FALSE(valid_profile_name(std::string(65, 'p')));
  EXPECT_FALSE(valid_profile_name(""));
  EXPECT_FALSE(valid_profile_name("../etc"));
  EXPECT_FALSE(valid_profile_name("a b"));
  EXPECT_FALSE(valid_profile_name("rm;-rf"));
  EXPECT_TRUE(
      valid_age_recipient("age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"));
  EXPECT_FALSE(
      valid_age_recipient("AGE1QL3Z7HJY54PW3HYWW5AYYFG7ZQGVC7W3J2ELW8ZMRJ2KG5SFN9AQMCAC8P"));
  EXPECT_FALSE(valid_age_recipient("age1b"));
  EXPECT_FALSE(valid_age_recipient("ssh-ed25519 AAAA"));
}

TEST(Views, RequestsSayWhatIsNotThereWithNull) {
  request_info r{.id = "req_1",
                 .ticket_ref = "T-1",
                 .agent_id = "agt_1",
                 .profile = "base",
                 .since = 0,
                 .created_at = 0,
                 .updated_at = 0};
  EXPECT_EQ(boost::json::serialize(to_json(r)),
            R"({"id":"req_1","ticket":"T-1","agent":"agt_1","profile":"base",)"
            R"("since":"1970-01-01T00:00:00Z","until":null,"recipients":[],"state":"queued",)"
            R"("bundle_id":null,"error":null,"created_at":"1970-01-01T00:00:00Z",)"
            R"("updated_at":"1970-01-01T00:00:00Z"})");
  EXPECT_EQ(boost::json::serialize(job_json(r)),
            R"({"id":"req_1","ticket":"T-1","profile":"base","since":"1970-01-01T00:00:00Z",)"
            R"("until":null,"recipients":[]})");
}

}  // namespace
}  // namespace valise::server
