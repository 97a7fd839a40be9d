// Bech32 (BIP 173 without the length limit) and the age key encodings on it.
#include "bech32.hpp"

#include "test_util.hpp"

namespace valise::crypto::test {
namespace {

using detail::bech32_decode;
using detail::bech32_encode;

// From age.md: an X25519 identity and its recipient.
constexpr std::string_view spec_identity =
    "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX";
constexpr std::string_view spec_recipient =
    "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj";

TEST(bech32, accepts_bip173_valid_strings) {
  for (const char* s : {"A12UEL5L", "a12uel5l", "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
                        "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w"}) {
    EXPECT_TRUE(bech32_decode(s)) << s;
  }
  EXPECT_EQ(bech32_decode("A12UEL5L")->hrp, "A");  // the case is kept for the caller
}

TEST(bech32, rejects_bip173_invalid_strings) {
  for (const char* s : {"pzry9x8gf2tvdw0s3jn54khce6mua7l",   // no separator
                        "1pzry9x8gf2tvdw0s3jn54khce6mua7l",  // empty HRP
                        "x1b4n0q5v",                         // 'b' is not in the charset
                        "li1dgmt3",                          // checksum too short
                        "A1G7SGD8",                          // checksum over upper case
                        "A12uEL5L",                          // mixed case
                        "a12uel5m",                          // checksum mismatch
                        "a 12uel5l"}) {                      // out-of-range character
    EXPECT_FALSE(bech32_decode(s)) << s;
  }
}

TEST(bech32, round_trips_long_data) {
  const auto data = random_bytes(200);  // beyond BIP 173's 90 characters
  const auto text = bech32_encode("age", data);
  EXPECT_GT(text.size(), 90u);
  const auto decoded = bech32_decode(text);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->hrp, "age");
  EXPECT_EQ(decoded->data, data);
}

TEST(bech32, spec_key_pair_matches) {
  const auto id = x25519_identity::parse(spec_identity);
  ASSERT_TRUE(id);
  EXPECT_EQ(id->to_string(), spec_identity);
  EXPECT_EQ(id->to_recipient().to_string(), spec_recipient);
  const auto r = x25519_recipient::parse(spec_recipient);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->to_string(), spec_recipient);
}

TEST(bech32, keys_reject_wrong_type_case_and_checksum) {
  std::string flipped(spec_recipient);
  flipped.back() = 'q';
  std::string mixed(spec_recipient);
  mixed.back() = 'J';
  std::string upper(spec_recipient);
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string lower(spec_identity);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));

  EXPECT_EQ(x25519_recipient::parse(flipped).error(), errc::invalid_recipient);
  EXPECT_EQ(x25519_recipient::parse(mixed).error(), errc::invalid_recipient);
  EXPECT_EQ(x25519_recipient::parse(upper).error(), errc::invalid_recipient);  // as age
  EXPECT_EQ(x25519_recipient::parse(spec_identity).error(), errc::invalid_recipient);
  EXPECT_EQ(x25519_recipient::parse(bech32_encode("age", random_bytes(31))).error(),
            errc::invalid_recipient);
  EXPECT_EQ(x25519_identity::parse(spec_recipient).error(), errc::invalid_identity);
  EXPECT_EQ(x25519_identity::parse(lower).error(), errc::invalid_identity);  // as age
  EXPECT_EQ(x25519_identity::parse("").error(), errc::invalid_identity);
}

}  // namespace
}  // namespace valise::crypto::test
