// Identity and recipients files in age-keygen's format.
#include <regex>

#include "test_util.hpp"

namespace valise::crypto::test {
namespace {

TEST(key_files, identity_file_has_age_keygen_lines_and_parses_back) {
  const auto id = x25519_identity::generate();
  const auto text = format_identity_file(id);
  const std::regex layout(
      "# created: \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\n"
      "# public key: age1[02-9ac-hj-np-z]{58}\n"
      "AGE-SECRET-KEY-1[02-9AC-HJ-NP-Z]{58}\n");
  EXPECT_TRUE(std::regex_match(text, layout)) << text;
  EXPECT_NE(text.find("# public key: " + id.to_recipient().to_string() + "\n"), std::string::npos);
  auto parsed = parse_identity_file(text);
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->size(), 1u);
  EXPECT_EQ(parsed->front().to_string(), id.to_string());
}

TEST(key_files, identity_file_accepts_comments_blank_lines_crlf_and_several_keys) {
  const auto a = x25519_identity::generate(), b = x25519_identity::generate();
  const auto text = "# a comment\r\n\r\n" + a.to_string() + "\r\n\n#x\n" + b.to_string();
  auto parsed = parse_identity_file(text);
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_EQ((*parsed)[1].to_string(), b.to_string());
}

TEST(key_files, identity_file_rejects_anything_else) {
  const auto key = x25519_identity::generate().to_string();
  for (const std::string& text :
       {std::string(), std::string("# only a comment\n"), key + "\nnot a key\n", " " + key,
        key + " ", x25519_identity::generate().to_recipient().to_string()}) {
    EXPECT_EQ(parse_identity_file(text).error(), errc::invalid_identity) << text;
  }
}

TEST(key_files, recipients_file) {
  const auto a = x25519_identity::generate().to_recipient();
  const auto b = x25519_identity::generate().to_recipient();
  auto parsed = parse_recipients_file("# team\n" + a.to_string() + "\n\n" + b.to_string() + "\n");
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_EQ((*parsed)[0].to_string(), a.to_string());
  EXPECT_EQ(parse_recipients_file("age1nope\n").error(), errc::invalid_recipient);
  EXPECT_EQ(parse_recipients_file("\n# none\n").error(), errc::invalid_recipient);
}

}  // namespace
}  // namespace valise::crypto::test
