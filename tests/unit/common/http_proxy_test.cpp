// The HTTPS client's proxy parts (net/http_proxy.hpp): the proxy URL, the
// CONNECT request, the proxy's status line, refusal messages, no_proxy and
// proxy_from_environment.
#include "net/http_proxy.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "valise/common/https_client.hpp"

using namespace valise::common;
using namespace valise::common::detail;

namespace {

TEST(proxy_url, host_port_and_decoded_credentials) {
  auto plain = parse_proxy_url("http://Proxy.Example:3128");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->host, "proxy.example");
  EXPECT_EQ(plain->port, 3128);
  EXPECT_EQ(plain->shown, "proxy.example:3128");
  EXPECT_FALSE(plain->has_credentials);

  auto with_user = parse_proxy_url("HTTP://us%20er:p%40ss%3Aword@10.0.0.1:8080/");
  ASSERT_TRUE(with_user);
  EXPECT_EQ(with_user->host, "10.0.0.1");
  EXPECT_TRUE(with_user->has_credentials);
  EXPECT_EQ(with_user->user, "us er");
  EXPECT_EQ(with_user->password, "p@ss:word");
  EXPECT_EQ(with_user->shown, "10.0.0.1:8080");  // never the credentials

  auto default_port = parse_proxy_url("http://[::1]");
  ASSERT_TRUE(default_port);
  EXPECT_EQ(default_port->host, "::1");
  EXPECT_EQ(default_port->port, 80);
  EXPECT_EQ(default_port->shown, "[::1]:80");

  auto user_only = parse_proxy_url("http://alice@p:1");
  ASSERT_TRUE(user_only);
  EXPECT_TRUE(user_only->has_credentials);
  EXPECT_EQ(user_only->user, "alice");
  EXPECT_EQ(user_only->password, "");
}

TEST(proxy_url, only_http_proxies) {
  for (const char* other : {"https://p:3128", "socks5://p:1080", "HTTPS://p"}) {
    auto r = parse_proxy_url(other);
    ASSERT_FALSE(r) << other;
    EXPECT_EQ(r.error(), http_errc::proxy_unsupported) << other;
  }
  for (const char* bad :
       {"", "p:3128", "http://", "http://:3128", "http://p:0", "http://p:65536", "http://p:x",
        "http://p:1/path", "http://p:1?q", "http://p:1#f", "http://p%0d%0aX:1", "http://p q:1"}) {
    auto r = parse_proxy_url(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error(), http_errc::proxy_url_invalid) << bad;
  }
}

TEST(proxy_url, server_hosts_cannot_carry_header_breaks) {
  // The server's host goes into the CONNECT line unresolved.
  for (const char* bad : {"https://h%0d%0aX:1", "https://h%20x:1", "https://h%00:1"}) {
    auto r = parse_server_url(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error(), http_errc::invalid_url) << bad;
  }
}

TEST(connect_request, names_the_server_and_authenticates_when_asked) {
  const auto server = parse_server_url("https://Valise.Example:8443/prefix").value();
  const auto open = parse_proxy_url("http://p:3128").value();
  EXPECT_EQ(connect_request(server, open, "valise/1"),
            "CONNECT valise.example:8443 HTTP/1.1\r\nHost: valise.example:8443\r\n"
            "User-Agent: valise/1\r\n\r\n");

  // base64("Aladdin:open sesame"), RFC 7617's example.
  const auto closed = parse_proxy_url("http://Aladdin:open%20sesame@p:3128").value();
  EXPECT_EQ(connect_request(server, closed, ""),
            "CONNECT valise.example:8443 HTTP/1.1\r\nHost: valise.example:8443\r\n"
            "Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n");

  const auto v6 = parse_server_url("https://[::1]:9000").value();
  EXPECT_EQ(connect_request(v6, open, "a\r\nInjected: 1"),
            "CONNECT [::1]:9000 HTTP/1.1\r\nHost: [::1]:9000\r\nUser-Agent: aInjected: 1\r\n\r\n");
}

TEST(proxy_status, status_lines) {
  auto ok = parse_proxy_status("HTTP/1.1 200 Connection established\r\n\r\n");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->code, 200u);
  EXPECT_EQ(ok->reason, "Connection established");

  auto bare = parse_proxy_status("HTTP/1.0 407\r\nProxy-Authenticate: Basic\r\n\r\n");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->code, 407u);
  EXPECT_EQ(bare->reason, "");

  auto odd = parse_proxy_status("HTTP/1.1 502 Bad\x1b[31m" + std::string(200, 'x') + "\r\n");
  ASSERT_TRUE(odd);
  EXPECT_EQ(odd->reason.size(), 80u);  // capped, and no escape sequences reach a terminal
  EXPECT_EQ(odd->reason.substr(0, 5), "Bad?[");

  for (const char* bad :
       {"", "HTTP/1.1", "HTTP/1.1 20", "HTTP/2 200 OK", "HTTP/1.1 2000 OK", "HTTP/1.1 abc OK",
        "SSH-2.0-OpenSSH", "HTTP/1.1  200 OK", "HTTP/1.1 099 Low"}) {
    EXPECT_FALSE(parse_proxy_status(bad)) << bad;
  }
}

TEST(proxy_status, refusals_say_what_to_do) {
  const auto server = parse_server_url("https://v.example:8443").value();
  const auto open = parse_proxy_url("http://p:3128").value();
  const auto closed = parse_proxy_url("http://u:secret-pw@p:3128").value();
  const proxy_status auth{407, "Proxy Authentication Required"};
  EXPECT_EQ(describe_refusal(auth, open, server),
            "the proxy p:3128 answered 407 Proxy Authentication Required: it needs credentials, "
            "give them in the proxy URL (http://USER:PASSWORD@HOST:PORT)");
  const auto wrong = describe_refusal(auth, closed, server);
  EXPECT_NE(wrong.find("refused the user name and password"), std::string::npos) << wrong;
  EXPECT_EQ(wrong.find("secret-pw"), std::string::npos) << wrong;
  EXPECT_EQ(describe_refusal({403, "Forbidden"}, open, server),
            "the proxy p:3128 answered 403 Forbidden: it does not allow connecting to "
            "v.example:8443");
  EXPECT_EQ(describe_refusal({502, ""}, open, server),
            "the proxy p:3128 answered 502: it could not reach v.example:8443");
  EXPECT_EQ(describe_refusal({418, "Teapot"}, open, server),
            "the proxy p:3128 answered 418 Teapot");
}

TEST(no_proxy, hosts_domains_addresses_and_star) {
  EXPECT_FALSE(no_proxy_matches("", "v.example"));
  EXPECT_TRUE(no_proxy_matches("*", "v.example"));
  EXPECT_TRUE(no_proxy_matches("other, V.Example ", "v.example"));
  EXPECT_TRUE(no_proxy_matches("example", "v.example"));
  EXPECT_TRUE(no_proxy_matches(".example", "v.example"));
  EXPECT_TRUE(no_proxy_matches(".example", "example"));
  EXPECT_TRUE(no_proxy_matches("example.", "a.b.example."));
  EXPECT_TRUE(no_proxy_matches("v.example:8443", "v.example"));  // the port is ignored
  EXPECT_FALSE(no_proxy_matches("ample", "v.example"));
  EXPECT_FALSE(no_proxy_matches("v.example.org", "v.example"));
  EXPECT_FALSE(no_proxy_matches(",, ,", "v.example"));
  // Addresses match exactly, never as a suffix.
  EXPECT_TRUE(no_proxy_matches("127.0.0.1", "127.0.0.1"));
  EXPECT_FALSE(no_proxy_matches("0.0.1", "127.0.0.1"));
  EXPECT_TRUE(no_proxy_matches("[::1]", "::1"));
  EXPECT_TRUE(no_proxy_matches("::1", "[::1]"));
  EXPECT_TRUE(no_proxy_matches("[::1]:443", "::1"));
  // Loopback is not excluded unless listed.
  EXPECT_FALSE(no_proxy_matches("example", "localhost"));
  EXPECT_FALSE(no_proxy_matches("localhost", "127.0.0.1"));
}

// Sets the proxy variables for one test and restores them after.
class proxy_environment : public ::testing::Test {
 protected:
  static constexpr const char* names[] = {"https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY"};
  void SetUp() override {
    for (const char* name : names) {
      const char* value = ::getenv(name);
      saved_.emplace_back(value ? std::optional<std::string>(value) : std::nullopt);
      ::unsetenv(name);
    }
  }
  void TearDown() override {
    for (std::size_t i = 0; i < saved_.size(); ++i) {
      if (saved_[i]) {
        ::setenv(names[i], saved_[i]->c_str(), 1);
      } else {
        ::unsetenv(names[i]);
      }
    }
  }
  std::vector<std::optional<std::string>> saved_;
};

TEST_F(proxy_environment, lowercase_first_then_uppercase) {
  EXPECT_EQ(proxy_from_environment("v.example"), "");
  ::setenv("HTTPS_PROXY", "http://upper:3128", 1);
  EXPECT_EQ(proxy_from_environment("v.example"), "http://upper:3128");
  ::setenv("https_proxy", "http://lower:3128", 1);
  EXPECT_EQ(proxy_from_environment("v.example"), "http://lower:3128");
  ::setenv("https_proxy", "", 1);  // empty is unset
  EXPECT_EQ(proxy_from_environment("v.example"), "http://upper:3128");
  ::setenv("https_proxy", " proxy.corp:8080 ", 1);  // curl's scheme-less form
  EXPECT_EQ(proxy_from_environment("v.example"), "http://proxy.corp:8080");
}

TEST_F(proxy_environment, no_proxy_then_uppercase_no_proxy) {
  ::setenv("https_proxy", "http://p:3128", 1);
  ::setenv("NO_PROXY", "example", 1);
  EXPECT_EQ(proxy_from_environment("v.example"), "");
  EXPECT_EQ(proxy_from_environment("v.example.org"), "http://p:3128");
  ::setenv("no_proxy", "other", 1);  // the lowercase list wins
  EXPECT_EQ(proxy_from_environment("v.example"), "http://p:3128");
  EXPECT_EQ(proxy_from_environment("127.0.0.1"), "http://p:3128");  // loopback not implicit
  ::setenv("no_proxy", "other,127.0.0.1", 1);
  EXPECT_EQ(proxy_from_environment("127.0.0.1"), "");
}

}  // namespace
