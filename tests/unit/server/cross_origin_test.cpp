#include "api/cross_origin.hpp"

#include <gtest/gtest.h>

namespace valise::server {
namespace {

const std::vector<std::string> allowed{"https://helpdesk.example", "http://localhost:8080"};

request_head head(http::verb method, const char* origin, bool preflight = false) {
  request_head h;
  h.method(method);
  if (origin) h.set(http::field::origin, origin);
  if (preflight) h.set(http::field::access_control_request_method, "PATCH");
  return h;
}

response answered(const cross_origin& cors) {
  response res{http::status::no_content, 11};
  cors.apply(res);
  return res;
}

bool has_cors(const response& res) {
  for (const auto& f : res)
    if (f.name_string().starts_with("Access-Control-")) return true;
  return false;
}

TEST(CrossOrigin, APreflightFromAnAllowedOriginGetsItsAnswer) {
  auto res = answered({head(http::verb::options, "https://helpdesk.example", true), true, allowed});
  EXPECT_EQ(res[http::field::access_control_allow_origin], "https://helpdesk.example");
  EXPECT_EQ(res[http::field::vary], "Origin");
  EXPECT_EQ(res[http::field::access_control_allow_methods], "POST, PATCH, HEAD, DELETE, OPTIONS");
  EXPECT_NE(res[http::field::access_control_allow_headers].find("Upload-Offset"),
            std::string::npos);
  EXPECT_NE(res[http::field::access_control_allow_headers].find("X-HTTP-Method-Override"),
            std::string::npos);
  EXPECT_EQ(res[http::field::access_control_max_age], "7200");
  EXPECT_EQ(res.count(http::field::access_control_allow_credentials), 0u);
  EXPECT_EQ(res.count(http::field::access_control_expose_headers), 0u);
}

TEST(CrossOrigin, AnActualRequestCanReadTheTusHeaders) {
  auto res = answered({head(http::verb::patch, "http://localhost:8080"), true, allowed});
  EXPECT_EQ(res[http::field::access_control_allow_origin], "http://localhost:8080");
  const std::string exposed = res[http::field::access_control_expose_headers];
  for (const char* name : {"Location", "Upload-Offset", "Tus-Resumable", "Valise-Bundle-Sha256"})
    EXPECT_NE(exposed.find(name), std::string::npos) << name;
  EXPECT_EQ(res.count(http::field::access_control_allow_methods), 0u);
}

TEST(CrossOrigin, OtherOriginsRoutesAndConfigsGetNothing) {
  for (const char* origin : {"https://evil.example", "https://HELPDESK.example",
                             "https://helpdesk.example:443", "https://helpdesk.example/", "null"}) {
    auto res = answered({head(http::verb::options, origin, true), true, allowed});
    EXPECT_FALSE(has_cors(res)) << origin;
    EXPECT_EQ(res[http::field::vary], "Origin");
  }
  EXPECT_FALSE(has_cors(answered({head(http::verb::post, nullptr), true, allowed})));
  auto other_route = answered({head(http::verb::get, "https://helpdesk.example"), false, allowed});
  EXPECT_FALSE(has_cors(other_route));
  EXPECT_EQ(other_route.count(http::field::vary), 0u);
  EXPECT_FALSE(has_cors(answered({head(http::verb::get, "https://helpdesk.example"), true, {}})));
  EXPECT_FALSE(has_cors(answered({})));
}

}  // namespace
}  // namespace valise::server
