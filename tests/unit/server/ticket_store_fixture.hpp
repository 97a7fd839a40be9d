// What the upload tests start from: a temporary directory holding an SQLite
// store with a technician and ticket T-1, removed after the test. A fixture
// calls open_store() first in its SetUp and close_store() last in its
// TearDown, around what it builds on the store.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "valise/server/store.hpp"

namespace valise::server::fixtures {

class ticket_store_test : public ::testing::Test {
 protected:
  void open_store(unix_time now) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "valise-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto opened = store::open_sqlite(dir_);
    ASSERT_TRUE(opened) << opened.error().message();
    db_ = std::move(*opened);
    auto token = db_->create_token(actor::system(), role::technician, "alice");
    ASSERT_TRUE(token);
    auto who = db_->authenticate(token->secret, now);
    ASSERT_TRUE(who);
    technician_ = *who;
    ASSERT_TRUE(
        db_->create_ticket(technician_, {.ref = "T-1", .title = "disk full", .created_at = now}));
  }
  void close_store() {
    db_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  std::unique_ptr<store> db_;
  actor technician_;
};

}  // namespace valise::server::fixtures
