// Base64 as age uses it: canonical, unpadded in headers, padded in armor.
#include "base64.hpp"

#include "test_util.hpp"

namespace valise::crypto::test {
namespace {

using detail::base64_decode;
using detail::base64_encode;

TEST(base64, matches_rfc4648_vectors) {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, padded] : vectors) {
    std::string unpadded(padded);
    unpadded.erase(unpadded.find_last_not_of('=') + 1);
    EXPECT_EQ(base64_encode(bytes_of(plain), true), padded);
    EXPECT_EQ(base64_encode(bytes_of(plain), false), unpadded);
    EXPECT_EQ(base64_decode(padded, true), bytes_of(plain)) << padded;
    EXPECT_EQ(base64_decode(unpadded, false), bytes_of(plain)) << unpadded;
  }
}

TEST(base64, round_trips_every_length_and_byte) {
  for (std::size_t n = 0; n < 100; ++n) {
    const auto data = random_bytes(n);
    for (bool padded : {false, true}) {
      EXPECT_EQ(base64_decode(base64_encode(data, padded), padded), data) << n;
    }
  }
  std::vector<std::uint8_t> all(256);
  for (int i = 0; i < 256; ++i) all[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(i);
  EXPECT_EQ(base64_decode(base64_encode(all, false), false), all);
}

TEST(base64, unpadded_rejects_padding_and_non_canonical_input) {
  EXPECT_FALSE(base64_decode("Zg==", false));  // padding
  EXPECT_FALSE(base64_decode("Zm8=", false));
  EXPECT_FALSE(base64_decode("Zh", false));   // unused bits set: "Zg" is canonical
  EXPECT_FALSE(base64_decode("Zm9", false));  // "Zm8" is canonical
  EXPECT_FALSE(base64_decode("Z", false));    // a lone character cannot end a byte
  EXPECT_FALSE(base64_decode("Zm9vY", false));
  EXPECT_FALSE(base64_decode("Zm9v\n", false));  // newlines are not skipped
  EXPECT_FALSE(base64_decode("Zm 9v", false));
  EXPECT_FALSE(base64_decode("Zm-_", false));  // URL alphabet
}

TEST(base64, padded_rejects_missing_misplaced_or_non_canonical_padding) {
  EXPECT_FALSE(base64_decode("Zg", true));  // padding missing
  EXPECT_FALSE(base64_decode("Zg=", true));
  EXPECT_FALSE(base64_decode("Zh==", true));  // unused bits set
  EXPECT_FALSE(base64_decode("Zm9=", true));
  EXPECT_FALSE(base64_decode("Z===", true));
  EXPECT_FALSE(base64_decode("Z=g=", true));      // padding in the middle
  EXPECT_FALSE(base64_decode("Zg==Zg==", true));  // padding before the end
  EXPECT_FALSE(base64_decode("Zm9v====", true));
  EXPECT_TRUE(base64_decode("Zm9vYg==", true));
}

}  // namespace
}  // namespace valise::crypto::test
