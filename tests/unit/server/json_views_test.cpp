// The API's spelling of profile names, recipients and requests (times are common/'s rfc3339).
#include "api/json_views.hpp"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "valise/server/config.hpp"

namespace valise::server {
namespace {

TEST(Names, ProfilesAndRecipients) {
  EXPECT_TRUE(valid_profile_name("base"));
  EXPECT_TRUE(valid_profile_name("web-1.logs_v2"));
  EXPECT_TRUE(valid_profile_name(std::string(64, 'p')));
  EXPECT_FALSE(valid_profile_name(std::string(65, 'p')));
  EXPECT_FALSE(valid_profile_name(""));
  EXPECT_FALSE(valid_profile_name("../etc"));
  EXPECT_FALSE(valid_profile_name("a b"));
  EXPECT_FALSE(valid_profile_name("rm;-rf"));
}

TEST(Views, AgeRecipientsAreCheckedAndMadeCanonical) {
  const std::string key = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";
  EXPECT_EQ(canonical_age_recipient(key), key);
  // age accepts a key written in capitals; it is stored as age-keygen prints it.
  EXPECT_EQ(
      canonical_age_recipient("AGE1QL3Z7HJY54PW3HYWW5AYYFG7ZQGVC7W3J2ELW8ZMRJ2KG5SFN9AQMCAC8P"),
      key);
  // One character changed: the bech32 checksum fails.
  EXPECT_EQ(
      canonical_age_recipient("age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8q"),
      std::nullopt);
  EXPECT_EQ(canonical_age_recipient("age1b"), std::nullopt);
  EXPECT_EQ(canonical_age_recipient("ssh-ed25519 AAAA"), std::nullopt);
  auto listed = canonical_age_recipients(
      {key, "AGE1QL3Z7HJY54PW3HYWW5AYYFG7ZQGVC7W3J2ELW8ZMRJ2KG5SFN9AQMCAC8P"});
  ASSERT_TRUE(listed);
  EXPECT_EQ(*listed, std::vector<std::string>{key});
  auto bad = canonical_age_recipients({key, "age1b"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), "age1b");
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
