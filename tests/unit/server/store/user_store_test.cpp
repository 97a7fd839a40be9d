// Technician accounts and sessions in the store: unique names whatever the
// case, sessions by the SHA-256 of their id, idle and absolute timeouts,
// disabling and new passwords ending sessions, a bounded count per user.
#include "store_fixture.hpp"

namespace valise::server {
namespace {

const session_policy policy{.idle_timeout = 600, .lifetime = 3600, .max_per_user = 3};

class Users : public Store {
 protected:
  void SetUp() override {
    Store::SetUp();
    user_info u;
    u.name = "Bob";
    ASSERT_TRUE(db_->create_user(actor::system(), u, "$argon2id$fake"));
  }
  std::vector<std::string> audit_actions() {
    auto records = db_->audit_since(0, 1000);
    std::vector<std::string> out;
    for (const auto& r : *records) out.push_back(r.action);
    return out;
  }
};

TEST_F(Users, NamesAreUniqueWhateverTheirCase) {
  user_info u;
  u.name = "bob";
  auto again = db_->create_user(actor::system(), u, "$argon2id$other");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error(), store_errc::already_exists);
  auto found = db_->get_user_credentials("BOB");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->user.name, "Bob");
  EXPECT_EQ(found->password_hash, "$argon2id$fake");
  EXPECT_EQ(db_->get_user_credentials("carol").error(), store_errc::not_found);
}

TEST_F(Users, ASessionIsKeptByItsHashAndEndsWhenIdle) {
  auto s = db_->create_session("bob", now, policy, "192.0.2.1");
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_TRUE(s->secret.starts_with("vss_"));
  EXPECT_EQ(s->info.user, "Bob");
  EXPECT_EQ(s->info.id_sha256.size(), 32u);
  auto used = db_->authenticate_session(s->secret, now + 599, policy);
  ASSERT_TRUE(used);
  EXPECT_EQ(used->csrf, s->info.csrf);
  EXPECT_EQ(used->last_used_at, now + 599);
  // Used at +599: good until +1199.
  EXPECT_TRUE(db_->authenticate_session(s->secret, now + 1198, policy));
  EXPECT_EQ(db_->authenticate_session(s->secret, now + 1798, policy).error(),
            store_errc::not_found);
  // Ended for good, even if the clock went back.
  EXPECT_EQ(db_->authenticate_session(s->secret, now + 1, policy).error(), store_errc::not_found);
  EXPECT_EQ(db_->authenticate_session("vss_unknown", now, policy).error(), store_errc::not_found);
  auto users = db_->list_users();
  ASSERT_TRUE(users);
  EXPECT_EQ(users->front().last_sign_in.value_or(0), now);
}

TEST_F(Users, ABusySessionEndsAtItsLifetime) {
  auto s = db_->create_session("Bob", now, policy, "192.0.2.1");
  ASSERT_TRUE(s);
  for (unix_time t = now + 300; t < now + 3600; t += 300)
    EXPECT_TRUE(db_->authenticate_session(s->secret, t, policy)) << t - now;
  EXPECT_FALSE(db_->authenticate_session(s->secret, now + 3600, policy));
}

TEST_F(Users, DisablingAndNewPasswordsEndSessions) {
  auto first = db_->create_session("Bob", now, policy, "192.0.2.1");
  ASSERT_TRUE(first);
  auto disabled = db_->set_user_disabled(actor::system(), "bob", true);
  ASSERT_TRUE(disabled);
  EXPECT_TRUE(disabled->disabled);
  EXPECT_FALSE(db_->authenticate_session(first->secret, now + 1, policy));
  EXPECT_EQ(db_->create_session("Bob", now, policy, "192.0.2.1").error(), store_errc::not_found);
  ASSERT_TRUE(db_->set_user_disabled(actor::system(), "Bob", false));
  auto second = db_->create_session("Bob", now, policy, "192.0.2.1");
  ASSERT_TRUE(second);
  ASSERT_TRUE(db_->set_user_password(actor::system(), "Bob", "$argon2id$new"));
  EXPECT_FALSE(db_->authenticate_session(second->secret, now + 1, policy));
  EXPECT_EQ(db_->get_user_credentials("Bob")->password_hash, "$argon2id$new");
  EXPECT_EQ(db_->set_user_password(actor::system(), "nobody", "x").error(), store_errc::not_found);
  const auto actions = audit_actions();
  for (const char* a : {"user.created", "session.created", "user.disabled", "session.ended",
                        "user.enabled", "user.password_changed"})
    EXPECT_NE(std::find(actions.begin(), actions.end(), a), actions.end()) << a;
}

TEST_F(Users, SignOutEndsOneSession) {
  auto a = db_->create_session("Bob", now, policy, "192.0.2.1");
  auto b = db_->create_session("Bob", now, policy, "192.0.2.2");
  ASSERT_TRUE(a && b);
  auto who = db_->authenticate_session(a->secret, now, policy);
  ASSERT_TRUE(who);
  actor bob;
  bob.name = "Bob";
  bob.session = *who;
  ASSERT_TRUE(db_->end_session(bob, *who, "signed out"));
  EXPECT_FALSE(db_->authenticate_session(a->secret, now, policy));
  EXPECT_TRUE(db_->authenticate_session(b->secret, now, policy));
  auto trail = db_->audit_since(0, 1000);
  EXPECT_EQ(trail->back().actor, "user:Bob");
  EXPECT_EQ(trail->back().action, "session.ended");
}

TEST_F(Users, SessionsPerUserAreBounded) {
  std::vector<new_session> made;
  for (int i = 0; i < 5; ++i) {
    auto s = db_->create_session("Bob", now + i, policy, "192.0.2.1");
    ASSERT_TRUE(s);
    made.push_back(std::move(*s));
  }
  // The oldest two made room for the last two.
  EXPECT_FALSE(db_->authenticate_session(made[0].secret, now + 5, policy));
  EXPECT_FALSE(db_->authenticate_session(made[1].secret, now + 5, policy));
  for (int i = 2; i < 5; ++i)
    EXPECT_TRUE(db_->authenticate_session(made[i].secret, now + 5, policy));
}

}  // namespace
}  // namespace valise::server
