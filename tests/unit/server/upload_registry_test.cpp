// The upload registry's lease with cluster-wide locks (tus/upload_locks.hpp):
// a lease holds the upload's lock for its life, another process holding it
// means no lease, and one process alone (no locks) leases as before.
#include "tus/upload_registry.hpp"

#include <gtest/gtest.h>

#include <set>
#include <vector>

namespace valise::server::tus {
namespace {

// Another process's locks stand in `taken`; this process's in `mine`.
struct fake_locks final : upload_locks {
  std::set<std::string> taken, mine;
  std::vector<std::string> calls;
  bool try_lock(const std::string& id) override {
    calls.push_back("lock " + id);
    if (taken.count(id) || mine.count(id)) return false;
    mine.insert(id);
    return true;
  }
  bool held(const std::string& id) override { return mine.count(id) != 0; }
  void unlock(const std::string& id) override {
    calls.push_back("unlock " + id);
    mine.erase(id);
  }
};

TEST(UploadRegistry, ALeaseHoldsTheClusterLockForItsLife) {
  fake_locks locks;
  upload_registry registry(&locks);
  {
    auto lease = registry.acquire("u1");
    ASSERT_TRUE(lease);
    EXPECT_EQ(locks.mine, std::set<std::string>{"u1"});
    EXPECT_FALSE(registry.acquire("u1"));  // held here: the database is not asked
    auto moved = std::move(lease);
    EXPECT_EQ(locks.mine, std::set<std::string>{"u1"});
  }
  EXPECT_TRUE(locks.mine.empty());
  EXPECT_EQ(locks.calls, (std::vector<std::string>{"lock u1", "unlock u1"}));
}

TEST(UploadRegistry, AnUploadLockedElsewhereGetsNoLeaseUntilFreed) {
  fake_locks locks;
  upload_registry registry(&locks);
  locks.taken.insert("u1");
  EXPECT_FALSE(registry.acquire("u1"));
  EXPECT_FALSE(registry.acquire("u1"));  // tried again each time, never left busy here
  locks.taken.clear();
  auto lease = registry.acquire("u1");
  ASSERT_TRUE(lease);
  EXPECT_TRUE(registry.acquire("u2"));
}

TEST(UploadRegistry, ProgressIsKeptBetweenLeasesAndDroppedWhenForgotten) {
  fake_locks locks;
  upload_registry registry(&locks);
  {
    auto lease = registry.acquire("u1");
    lease->hashed = 42;
  }
  {
    auto lease = registry.acquire("u1");
    EXPECT_EQ(lease->hashed, 42u);
    lease.forget();
  }
  EXPECT_EQ(registry.acquire("u1")->hashed, 0u);
  EXPECT_TRUE(locks.mine.empty());
}

TEST(UploadRegistry, WithoutLocksOneProcessLeasesAlone) {
  upload_registry registry;
  auto lease = registry.acquire("u1");
  ASSERT_TRUE(lease);
  EXPECT_TRUE(lease.held());  // nobody else could take it
  EXPECT_FALSE(registry.acquire("u1"));
}

TEST(UploadRegistry, ALeaseAsksWhetherItsClusterLockIsStillHeld) {
  fake_locks locks;
  upload_registry registry(&locks);
  auto lease = registry.acquire("u1");
  ASSERT_TRUE(lease);
  EXPECT_TRUE(lease.held());
  locks.mine.clear();  // the session that held it ended
  EXPECT_FALSE(lease.held());
  EXPECT_FALSE(upload_registry::lease().held());
}

}  // namespace
}  // namespace valise::server::tus
