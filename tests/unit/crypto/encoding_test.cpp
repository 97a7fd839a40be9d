// The pure codecs under the age format: base64, Bech32, HKDF, header.
#include "encoding.hpp"

#include <gtest/gtest.h>

#include "header.hpp"
#include "kdf.hpp"

using namespace valise::crypto;
using namespace valise::crypto::detail;

namespace {

std::vector<std::uint8_t> bytes_of(std::string_view s) {
  return {s.begin(), s.end()};
}

std::string hex(std::span<const std::uint8_t> data) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (auto b : data) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

std::vector<std::uint8_t> unhex(std::string_view h) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i < h.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

TEST(base64, round_trips_every_length) {
  for (std::size_t n = 0; n < 70; ++n) {
    std::vector<std::uint8_t> data(n);
    for (std::size_t i = 0; i < n; ++i) data[i] = static_cast<std::uint8_t>(i * 37 + 11);
    for (bool padded : {false, true}) {
      const auto text = base64_encode(data, padded);
      EXPECT_EQ(base64_decode(text, padded), data) << n << " padded=" << padded;
    }
  }
}

TEST(base64, rejects_non_canonical_and_wrong_padding) {
  EXPECT_EQ(base64_encode(bytes_of("f"), false), "Zg");
  EXPECT_EQ(base64_encode(bytes_of("f"), true), "Zg==");
  EXPECT_FALSE(base64_decode("Zh", false));    // non-zero trailing bits
  EXPECT_FALSE(base64_decode("Zg==", false));  // padding where none is allowed
  EXPECT_FALSE(base64_decode("Zg", true));     // padding missing
  EXPECT_FALSE(base64_decode("Z", false));     // impossible length
  EXPECT_FALSE(base64_decode("Zg!a", false));  // bad character
  EXPECT_FALSE(base64_decode("Z=g=", true));   // padding in the middle
}

TEST(bech32, decodes_the_spec_recipient_and_identity) {
  // From age.md: the X25519 identity and its recipient.
  const auto id = x25519_identity::parse(
      "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->to_recipient().to_string(),
            "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj");
  EXPECT_EQ(id->to_string(),
            "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX");
}

TEST(bech32, rejects_mixed_case_and_bad_checksum) {
  EXPECT_FALSE(
      x25519_recipient::parse("age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwJ"));
  EXPECT_FALSE(
      x25519_recipient::parse("age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwq"));
  EXPECT_FALSE(x25519_recipient::parse("age1"));
  EXPECT_FALSE(
      x25519_identity::parse("age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj"));
}

TEST(hkdf, matches_rfc5869_test_case_1) {
  const auto ikm = unhex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");
  const auto salt = unhex("000102030405060708090a0b0c");
  const auto info = unhex("f0f1f2f3f4f5f6f7f8f9");
  std::vector<std::uint8_t> okm(42);
  hkdf_sha256(ikm, salt, {reinterpret_cast<const char*>(info.data()), info.size()}, okm);
  EXPECT_EQ(hex(okm),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST(header, encode_then_parse_round_trips) {
  std::vector<stanza> stanzas{{"X25519", {"abc"}, std::vector<std::uint8_t>(32, 7)},
                              {"other", {"a", "b"}, std::vector<std::uint8_t>(48, 1)},
                              {"empty", {}, {}}};
  std::string text = encode_header_without_mac(stanzas);
  std::array<std::uint8_t, 32> mac{};
  mac[0] = 9;
  const auto mac_input = text.size();
  text += encode_mac_line(mac);
  ASSERT_EQ(find_header_end(text), text.size());
  auto parsed = parse_header(text);
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(parsed->mac_input_size, mac_input);
  EXPECT_EQ(parsed->mac, mac);
  ASSERT_EQ(parsed->stanzas.size(), 3u);
  EXPECT_EQ(parsed->stanzas[1].args, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(parsed->stanzas[1].body.size(), 48u);  // exactly one full 64-column line
  EXPECT_TRUE(parsed->stanzas[2].body.empty());
}

TEST(header, classifies_bad_starts) {
  EXPECT_EQ(parse_header("PK\x03\x04").error(), errc::not_age_file);
  EXPECT_EQ(parse_header("age-encryption.org/v2\n--- x\n").error(), errc::unsupported_version);
  EXPECT_EQ(parse_header("age-encryption.org/v1\n---\n").error(), errc::malformed_header);
  EXPECT_FALSE(find_header_end("age-encryption.org/v1\n-> X25519 a\n"));
}

}  // namespace
