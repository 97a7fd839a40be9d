#include "http/connection_budget.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace valise::server {
namespace {

struct harness {
  connection_budget budget;
  std::vector<int> shed;  // ids shed, in order
  std::optional<connection_budget::slot> admit(const std::string& key, int id) {
    return budget.admit(key, [this, id] { shed.push_back(id); });
  }
};

TEST(ConnectionBudget, PerAddressCapShedsThatAddressesOldest) {
  harness h{connection_budget({.max_connections = 100, .max_anonymous = 50, .max_per_address = 3})};
  std::vector<connection_budget::slot> held;
  for (int i = 0; i < 3; ++i) held.push_back(*h.admit("a", i));
  held.push_back(*h.admit("b", 10));
  EXPECT_TRUE(h.shed.empty());
  held.push_back(*h.admit("a", 3));
  EXPECT_EQ(h.shed, std::vector<int>{0});
  held.push_back(*h.admit("a", 4));
  EXPECT_EQ(h.shed, (std::vector<int>{0, 1}));
  EXPECT_EQ(h.budget.current().anonymous, 4u);  // a: 2, 3, 4; b: 10
}

TEST(ConnectionBudget, AuthenticatedConnectionsAreNeverShed) {
  harness h{connection_budget({.max_connections = 4, .max_anonymous = 4, .max_per_address = 2})};
  std::vector<connection_budget::slot> agents;
  for (int i = 0; i < 3; ++i) {
    agents.push_back(*h.admit("site", i));
    EXPECT_TRUE(agents.back().authenticated("agent:" + std::to_string(i)));  // one NAT
  }
  EXPECT_EQ(h.budget.current().authenticated, 3u);
  // An idle prober takes the last place, then a newcomer needs it.
  auto prober = h.admit("site", 100);
  ASSERT_TRUE(prober);
  auto newcomer = h.admit("elsewhere", 101);
  ASSERT_TRUE(newcomer);
  EXPECT_EQ(h.shed, std::vector<int>{100});
  // Authenticated ones hold every place but one; once that is theirs too,
  // newcomers are refused.
  EXPECT_TRUE(newcomer->authenticated("technician:alice"));
  EXPECT_FALSE(newcomer->authenticated("technician:alice"));  // once
  EXPECT_FALSE(h.admit("late", 102));
  EXPECT_EQ(h.shed, std::vector<int>{100});
}

TEST(ConnectionBudget, OneCredentialCannotTakeEveryPlace) {
  harness h{connection_budget({.max_connections = 100,
                               .max_anonymous = 50,
                               .max_per_address = 50,
                               .max_per_credential = 2})};
  std::vector<connection_budget::slot> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(*h.admit("a" + std::to_string(i), i));
    EXPECT_TRUE(held.back().authenticated("link:lnk_leaked"));
  }
  EXPECT_EQ(h.shed, (std::vector<int>{0, 1}));  // that credential's oldest
  EXPECT_EQ(h.budget.current().authenticated, 2u);
  held.push_back(*h.admit("b", 10));
  EXPECT_TRUE(held.back().authenticated("agent:agt_1"));
  EXPECT_EQ(h.budget.current().authenticated, 3u);
}

TEST(ConnectionBudget, AShedConnectionDoesNotAuthenticate) {
  harness h{connection_budget({.max_connections = 100, .max_anonymous = 1, .max_per_address = 9})};
  auto first = h.admit("a", 1);
  auto second = h.admit("b", 2);  // sheds the first
  EXPECT_EQ(h.shed, std::vector<int>{1});
  EXPECT_FALSE(first->authenticated("agent:agt_1"));
  EXPECT_FALSE(first->is_authenticated());
  EXPECT_EQ(h.budget.current().authenticated, 0u);
}

TEST(ConnectionBudget, AnonymousBudgetShedsGloballyOldestAndReleasesOnDestruction) {
  harness h{connection_budget({.max_connections = 100, .max_anonymous = 2, .max_per_address = 9})};
  {
    auto a = h.admit("a", 1);
    auto b = h.admit("b", 2);
    auto c = h.admit("c", 3);
    EXPECT_EQ(h.shed, std::vector<int>{1});
    EXPECT_EQ(h.budget.current().anonymous, 2u);
  }
  EXPECT_EQ(h.budget.current().anonymous, 0u);
  EXPECT_EQ(h.budget.current().shed, 1u);
}

TEST(ConnectionBudget, MovingToTheRealAddressCountsThere) {
  harness h{connection_budget({.max_connections = 100, .max_anonymous = 50, .max_per_address = 2})};
  auto x = h.admit("client", 1);
  auto y = h.admit("client", 2);
  auto proxied = h.admit("proxy", 3);
  proxied->move_to("client");
  EXPECT_EQ(h.shed, std::vector<int>{1});
  auto z = h.admit("proxy", 4);
  EXPECT_EQ(h.shed, std::vector<int>{1});  // the proxy's address holds only z now
}

TEST(ConnectionBudget, HandshakesInFlightAreCountedUntilTheyEnd) {
  harness h{connection_budget({.max_connections = 100, .max_anonymous = 50, .max_handshakes = 2})};
  auto first = h.budget.start_handshake();
  EXPECT_TRUE(h.budget.handshake_room());
  auto second = h.budget.start_handshake();
  EXPECT_FALSE(h.budget.handshake_room());
  EXPECT_EQ(h.budget.current().handshakes, 2u);
  auto a = h.budget.admit(
      "a", [] {}, std::move(first));
  a->handshake_done();
  EXPECT_TRUE(h.budget.handshake_room());
  {
    auto b = h.budget.admit(
        "b", [] {}, std::move(second));
    EXPECT_EQ(h.budget.current().handshakes, 1u);
  }  // a connection that ends mid-handshake gives its place back
  EXPECT_TRUE(h.budget.handshake_room());
  EXPECT_EQ(h.budget.current().handshakes, 0u);
}

TEST(ConnectionBudget, SheddingSparesHandshakesInProgress) {
  harness h{connection_budget({.max_connections = 100, .max_anonymous = 3, .max_per_address = 2})};
  auto started = h.admit("a", 1);  // oldest, still in its handshake
  auto idle = h.admit("a", 2);
  idle->handshake_done();
  auto other = h.admit("b", 3);
  other->handshake_done();
  auto newcomer = h.admit("a", 4);  // over the address's cap: its idle one goes
  EXPECT_EQ(h.shed, std::vector<int>{2});
  auto another = h.admit("c", 5);  // over the anonymous budget: the idle one
  EXPECT_EQ(h.shed, (std::vector<int>{2, 3}));
  auto last = h.admit("d", 6);  // only handshakes left: the oldest of them
  EXPECT_EQ(h.shed, (std::vector<int>{2, 3, 1}));
}

TEST(ConnectionBudget, SilentHandshakesAreShedOnRequest) {
  harness h{connection_budget({.max_connections = 100, .max_anonymous = 50, .max_handshakes = 4})};
  auto stalled = h.budget.admit(
      "a", [&] { h.shed.push_back(1); }, h.budget.start_handshake());
  auto finished = h.budget.admit(
      "b", [&] { h.shed.push_back(2); }, h.budget.start_handshake());
  finished->heard_from();
  finished->handshake_done();
  auto slow = h.budget.admit(
      "c", [&] { h.shed.push_back(3); }, h.budget.start_handshake());
  slow->heard_from();  // under way: left alone until `stalled`
  EXPECT_EQ(h.budget.shed_stalled_handshakes(std::chrono::hours(1), std::chrono::hours(2)),
            0u);  // none that old
  EXPECT_EQ(h.budget.shed_stalled_handshakes(std::chrono::seconds(0), std::chrono::hours(1)), 1u);
  EXPECT_EQ(h.shed, std::vector<int>{1});
  EXPECT_EQ(h.budget.current().handshakes, 1u);
  EXPECT_EQ(h.budget.current().anonymous, 2u);
  // A slow-loris: under way, but past `stalled`.
  EXPECT_EQ(h.budget.shed_stalled_handshakes(std::chrono::seconds(0), std::chrono::seconds(0)), 1u);
  EXPECT_EQ(h.shed, (std::vector<int>{1, 3}));
  EXPECT_EQ(h.budget.current().handshakes, 0u);
}

}  // namespace
}  // namespace valise::server
