// The fixture of the store tests: a store over a fresh temporary data
// directory, a technician (alice) and an open ticket T-1.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "valise/server/store.hpp"

namespace valise::server {

namespace fs = std::filesystem;
inline constexpr unix_time now = 1'800'000'000;

class Store : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/valise-store-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    reopen();
    auto token = db_->create_token(actor::system(), role::technician, "alice");
    ASSERT_TRUE(token);
    auto who = db_->authenticate(token->secret, now);
    ASSERT_TRUE(who);
    alice_ = *who;
    ASSERT_TRUE(db_->create_ticket(alice_, {.ref = "T-1", .title = "disk full"}));
  }
  void TearDown() override {
    db_.reset();
    fs::remove_all(dir_);
  }
  void reopen() {
    db_.reset();
    auto opened = store::open_sqlite(dir_);
    ASSERT_TRUE(opened) << opened.error().message();
    db_ = std::move(*opened);
  }
  // A complete bundle of `size` bytes on T-1.
  bundle_info upload_bundle(std::uint64_t size, const actor& by) {
    upload_info u;
    u.ticket_ref = "T-1";
    u.owner_id = by.id;
    u.source = by.label();
    u.filename = "b.age";
    u.length = size;
    u.expires_at = now + 3600;
    auto created = db_->create_upload(by, u, {});
    EXPECT_TRUE(created) << created.error().message();
    auto file = db_->open_upload_file(created->id);
    EXPECT_TRUE(file);
    std::vector<std::uint8_t> bytes(size, 'a');
    EXPECT_TRUE(file->append(bytes));
    auto b = db_->complete_upload(by, created->id, std::string(64, 'f'));
    EXPECT_TRUE(b) << b.error().message();
    return *b;
  }
  // The upload the last completion on T-1 came from, as its audit record
  // names it (empty if none).
  std::string completed_upload_id() {
    std::string id;
    for (const auto& r : *db_->audit_trail("T-1")) {
      auto at = r.detail.find("upl_");
      if (r.action == "upload.completed") id = r.detail.substr(at, r.detail.find('"', at) - at);
    }
    return id;
  }
  std::set<std::string> files(const char* sub) {
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_ / sub)) names.insert(e.path().filename());
    return names;
  }
  void sql(const std::string& statement) {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "valise.db").c_str(), &raw), SQLITE_OK);
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(raw, statement.c_str(), nullptr, nullptr, &error), SQLITE_OK)
        << (error ? error : "");
    sqlite3_free(error);
    sqlite3_close(raw);
  }

  fs::path dir_;
  std::unique_ptr<store> db_;
  actor alice_;
};

}  // namespace valise::server
