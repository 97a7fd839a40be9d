// The blob store seam: blob_dir through the blob_store interface the SQL
// store holds, and blob_changes, the one place where files follow committed
// records. And the store's concerns: each is an interface of its own that a
// caller can hold alone.
#include "store/blob_store.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "store/blob_dir.hpp"
#include "store_fixture.hpp"

namespace valise::server {
namespace {

static_assert(std::is_base_of_v<ticket_store, store> && std::is_base_of_v<access_store, store> &&
              std::is_base_of_v<agent_store, store> && std::is_base_of_v<bundle_store, store> &&
              std::is_base_of_v<audit_store, store> && std::is_base_of_v<outbox_store, store>);
static_assert(std::is_abstract_v<blob_store> && std::is_base_of_v<blob_store, blob_dir>);

class Blobs : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/valise-blobs-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    auto opened = blob_dir::open(root_);
    ASSERT_TRUE(opened) << opened.error().message();
    blobs_ = std::move(*opened);
  }
  void TearDown() override {
    blobs_.reset();
    fs::remove_all(root_);
  }
  // A partial upload holding `text`.
  void upload(const std::string& id, const std::string& text) {
    ASSERT_TRUE(blobs_->create_upload(id));
    auto file = blobs_->open_upload(id);
    ASSERT_TRUE(file);
    ASSERT_TRUE(file->append({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}));
  }
  std::string bundle_text(const std::string& id) {
    auto file = blobs_->open_bundle(id);
    EXPECT_TRUE(file) << file.error().message();
    if (!file) return {};
    std::string text(file->size(), '\0');
    auto n = file->read({reinterpret_cast<std::uint8_t*>(text.data()), text.size()});
    EXPECT_TRUE(n);
    return text;
  }

  fs::path root_;
  std::unique_ptr<blob_store> blobs_;
};

TEST_F(Blobs, AnUploadIsWrittenSyncedAndBecomesABundle) {
  upload("upl_1", "age-encryption");
  EXPECT_EQ(blobs_->create_upload("upl_1").error(), std::errc::file_exists);
  EXPECT_EQ(blobs_->upload_size("upl_1"), 14u);
  EXPECT_GT(blobs_->upload_modified("upl_1"), 0);
  auto synced = blobs_->sync_upload("upl_1");
  ASSERT_TRUE(synced);
  EXPECT_EQ(*synced, 14u);
  auto again = blobs_->open_upload("upl_1");  // appends go on at the end
  ASSERT_TRUE(again);
  EXPECT_EQ(again->size(), 14u);

  ASSERT_TRUE(blobs_->promote("upl_1", "bdl_1"));
  EXPECT_TRUE(blobs_->list_uploads().empty());
  EXPECT_EQ(blobs_->list_bundles(), std::set<std::string>{"bdl_1"});
  EXPECT_EQ(bundle_text("bdl_1"), "age-encryption");
  EXPECT_EQ(blobs_->open_upload("upl_1").error(), std::errc::no_such_file_or_directory);
  EXPECT_EQ(blobs_->upload_size("upl_1"), 0u);
  EXPECT_EQ(blobs_->upload_modified("upl_1"), 0);
}

TEST_F(Blobs, AScratchFileHasNoNameAndRemovalsMayFindNothing) {
  upload("upl_1", "age");
  auto scratch = blobs_->create_scratch("upl_1");
  ASSERT_TRUE(scratch);
  ASSERT_TRUE(scratch->append({reinterpret_cast<const std::uint8_t*>("-encryption"), 11}));
  EXPECT_EQ(blobs_->list_uploads(), std::set<std::string>{"upl_1"});
  auto file = blobs_->open_upload("upl_1");
  ASSERT_TRUE(file);
  ASSERT_TRUE(file->append_file(*scratch));
  EXPECT_EQ(blobs_->upload_size("upl_1"), 14u);

  blobs_->remove_upload("upl_1");
  blobs_->remove_upload("upl_1");
  blobs_->remove_bundle("bdl_never");
  blobs_->sync();
  EXPECT_TRUE(blobs_->list_uploads().empty());
  auto free = blobs_->free_bytes();
  ASSERT_TRUE(free);
  EXPECT_GT(*free, 0u);
}

TEST_F(Blobs, ChangesDropThenMakeThenMove) {
  upload("upl_gone", "a");
  upload("upl_done", "age-encryption");
  ASSERT_TRUE(blobs_->create_upload("upl_x"));
  ASSERT_TRUE(blobs_->promote("upl_x", "bdl_gone"));

  blob_changes changes{.drop_uploads = {"upl_gone", "upl_never"},
                       .drop_bundles = {"bdl_gone"},
                       .new_uploads = {"upl_new"},
                       .promotions = {{"upl_done", "bdl_done"}}};
  ASSERT_TRUE(apply(*blobs_, changes));
  EXPECT_EQ(blobs_->list_uploads(), std::set<std::string>{"upl_new"});
  EXPECT_EQ(blobs_->list_bundles(), std::set<std::string>{"bdl_done"});
  EXPECT_EQ(bundle_text("bdl_done"), "age-encryption");

  // A move that cannot happen is the caller's error; what came before it
  // happened all the same (start-up finishes or removes the rest).
  auto failed = apply(*blobs_, {.drop_uploads = {"upl_new"}, .promotions = {{"upl_no", "bdl_no"}}});
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error(), std::errc::no_such_file_or_directory);
  EXPECT_TRUE(blobs_->list_uploads().empty());
  EXPECT_EQ(apply(*blobs_, {.new_uploads = {"upl_dup", "upl_dup"}}).error(),
            std::errc::file_exists);
}

TEST_F(Blobs, APurgeDropsTheFilesOfWhatItDestroyed) {
  purge_report report;
  report.bundles = {{"bdl_1", 10, "ff"}, {"bdl_2", 20, "ee"}};
  report.uploads = {{"upl_1", 5}};
  auto changes = blob_changes::dropping(report);
  EXPECT_EQ(changes.drop_bundles, (std::vector<std::string>{"bdl_1", "bdl_2"}));
  EXPECT_EQ(changes.drop_uploads, std::vector<std::string>{"upl_1"});
  EXPECT_TRUE(changes.new_uploads.empty());
  EXPECT_TRUE(changes.promotions.empty());
}

// A part of the server that needs one concern holds only that interface,
// over the same store.
TEST_F(Store, EachConcernIsAnInterfaceOfItsOwn) {
  ticket_store& tickets = *db_;
  bundle_store& bundles = *db_;
  audit_store& audit = *db_;
  ASSERT_TRUE(tickets.create_ticket(alice_, {.ref = "T-2", .title = "slow"}));
  auto b = upload_bundle(4, alice_);
  auto listed = bundles.list_bundles("T-1");
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().id, b.id);
  auto resolved = tickets.resolve_ticket(alice_, "T-1", std::nullopt);
  ASSERT_TRUE(resolved);
  ASSERT_EQ(resolved->bundles.size(), 1u);
  // The record went first, then the file.
  EXPECT_TRUE(files("bundles").empty());
  auto trail = audit.audit_trail("T-1");
  ASSERT_TRUE(trail);
  EXPECT_EQ(trail->back().action, "purge.resolved");
}

}  // namespace
}  // namespace valise::server
