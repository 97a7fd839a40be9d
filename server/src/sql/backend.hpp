// What each database implements under sql.hpp's value types (internal to sql/).
#pragma once

#include "sql/sql.hpp"

namespace valise::server::sql::detail {

class statement_impl {
 public:
  virtual ~statement_impl() = default;
  virtual void bind_text(std::string_view text) = 0;
  virtual void bind_integer(std::int64_t value) = 0;
  virtual void bind_blob(std::string_view bytes) = 0;
  virtual void bind_null() = 0;
  virtual result<bool> step() = 0;
  virtual std::string text(int column) const = 0;
  virtual std::int64_t integer(int column) const = 0;
  virtual bool is_null(int column) const = 0;
  virtual void reset() = 0;
};

class connection_impl {
 public:
  virtual ~connection_impl() = default;
  virtual backend kind() const = 0;
  virtual result<void> exec(const char* sql) = 0;
  virtual result<std::unique_ptr<statement_impl>> prepare(std::string_view sql) = 0;
  virtual std::int64_t changes() const = 0;
  virtual std::string error_message() const = 0;
  virtual result<int> schema_version() = 0;
  virtual result<void> set_schema_version(int version) = 0;
  virtual result<void> begin() = 0;
  virtual result<void> commit() = 0;
  virtual void rollback() = 0;
  virtual result<void> listen(std::string_view channel) = 0;
  virtual result<void> notify(std::string_view channel, std::string_view payload) = 0;
  virtual int notification_fd() const = 0;
  virtual result<std::vector<notification>> notifications() = 0;
  virtual std::uint64_t generation() const = 0;
  virtual result<void> set_application_name(std::string_view name) = 0;
};

result<std::unique_ptr<connection_impl>> open_sqlite(const std::filesystem::path& file,
                                                     bool read_only);
result<std::unique_ptr<connection_impl>> open_postgresql(const std::string& uri, std::string* why);

class opening_impl {
 public:
  virtual ~opening_impl() = default;
  virtual opening::wait wants() const = 0;
  virtual int socket() const = 0;
  virtual void step() = 0;
  virtual result<std::unique_ptr<connection_impl>> finish(std::string& why) = 0;
};

std::unique_ptr<opening_impl> start_postgresql(const std::string& uri,
                                               std::vector<std::string> channels);

}  // namespace valise::server::sql::detail
