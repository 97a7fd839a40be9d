// X-HTTP-Method-Override reaches only the routes that take it; anywhere else
// it is a 400, never the method it names.
#include <gtest/gtest.h>

#include "api/router.hpp"

namespace valise::server {
namespace {

router sample() {
  router r;
  auto ok = [](request&) -> outcome { return empty_response(http::status::ok); };
  r.add(http::verb::delete_, "/api/v1/bundles/{}", access::technician, body_kind::none, ok);
  r.add(http::verb::get, "/api/v1/bundles/{}", access::technician, body_kind::none, ok);
  r.add(http::verb::patch, "/api/v1/uploads/{}", access::uploader, body_kind::stream, ok,
        {.method_override = true});
  r.add(http::verb::post, "/api/v1/uploads", access::uploader, body_kind::stream, ok);
  return r;
}

request_head head(http::verb method, const char* override_to) {
  request_head h;
  h.method(method);
  if (override_to) h.set("X-HTTP-Method-Override", override_to);
  return h;
}

http::status refused(const std::variant<router::match, response>& found) {
  auto* res = std::get_if<response>(&found);
  return res ? res->result() : http::status::ok;
}

TEST(MethodOverride, HonouredOnARouteThatTakesIt) {
  const auto r = sample();  // a match points into its router
  auto found = r.find(head(http::verb::post, "PATCH"), "/api/v1/uploads/upl_1");
  auto* m = std::get_if<router::match>(&found);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->method, http::verb::patch);
  EXPECT_EQ(m->found->method, http::verb::patch);
}

TEST(MethodOverride, WithoutTheHeaderTheRequestsOwnMethod) {
  const auto r = sample();
  auto found = r.find(head(http::verb::get, nullptr), "/api/v1/bundles/b1");
  auto* m = std::get_if<router::match>(&found);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->method, http::verb::get);
}

TEST(MethodOverride, RefusedEverywhereElse) {
  auto r = sample();
  const struct {
    http::verb method;
    const char* override_to;
    const char* path;
  } cases[] = {
      // The reported attack: a POST that deleted a bundle.
      {http::verb::post, "DELETE", "/api/v1/bundles/b1"},
      {http::verb::post, "GET", "/api/v1/bundles/b1"},
      // Not on a POST, an unknown method, a method the path lacks, POST itself, empty.
      {http::verb::get, "DELETE", "/api/v1/bundles/b1"},
      {http::verb::patch, "PATCH", "/api/v1/uploads/upl_1"},
      {http::verb::post, "FROB", "/api/v1/uploads/upl_1"},
      {http::verb::post, "DELETE", "/api/v1/uploads/upl_1"},
      {http::verb::post, "POST", "/api/v1/uploads"},
      {http::verb::post, "", "/api/v1/uploads"},
  };
  for (const auto& c : cases)
    EXPECT_EQ(refused(r.find(head(c.method, c.override_to), c.path)), http::status::bad_request)
        << c.override_to << " on " << http::to_string(c.method) << " " << c.path;
}

}  // namespace
}  // namespace valise::server
