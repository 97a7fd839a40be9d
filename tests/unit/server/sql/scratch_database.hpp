// Where the database layer's tests run: a SQLite file in a temporary
// directory, or a fresh database in the throwaway PostgreSQL cluster that
// ctest starts (tests/postgresql; its URL in VALISE_TEST_POSTGRESQL_URL or in
// the file VALISE_TEST_POSTGRESQL_URL_FILE names).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>

#include "sql/dialect.hpp"
#include "sql/sql.hpp"

namespace valise::server::sql {

inline void PrintTo(backend b, std::ostream* os) {
  *os << (b == backend::sqlite ? "sqlite" : "postgresql");
}

namespace testing {

inline std::string postgresql_url() {
  if (const char* url = std::getenv("VALISE_TEST_POSTGRESQL_URL"); url && *url) return url;
  const char* file = std::getenv("VALISE_TEST_POSTGRESQL_URL_FILE");
  std::string url;
  if (file && *file) std::getline(std::ifstream(file), url);
  if (url.empty())
    throw std::runtime_error(
        "no PostgreSQL cluster: run through ctest (fixture postgresql) or "
        "tests/postgresql/throwaway_cluster.py run -- PROGRAM");
  return url;
}

inline connection open_or_throw(const std::string& url) {
  std::string why;
  auto db = connection::open(url, why);
  if (!db) throw std::runtime_error("cannot open " + url + ": " + why);
  return std::move(*db);
}

inline void exec_or_throw(connection& db, const std::string& sql) {
  if (auto r = db.exec(sql.c_str()); !r)
    throw std::runtime_error(sql + ": " + r.error().message() + ": " + db.error_message());
}

// One database for one test, dropped afterwards.
class scratch_database {
 public:
  explicit scratch_database(backend kind) : kind_(kind) {
    static std::atomic<int> counter{0};
    const std::string name = "t" + std::to_string(::getpid()) + "_" + std::to_string(++counter) +
                             "_" + std::to_string(std::random_device{}() % 100000);
    if (kind == backend::sqlite) {
      dir_ = std::filesystem::temp_directory_path() / ("valise-sql-" + name);
      std::filesystem::create_directories(dir_);
      url_ = "sqlite:" + (dir_ / "test.db").string();
      return;
    }
    server_ = postgresql_url();
    auto admin = open_or_throw(server_);
    // Sorting by language rules, as a database made on most systems does:
    // the layer must not depend on a C locale.
    exec_or_throw(admin, "CREATE DATABASE " + name +
                             " TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' "
                             "LOCALE 'C.UTF-8'");
    name_ = name;
    url_ = server_.substr(0, server_.rfind('/') + 1) + name;
  }
  ~scratch_database() {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
    if (!name_.empty()) {
      std::string why;
      if (auto admin = connection::open(server_, why))
        (void)admin->exec(("DROP DATABASE " + name_ + " WITH (FORCE)").c_str());
    }
  }
  scratch_database(const scratch_database&) = delete;
  scratch_database& operator=(const scratch_database&) = delete;

  backend kind() const { return kind_; }
  const std::string& url() const { return url_; }
  connection open() const { return open_or_throw(url_); }
  // SQLite DDL as this backend runs it.
  std::string ddl(std::string_view sqlite_sql) const {
    return kind_ == backend::postgresql ? postgresql_ddl(sqlite_sql) : std::string(sqlite_sql);
  }

 private:
  backend kind_;
  std::filesystem::path dir_;
  std::string server_, name_, url_;
};

inline std::string backend_name(const ::testing::TestParamInfo<backend>& info) {
  return info.param == backend::sqlite ? "sqlite" : "postgresql";
}

}  // namespace testing
}  // namespace valise::server::sql
