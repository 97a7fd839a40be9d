// HMAC-SHA-256 (RFC 4231) and HKDF-SHA-256 (RFC 5869, appendix A) vectors.
#include "hkdf.hpp"

#include "test_util.hpp"

namespace valise::crypto::test {
namespace {

std::string info_of(const std::vector<std::uint8_t>& v) {
  return {v.begin(), v.end()};
}

std::vector<std::uint8_t> range(int first, int last) {
  std::vector<std::uint8_t> v;
  for (int i = first; i <= last; ++i) v.push_back(static_cast<std::uint8_t>(i));
  return v;
}

TEST(hmac_sha256, matches_rfc4231_case_1) {
  std::array<std::uint8_t, 32> mac{};
  detail::hmac_sha256(std::vector<std::uint8_t>(20, 0x0b), bytes_of("Hi There"), mac);
  EXPECT_EQ(hex(mac), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST(hkdf_sha256, matches_rfc5869_case_1) {
  std::vector<std::uint8_t> okm(42);
  detail::hkdf_sha256(std::vector<std::uint8_t>(22, 0x0b), range(0x00, 0x0c),
                      info_of(range(0xf0, 0xf9)), okm);
  EXPECT_EQ(hex(okm),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST(hkdf_sha256, matches_rfc5869_case_2_long_inputs) {
  std::vector<std::uint8_t> okm(82);
  detail::hkdf_sha256(range(0x00, 0x4f), range(0x60, 0xaf), info_of(range(0xb0, 0xff)), okm);
  EXPECT_EQ(hex(okm),
            "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
            "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
            "cc30c58179ec3e87c14c01d5c1f3434f1d87");
}

TEST(hkdf_sha256, matches_rfc5869_case_3_empty_salt_and_info) {
  std::vector<std::uint8_t> okm(42);
  detail::hkdf_sha256(std::vector<std::uint8_t>(22, 0x0b), {}, "", okm);
  EXPECT_EQ(hex(okm),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

}  // namespace
}  // namespace valise::crypto::test
