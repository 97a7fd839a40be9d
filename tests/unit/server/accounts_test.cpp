// Account credentials (name and password rules, argon2id hashing), the
// session cookie's text and the session timeouts: pure code.
#include <gtest/gtest.h>

#include "accounts/credentials.hpp"
#include "api/session_cookie.hpp"
#include "valise/server/store.hpp"

namespace valise::server {
namespace {

crypto::secret_string secret(const char* text) {
  return crypto::secret_string(std::string(text));
}

TEST(Credentials, UserNamesAreShortAndPlain) {
  EXPECT_TRUE(valid_user_name("alice"));
  EXPECT_TRUE(valid_user_name("a.b_c-d@example.com"));
  EXPECT_TRUE(valid_user_name(std::string(64, 'x')));
  EXPECT_FALSE(valid_user_name(""));
  EXPECT_FALSE(valid_user_name(std::string(65, 'x')));
  EXPECT_FALSE(valid_user_name("with space"));
  EXPECT_FALSE(valid_user_name("slash/"));
  EXPECT_FALSE(valid_user_name("\xc3\xa9lodie"));
}

TEST(Credentials, PasswordsHaveTwelveCharactersAtLeast) {
  EXPECT_EQ(password_problem("12345678901").value_or(""),
            "the password is too short: use at least 12 characters");
  EXPECT_FALSE(password_problem("123456789012"));
  // Characters, not bytes: eleven accented letters are still too short.
  std::string accented;
  for (int i = 0; i < 11; ++i) accented += "\xc3\xa9";
  EXPECT_TRUE(password_problem(accented));
  EXPECT_FALSE(password_problem(accented + "x"));
  EXPECT_TRUE(password_problem(std::string(max_password_bytes + 1, 'x')));
}

TEST(Credentials, HashesAreArgon2idAndVerify) {
  const auto password = secret("correct horse battery staple");
  auto hash = hash_password(password);
  ASSERT_TRUE(hash);
  EXPECT_TRUE(hash->starts_with("$argon2id$v=19$m=65536,t=2,p=1$")) << *hash;
  EXPECT_EQ(hash->find("correct horse"), std::string::npos);
  EXPECT_TRUE(verify_password(*hash, password));
  EXPECT_FALSE(verify_password(*hash, secret("correct horse battery stapler")));
  EXPECT_FALSE(verify_password("not a hash", password));
  EXPECT_FALSE(password_needs_rehash(*hash));
  // Salted: the same password hashes differently each time.
  EXPECT_NE(*hash_password(password), *hash);
}

TEST(Credentials, HashesOfOtherLimitsNeedRehashing) {
  // A MODERATE hash (256 MiB) would be rehashed at INTERACTIVE on sign-in.
  const std::string older =
      "$argon2id$v=19$m=262144,t=3,p=1$c29tZXNhbHRzb21lc2FsdA$"
      "0Rd7H1EpFmBtZ0h6Ve0pZrQ0tSEQbjpCS+8F2NgRPb8";
  EXPECT_TRUE(password_needs_rehash(older));
}

TEST(SessionCookie, FindsTheCookieAmongOthers) {
  EXPECT_EQ(cookie_value("a=1; __Host-valise_session=vss_x; b=2", session_cookie_name).value_or(""),
            "vss_x");
  EXPECT_EQ(cookie_value("__Host-valise_session=\"vss_q\"", session_cookie_name).value_or(""),
            "vss_q");
  EXPECT_EQ(cookie_value("x=1;__Host-valise_session=first;__Host-valise_session=second",
                         session_cookie_name)
                .value_or(""),
            "first");
  EXPECT_FALSE(cookie_value("valise_session=vss_x; __Host-valise_sessionx=1", session_cookie_name));
  EXPECT_FALSE(cookie_value("", session_cookie_name));
  EXPECT_FALSE(cookie_value(";;; =; novalue", session_cookie_name));
  EXPECT_EQ(cookie_value("__Host-valise_session=", session_cookie_name).value_or("absent"), "");
}

TEST(SessionCookie, ReadsEveryCookieHeader) {
  request_head head;
  head.insert(http::field::cookie, "theme=dark");
  head.insert(http::field::cookie, "__Host-valise_session=vss_abc");
  EXPECT_EQ(session_cookie(head).value_or(""), "vss_abc");
  request_head none;
  EXPECT_FALSE(session_cookie(none));
}

TEST(SessionCookie, IsSetAndClearedWithItsAttributes) {
  EXPECT_EQ(session_set_cookie("vss_abc"),
            "__Host-valise_session=vss_abc; Path=/; Secure; HttpOnly; SameSite=Strict");
  EXPECT_EQ(session_clear_cookie(),
            "__Host-valise_session=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict");
}

TEST(SessionCookie, OnlyChangingMethodsNeedTheCsrfToken) {
  EXPECT_TRUE(safe_method(http::verb::get));
  EXPECT_TRUE(safe_method(http::verb::head));
  EXPECT_TRUE(safe_method(http::verb::options));
  EXPECT_FALSE(safe_method(http::verb::post));
  EXPECT_FALSE(safe_method(http::verb::patch));
  EXPECT_FALSE(safe_method(http::verb::delete_));
  EXPECT_FALSE(safe_method(http::verb::put));
}

TEST(SessionCookie, OriginsAreSerialisedAsBrowsersSendThem) {
  EXPECT_EQ(origin_of("https://localhost:8443"), "https://localhost:8443");
  EXPECT_EQ(origin_of("https://Valise.Example.com:443/base/"), "https://valise.example.com");
  EXPECT_EQ(origin_of("http://example.com:80"), "http://example.com");
  EXPECT_EQ(origin_of("https://[::1]:8443/x?y#z"), "https://[::1]:8443");
  EXPECT_EQ(origin_of("https://[::1]/"), "https://[::1]");
  EXPECT_EQ(origin_of("not a url"), "");
}

TEST(SessionCookie, SecretsCompareWhole) {
  EXPECT_TRUE(same_secret("abc", "abc"));
  EXPECT_FALSE(same_secret("abd", "abc"));
  EXPECT_FALSE(same_secret("ab", "abc"));
  EXPECT_FALSE(same_secret("", ""));  // no session has an empty token
}

TEST(SessionTimeouts, TheEarlierOfIdleAndLifetime) {
  const session_policy p{.idle_timeout = 1800, .lifetime = 43200};
  session_info s;
  s.created_at = 1000;
  s.last_used_at = 1000;
  EXPECT_EQ(session_expires_at(s, p), 2800);
  s.last_used_at = 40000;
  EXPECT_EQ(session_expires_at(s, p), 41800);
  s.last_used_at = 43000;  // busy to the end: the lifetime wins
  EXPECT_EQ(session_expires_at(s, p), 44200);
}

}  // namespace
}  // namespace valise::server
