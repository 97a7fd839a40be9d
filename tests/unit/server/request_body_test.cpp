#include "api/request_body.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace valise::server {
namespace {

namespace json = boost::json;

constexpr std::uint64_t int64_max = 9223372036854775807ull;

json::object body(const char* text) {
  return json::parse(text).as_object();
}

std::string message(const std::optional<response>& problem) {
  return problem ? json::parse(problem->body()).at("message").as_string().c_str() : "";
}

TEST(ParseBounded, DigitsWithinTheRangeOnly) {
  EXPECT_EQ(parse_bounded("0", {}), 0u);
  EXPECT_EQ(parse_bounded("9223372036854775807", {}), int64_max);
  EXPECT_EQ(parse_bounded("60", {0, 60}), 60u);
  for (const char* bad :
       {"", "-1", "+1", " 1", "1 ", "1.0", "1e3", "0x10", "61", "9223372036854775808",
        "18446744073709551615", "18446744073709551616", "99999999999999999999999999"})
    EXPECT_FALSE(parse_bounded(bad, {0, bad == std::string("61") ? 60 : int64_max})) << bad;
  EXPECT_FALSE(parse_bounded("0", {1, 10}));
}

TEST(NumberField, RefusesWhatIsNotAnIntegerInRangeNamingFieldAndRange) {
  for (const char* text :
       {R"({"n": 18446744073709551615})", R"({"n": 9223372036854775808})", R"({"n": 1e30})",
        R"({"n": 1.5})", R"({"n": 10.0})", R"({"n": -1})", R"({"n": 0})", R"({"n": "10"})",
        R"({"n": true})", R"({"n": [1]})", R"({"n": {}})", R"({"n": 100000000000000000000000})"}) {
    std::optional<response> problem;
    EXPECT_FALSE(number_field(body(text), "n", {.min = 1}, problem)) << text;
    ASSERT_TRUE(problem) << text;
    EXPECT_EQ(problem->result(), http::status::bad_request);
    EXPECT_EQ(message(problem), "n must be an integer from 1 to 9223372036854775807") << text;
  }
}

TEST(NumberField, AbsentIsNulloptAndTheBoundsAreKept) {
  std::optional<response> problem;
  EXPECT_FALSE(number_field(body(R"({"n": null})"), "n", {}, problem));
  EXPECT_FALSE(number_field(body("{}"), "n", {}, problem));
  EXPECT_EQ(number_field(body(R"({"n": 9223372036854775807})"), "n", {}, problem), int64_max);
  EXPECT_EQ(number_field(body(R"({"n": 7})"), "n", {7, 7}, problem), 7u);
  EXPECT_FALSE(problem);
}

TEST(NumberField, TheFirstProblemIsTheOneAnswered) {
  std::optional<response> problem;
  auto o = body(R"({"a": -1, "b": "x"})");
  (void)number_field(o, "a", {}, problem);
  (void)string_field(body(R"({"b": 1})"), "b", problem);
  EXPECT_NE(message(problem).find("a must be"), std::string::npos);
}

TEST(FreeOfControls, RefusesC0DelAndC1KeepsOtherUnicode) {
  EXPECT_TRUE(free_of_controls("Caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xe2\x80\x94 100 % \"q\""));
  EXPECT_TRUE(free_of_controls("\xc2\xa0 nbsp and \xc2\xbf"));
  for (std::string bad :
       {std::string("a\0b", 3), std::string("\x1b[31m"), std::string("a\nb"), std::string("a\rb"),
        std::string("a\tb"), std::string("a\x7f"), std::string("a\xc2\x85"),
        std::string("\xc2\x9b"), std::string("\xc2\x80")})
    EXPECT_FALSE(free_of_controls(bad)) << bad;
}

TEST(TextField, NamesTheFieldForControlsTypeAndLength) {
  std::optional<response> problem;
  EXPECT_FALSE(text_field(body(R"({"title": "a\u001bb"})"), "title", {1, 500}, problem));
  EXPECT_NE(message(problem).find("title must not contain control characters"), std::string::npos);
  problem.reset();
  EXPECT_FALSE(text_field(body(R"({"title": ""})"), "title", {1, 500}, problem));
  EXPECT_EQ(message(problem), "title must be 1 to 500 characters");
  problem.reset();
  EXPECT_FALSE(text_field(body(R"({"os": 5})"), "os", {0, 255}, problem));
  EXPECT_EQ(message(problem), "os must be a string");
  problem.reset();
  // Characters, not bytes: 255 three-byte characters fit in 255.
  std::string wide = R"({"os": ")";
  for (int i = 0; i < 255; ++i) wide += "\xe6\x97\xa5";
  EXPECT_TRUE(text_field(body((wide + "\"}").c_str()), "os", {0, 255}, problem));
  EXPECT_FALSE(text_field(body((wide + "x\"}").c_str()), "os", {0, 255}, problem));
  EXPECT_EQ(message(problem), "os must be at most 255 characters");
}

TEST(PemField, TakesLineBreaksOnly) {
  std::optional<response> problem;
  EXPECT_TRUE(
      pem_field(body(R"({"csr": "-----BEGIN-----\r\nAAAA\n-----END-----\n"})"), "csr", problem));
  EXPECT_FALSE(problem);
  EXPECT_FALSE(pem_field(body(R"({"csr": "-----BEGIN-----\n\u0000"})"), "csr", problem));
  EXPECT_NE(message(problem).find("csr must be lines of printable characters"), std::string::npos);
}

}  // namespace
}  // namespace valise::server
