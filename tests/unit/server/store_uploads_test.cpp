// store_uploads over a real store: no state lives between its hooks — what
// pre_create decided travels in the creation plan, and create() without it
// refuses instead of guessing a ticket.
#include "uploads/store_uploads.hpp"

#include <gtest/gtest.h>

#include "ticket_store_fixture.hpp"

namespace valise::server::uploads {
namespace {

constexpr unix_time now = 1'800'000'000;

class StoreUploads : public fixtures::ticket_store_test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(open_store(now));
    policy_.emplace(*db_,
                    limits{.max_upload_bytes = 500, .expires_after = std::chrono::seconds(60)});
  }
  void TearDown() override {
    policy_.reset();
    close_store();
  }

  tus::new_upload asking(tus::metadata fields) {
    return {.length = 100, .fields = std::move(fields), .now = now, .max_bytes = 500};
  }

  std::optional<upload_policy> policy_;
};

TEST_F(StoreUploads, CreateTakesWhatPreCreateDecidedFromThePlan) {
  store_uploads caller(*db_, *policy_, technician_);
  auto u = asking({{"ticket", "T-1"}, {"filename", "a\x01.age"}});
  auto plan = caller.pre_create(u);
  ASSERT_TRUE(plan);
  auto made = caller.create(u, *plan);
  ASSERT_TRUE(made) << made.error().message;
  auto stored = db_->get_upload((*made)->info().id);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->ticket_ref, "T-1");
  EXPECT_EQ(stored->filename, "a_.age");    // the policy's filename
  EXPECT_EQ(stored->expires_at, now + 60);  // the policy's expiry
}

TEST_F(StoreUploads, CreateWithoutPreCreatesPlanRefuses) {
  store_uploads caller(*db_, *policy_, technician_);
  auto made = caller.create(asking({{"ticket", "T-1"}}), tus::creation_plan{});
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error().code, tus::error::internal);
  auto left = db_->receiving_uploads_of_ticket("T-1", now);
  ASSERT_TRUE(left);
  EXPECT_TRUE(left->empty());
}

TEST_F(StoreUploads, OnePlanPerCallerNoneKeptBetweenHooks) {
  // Two pre_creates, then the creations in the other order: each goes where
  // its own plan says.
  ASSERT_TRUE(db_->create_ticket(technician_, {.ref = "T-2", .title = "t", .created_at = now}));
  store_uploads caller(*db_, *policy_, technician_);
  auto one = asking({{"ticket", "T-1"}});
  auto two = asking({{"ticket", "T-2"}});
  auto plan_one = caller.pre_create(one);
  auto plan_two = caller.pre_create(two);
  ASSERT_TRUE(plan_one && plan_two);
  auto first = caller.create(one, *plan_one);
  ASSERT_TRUE(first);
  EXPECT_EQ(db_->get_upload((*first)->info().id)->ticket_ref, "T-1");
}

}  // namespace
}  // namespace valise::server::uploads
