#include "tus/tus_headers.hpp"

#include <gtest/gtest.h>

namespace valise::server::tus {
namespace {

TEST(TusSize, AcceptsPlainDecimalsOnly) {
  EXPECT_EQ(parse_size("0"), 0u);
  EXPECT_EQ(parse_size("1073741824"), 1073741824u);
  EXPECT_FALSE(parse_size(""));
  EXPECT_FALSE(parse_size("-1"));
  EXPECT_FALSE(parse_size("+1"));
  EXPECT_FALSE(parse_size(" 1"));
  EXPECT_FALSE(parse_size("1e3"));
  EXPECT_FALSE(parse_size("99999999999999999999"));  // overflow
}

TEST(TusMetadata, ParsesTheSpecExample) {
  auto m = parse_metadata("filename d29ybGRfZG9taW5hdGlvbl9wbGFuLnBkZg==,is_confidential");
  ASSERT_TRUE(m);
  EXPECT_EQ(find(*m, "filename"), "world_domination_plan.pdf");
  EXPECT_EQ(find(*m, "is_confidential"), "");
  EXPECT_FALSE(find(*m, "ticket"));
}

TEST(TusMetadata, RoundTripsAndToleratesUnpaddedValues) {
  metadata m{{"filename", "logs.age"}, {"ticket", "T-42"}};
  auto parsed = parse_metadata(format_metadata(m));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*parsed, m);
  EXPECT_EQ(find(*parse_metadata("name YQ"), "name"), "a");
  EXPECT_TRUE(parse_metadata("")->empty());
}

TEST(TusMetadata, RefusesMalformedValues) {
  EXPECT_FALSE(parse_metadata("filename !!!"));
  EXPECT_FALSE(parse_metadata("a YQ==,a Yg=="));  // duplicate key
  EXPECT_FALSE(parse_metadata(",a YQ=="));        // empty key
  EXPECT_FALSE(parse_metadata("a YQ== Yg=="));    // two values
}

TEST(TusChecksum, ParsesSha1AndSha256) {
  auto [sha1, p1] = parse_checksum("sha1 Kq5sNclPz7QV2+lfQIuc6R7oRu0=");
  ASSERT_TRUE(sha1);
  EXPECT_EQ(sha1->algorithm, checksum_algorithm::sha1);
  EXPECT_EQ(sha1->digest.size(), 20u);
  auto [sha256, p2] = parse_checksum("sha256 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
  ASSERT_TRUE(sha256);
  EXPECT_EQ(sha256->digest.size(), 32u);
}

TEST(TusChecksum, NamesWhatIsWrong) {
  EXPECT_EQ(parse_checksum("md5 1B2M2Y8AsgTpgAmY7PhCfg==").second,
            checksum_problem::unsupported_algorithm);
  EXPECT_EQ(parse_checksum("sha256").second, checksum_problem::malformed);
  EXPECT_EQ(parse_checksum("sha256 Kq5sNclPz7QV2+lfQIuc6R7oRu0=").second,
            checksum_problem::malformed);  // a SHA-1 sized digest
}

TEST(AgePrefix, DecidesAsSoonAsTheBytesAllow) {
  EXPECT_EQ(check_age_prefix(""), age_prefix::undecided);
  EXPECT_EQ(check_age_prefix("age-enc"), age_prefix::undecided);
  EXPECT_EQ(check_age_prefix("age-encryption.org/v1\n-> X25519"), age_prefix::age);
  EXPECT_EQ(check_age_prefix("-----BEGIN AGE"), age_prefix::undecided);
  EXPECT_EQ(check_age_prefix("-----BEGIN AGE ENCRYPTED FILE-----\n"), age_prefix::age);
  EXPECT_EQ(check_age_prefix("P"), age_prefix::not_age);
  EXPECT_EQ(check_age_prefix("age-encryption.org/v2\n"), age_prefix::not_age);
  EXPECT_EQ(check_age_prefix("-----BEGIN PGP MESSAGE-----"), age_prefix::not_age);
}

TEST(HttpDate, IsImfFixdate) {
  EXPECT_EQ(http_date(1403712000), "Wed, 25 Jun 2014 16:00:00 GMT");
}

}  // namespace
}  // namespace valise::server::tus
