#include "api/router.hpp"

#include <gtest/gtest.h>

namespace valise::server {
namespace {

router sample() {
  router r;
  auto ok = [](request&) -> outcome { return empty_response(http::status::ok); };
  r.add(http::verb::get, "/api/v1/tickets", access::technician, body_kind::none, ok);
  r.add(http::verb::get, "/api/v1/tickets/{}", access::technician, body_kind::none, ok);
  r.add(http::verb::post, "/api/v1/tickets/{}/resolve", access::technician, body_kind::none, ok);
  return r;
}

TEST(Router, MatchesAndDecodesParameters) {
  auto found = sample().find(http::verb::get, "/api/v1/tickets/T%2D1");
  auto* m = std::get_if<router::match>(&found);
  ASSERT_TRUE(m);
  ASSERT_EQ(m->params.size(), 1u);
  EXPECT_EQ(m->params[0], "T-1");
}

TEST(Router, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  auto r = sample();
  auto missing = r.find(http::verb::get, "/api/v2/tickets");
  ASSERT_TRUE(std::holds_alternative<response>(missing));
  EXPECT_EQ(std::get<response>(missing).result(), http::status::not_found);
  auto wrong = r.find(http::verb::delete_, "/api/v1/tickets/T-1");
  ASSERT_TRUE(std::holds_alternative<response>(wrong));
  EXPECT_EQ(std::get<response>(wrong).result(), http::status::method_not_allowed);
  EXPECT_EQ(std::get<response>(wrong)[http::field::allow], "GET");
}

TEST(Router, TailPatternMatchesOneOrMoreSegments) {
  router r;
  auto ok = [](request&) -> outcome { return empty_response(http::status::ok); };
  r.add(http::verb::get, "/console/{*}", access::anyone, body_kind::none, ok);
  for (auto path : {"/console/a", "/console/a/b/c", "/console/tickets/T%2F1"})
    EXPECT_TRUE(std::holds_alternative<router::match>(r.find(http::verb::get, path))) << path;
  for (auto path : {"/console", "/console/", "/consoles/a", "/"})
    EXPECT_TRUE(std::holds_alternative<response>(r.find(http::verb::get, path))) << path;
}

TEST(Router, ParametersCannotSmuggleSlashes) {
  auto found = sample().find(http::verb::get, "/api/v1/tickets/..%2F..%2Fetc");
  EXPECT_TRUE(std::holds_alternative<response>(found));
}

}  // namespace
}  // namespace valise::server
