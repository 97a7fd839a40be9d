// The HTTPS client's server address and request targets (net/http_url.hpp).
#include "net/http_url.hpp"

#include <gtest/gtest.h>

#include "valise/common/https_client.hpp"

using namespace valise::common;
using namespace valise::common::detail;

namespace {

TEST(server_url, host_port_prefix_and_origin) {
  auto a = parse_server_url("https://Valise.Example.com:8443/");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "valise.example.com");
  EXPECT_FALSE(a->host_is_ip);
  EXPECT_EQ(a->port, 8443);
  EXPECT_EQ(a->prefix, "");
  EXPECT_EQ(a->origin, "https://valise.example.com:8443");

  auto b = parse_server_url("https://127.0.0.1/valise//");
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->host_is_ip);
  EXPECT_EQ(b->port, 443);
  EXPECT_EQ(b->prefix, "/valise");

  auto c = parse_server_url("https://[::1]:9000");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->host, "::1");
  EXPECT_EQ(c->origin, "https://[::1]:9000");
}

TEST(server_url, only_plain_https_urls) {
  for (const char* bad : {"http://h:1", "h:1", "https://user:pw@h:1", "https://h:1/#x",
                          "https://h:1/?q=1", "https://h:0", "https://h:65536", "https://:1", ""}) {
    auto r = parse_server_url(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error(), http_errc::invalid_url) << bad;
  }
}

TEST(request_target, paths_join_the_prefix_and_urls_stay_on_the_origin) {
  const auto server = parse_server_url("https://h.example:8443/valise").value();
  EXPECT_EQ(request_target(server, "/api/v1/tickets?status=open").value(),
            "/valise/api/v1/tickets?status=open");
  EXPECT_EQ(request_target(server, "https://H.example:8443/valise/api/v1/uploads/u1").value(),
            "/valise/api/v1/uploads/u1");
  // The token must never go to another server.
  for (const char* other : {"https://h.example:9443/x", "https://evil.example:8443/x", "//evil/x",
                            "http://h.example:8443/x"}) {
    EXPECT_FALSE(request_target(server, other)) << other;
  }
}

}  // namespace
