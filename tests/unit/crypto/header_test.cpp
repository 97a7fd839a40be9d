// The header codec: canonical round trips, incremental parsing, strictness.
#include "header.hpp"

#include "base64.hpp"
#include "bytes.hpp"
#include "test_util.hpp"

namespace valise::crypto::test {
namespace {

using detail::encode_header_without_mac;
using detail::encode_mac_line;
using detail::parse_header;

std::array<std::uint8_t, 32> test_mac() {
  std::array<std::uint8_t, 32> mac{};
  for (std::size_t i = 0; i < mac.size(); ++i) mac[i] = static_cast<std::uint8_t>(i * 7);
  return mac;
}

std::string encode(const std::vector<stanza>& stanzas) {
  return encode_header_without_mac(stanzas) + encode_mac_line(test_mac());
}

valise::result<std::optional<detail::header>> parse(std::string_view text) {
  return parse_header(detail::as_bytes(text));
}

std::error_code parse_error(std::string_view text) {
  auto r = parse(text);
  if (!r) return r.error();
  return *r ? std::error_code() : make_error_code(std::errc::resource_unavailable_try_again);
}

const std::string good_line = "age-encryption.org/v1\n";
const std::string mac_line = "--- " + detail::base64_encode(test_mac(), false) + "\n";

TEST(header, round_trips_bodies_of_every_line_shape) {
  std::vector<stanza> stanzas;
  for (std::size_t size : {0, 1, 32, 47, 48, 49, 96, 200}) {
    stanzas.push_back({"t" + std::to_string(size), {"a", "b+/="}, random_bytes(size)});
  }
  stanzas.push_back({"no-args", {}, random_bytes(5)});
  const auto text = encode(stanzas);
  const auto payload = std::string("\x01\x02payload", 9);
  auto parsed = parse(text + payload);  // the payload after it is left alone
  ASSERT_TRUE(parsed) << parsed.error().message();
  ASSERT_TRUE(*parsed);
  const auto& h = **parsed;
  EXPECT_EQ(h.size, text.size());
  EXPECT_EQ(h.mac_input_size, encode_header_without_mac(stanzas).size());
  EXPECT_EQ(text.substr(h.mac_input_size - 3, 3), "---");
  EXPECT_EQ(h.mac, test_mac());
  ASSERT_EQ(h.stanzas.size(), stanzas.size());
  for (std::size_t i = 0; i < stanzas.size(); ++i) {
    EXPECT_EQ(h.stanzas[i].type, stanzas[i].type);
    EXPECT_EQ(h.stanzas[i].args, stanzas[i].args);
    EXPECT_EQ(h.stanzas[i].body, stanzas[i].body);
  }
  EXPECT_EQ(encode(h.stanzas), text);
}

TEST(header, body_of_48_bytes_ends_with_an_empty_line) {
  const auto text = encode_header_without_mac(std::vector<stanza>{{"x", {}, random_bytes(48)}});
  const auto lines = text.substr(good_line.size());
  EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 3);  // arg, full, empty
  EXPECT_NE(text.find("\n\n---"), std::string::npos);
}

TEST(header, every_prefix_asks_for_more_input) {
  const auto text = encode(
      std::vector<stanza>{{"X25519", {"abc"}, random_bytes(60)}, {"other", {}, random_bytes(48)}});
  for (std::size_t k = 0; k < text.size(); ++k) {
    auto r = parse(std::string_view(text).substr(0, k));
    ASSERT_TRUE(r) << k << ": " << r.error().message();
    EXPECT_FALSE(*r) << k;
  }
}

TEST(header, classifies_bad_version_lines) {
  EXPECT_EQ(parse_error("PK\x03\x04"), errc::not_age_file);
  EXPECT_EQ(parse_error("age\n"), errc::not_age_file);
  EXPECT_EQ(parse_error("\xef\xbb\xbf"
                        "age-encryption.org/v1\n"),
            errc::not_age_file);
  EXPECT_EQ(parse_error("age-encryption.org/v2\n-> x\n\n" + mac_line), errc::unsupported_version);
  EXPECT_EQ(parse_error("age-encryption.org/v1.1\n"), errc::unsupported_version);
  EXPECT_EQ(parse_error("age-encryption.org/\n"), errc::malformed_header);
  EXPECT_EQ(parse_error("age-encryption.org/v1\r\n"), errc::malformed_header);
  EXPECT_EQ(parse_error("age-encryption.org/v1 \n"), errc::malformed_header);
}

TEST(header, rejects_malformed_stanzas_and_mac_lines) {
  const std::string stanza = "-> X25519 abc\nAAAA\n";
  const std::string bad[] = {
      good_line + mac_line,                                             // no stanza
      good_line + "->X25519\nAAAA\n" + mac_line,                        // no space after ->
      good_line + "-> \nAAAA\n" + mac_line,                             // no type
      good_line + "-> a  b\nAAAA\n" + mac_line,                         // empty argument
      good_line + "-> a b \nAAAA\n" + mac_line,                         // trailing space
      good_line + "-> a\tb\nAAAA\n" + mac_line,                         // not VCHAR
      good_line + "-> a\n" + mac_line,                                  // no body line
      good_line + "-> a\n" + std::string(64, 'A') + "\n" + mac_line,    // no final short line
      good_line + "-> a\n" + std::string(65, 'A') + "\n\n" + mac_line,  // line too long
      good_line + "-> a\nAAAA\nAAAA\n" + mac_line,                      // two short lines
      good_line + "-> a\nAA==\n" + mac_line,                            // padding
      good_line + "-> a\nAB\n" + mac_line,                              // non-canonical
      good_line + "-> a\nAAAA\r\n" + mac_line,                          // CRLF
      good_line + stanza + "garbage\n" + mac_line,                      // unknown line
      good_line + stanza + "---\n",                                     // no MAC
      good_line + stanza + "---" + mac_line.substr(3, 40) + "\n",       // MAC too short
      good_line + stanza + "---  " + mac_line.substr(4),                // two spaces
      good_line + stanza + "--- " + mac_line.substr(4, 43) + " \n",     // trailing space
      good_line + stanza + "---" + mac_line.substr(4),                  // no space
      good_line + stanza + "--- " + mac_line.substr(4, 42) + "B\n",     // non-canonical MAC
  };
  for (const auto& text : bad) {
    EXPECT_EQ(parse_error(text), errc::malformed_header) << text;
  }
  EXPECT_FALSE(parse_error(good_line + stanza + mac_line));  // the control case parses
}

TEST(header, fails_early_on_an_incomplete_line_that_cannot_be_valid) {
  // Each input lacks its final LF: waiting for more could not make it valid.
  EXPECT_EQ(parse_error("GIF89a"), errc::not_age_file);
  EXPECT_EQ(parse_error("age-encryption.org/v1\r"), errc::malformed_header);
  EXPECT_EQ(parse_error(good_line + "-> a\n" + std::string(65, 'A')), errc::malformed_header);
  EXPECT_EQ(parse_error(good_line + "-> a\nAA=A"), errc::malformed_header);
  EXPECT_EQ(parse_error(good_line + "x"), errc::malformed_header);
  EXPECT_EQ(parse_error(good_line + "---"), errc::malformed_header);  // no stanza before
  EXPECT_EQ(parse_error(good_line + "-> a\n\n" + mac_line.substr(0, 47) + "x"),
            errc::malformed_header);  // the MAC line is already too long
}

TEST(header, validates_stanzas_before_encoding) {
  EXPECT_TRUE(detail::is_valid_stanza({"X25519", {"abc"}, {}}));
  EXPECT_FALSE(detail::is_valid_stanza({"", {}, {}}));
  EXPECT_FALSE(detail::is_valid_stanza({"a b", {}, {}}));
  EXPECT_FALSE(detail::is_valid_stanza({"a", {""}, {}}));
  EXPECT_FALSE(detail::is_valid_stanza({"a", {"x\n"}, {}}));
}

}  // namespace
}  // namespace valise::crypto::test
