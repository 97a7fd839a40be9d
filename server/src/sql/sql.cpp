#include "sql/sql.hpp"

#include <algorithm>
#include <cctype>

#include "sql/backend.hpp"
#include "valise/common/secret_file.hpp"

namespace valise::server::sql {
namespace {

class conditions final : public std::error_category {
 public:
  const char* name() const noexcept override { return "sql"; }
  std::string message(int code) const override {
    switch (static_cast<errc>(code)) {
      case errc::unique_violation:
        return "database: a unique value is taken";
      case errc::constraint_violation:
        return "database: a constraint is not met";
      case errc::busy:
        return "database: busy";
      case errc::connection_lost:
        return "database: no connection";
      case errc::invalid_statement:
        return "database: invalid statement";
      case errc::invalid_text:
        return "database: text it cannot store";
      case errc::corrupt:
        return "database: corrupt";
      case errc::full:
        return "database: full";
    }
    return "database: error";
  }
};

bool has_scheme(std::string_view url) {
  const auto colon = url.find("://");
  if (colon == std::string_view::npos || colon == 0) return false;
  return std::all_of(url.begin(), url.begin() + static_cast<std::ptrdiff_t>(colon), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
  });
}

}  // namespace

const std::error_category& condition_category() {
  static const conditions instance;
  return instance;
}

std::error_condition make_error_condition(errc e) {
  return {static_cast<int>(e), condition_category()};
}

result<location> parse_url(std::string_view url) {
  if (url.starts_with("postgresql://") || url.starts_with("postgres://"))
    return location{backend::postgresql, std::string(url)};
  if (url.starts_with("sqlite:")) {
    url.remove_prefix(7);
    // sqlite:///var/lib/valise/valise.db names /var/lib/valise/valise.db.
    if (url.starts_with("//")) url.remove_prefix(2);
    if (url.empty()) return std::make_error_code(std::errc::invalid_argument);
    return location{backend::sqlite, std::string(url)};
  }
  if (url.empty() || has_scheme(url)) return std::make_error_code(std::errc::invalid_argument);
  return location{backend::sqlite, std::string(url)};
}

connection::connection(std::unique_ptr<detail::connection_impl> impl) : impl_(std::move(impl)) {}
connection::connection(connection&& other) noexcept = default;
connection::~connection() = default;

result<connection> connection::open(std::string_view url) {
  std::string why;
  return open(url, why);
}

result<connection> connection::open(std::string_view url, std::string& why) {
  auto where = parse_url(url);
  if (!where) {
    why = "not a database URL (sqlite:PATH or postgresql://…)";
    return where.error();
  }
  // A PostgreSQL URL may carry the password ([store] password_file's).
  const common::wiped_string target{std::move(where->target)};
  auto impl = where->kind == backend::postgresql ? detail::open_postgresql(target.value, &why)
                                                 : detail::open_sqlite(target.value, false);
  if (!impl) {
    if (why.empty()) why = impl.error().message();
    return impl.error();
  }
  return connection(std::move(*impl));
}

opening::opening(std::unique_ptr<detail::opening_impl> impl) : impl_(std::move(impl)) {}
opening::opening(opening&& other) noexcept = default;
opening::~opening() = default;

opening opening::start(std::string_view url, std::vector<std::string> channels) {
  auto where = parse_url(url);
  if (!where || where->kind != backend::postgresql) return opening(nullptr);
  const common::wiped_string target{std::move(where->target)};
  return opening(detail::start_postgresql(target.value, std::move(channels)));
}

opening::wait opening::wants() const {
  return impl_ ? impl_->wants() : wait::done;
}
int opening::socket() const {
  return impl_ ? impl_->socket() : -1;
}
void opening::step() {
  if (impl_) impl_->step();
}

result<connection> opening::finish(std::string& why) {
  if (!impl_) {
    why = "not a PostgreSQL URL (postgresql://…)";
    return std::make_error_code(std::errc::invalid_argument);
  }
  auto impl = impl_->finish(why);
  if (!impl) return impl.error();
  return connection(std::move(*impl));
}

result<connection> connection::open_read_only(const std::filesystem::path& sqlite_file) {
  auto impl = detail::open_sqlite(sqlite_file, true);
  if (!impl) return impl.error();
  return connection(std::move(*impl));
}

backend connection::kind() const {
  return impl_->kind();
}
result<void> connection::exec(const char* sql) {
  return impl_->exec(sql);
}

result<statement> connection::prepare(std::string_view sql) {
  auto impl = impl_->prepare(sql);
  if (!impl) return impl.error();
  return statement(std::move(*impl));
}

std::int64_t connection::changes() const {
  return impl_->changes();
}
std::string connection::error_message() const {
  return impl_->error_message();
}
result<int> connection::schema_version() {
  return impl_->schema_version();
}
result<void> connection::set_schema_version(int version) {
  return impl_->set_schema_version(version);
}
result<void> connection::listen(std::string_view channel) {
  return impl_->listen(channel);
}
result<void> connection::notify(std::string_view channel, std::string_view payload) {
  return impl_->notify(channel, payload);
}
int connection::notification_fd() const {
  return impl_->notification_fd();
}
result<std::vector<notification>> connection::notifications() {
  return impl_->notifications();
}
std::uint64_t connection::generation() const {
  return impl_->generation();
}
result<void> connection::set_application_name(std::string_view name) {
  return impl_->set_application_name(name);
}

statement::statement(std::unique_ptr<detail::statement_impl> impl) : impl_(std::move(impl)) {}
statement::statement(statement&& other) noexcept = default;
statement::~statement() = default;

statement& statement::bind(std::string_view text) {
  impl_->bind_text(text);
  return *this;
}

statement& statement::bind(std::int64_t value) {
  impl_->bind_integer(value);
  return *this;
}

statement& statement::bind(std::optional<std::uint64_t> value) {
  return value ? bind(*value) : bind_null();
}

statement& statement::bind_null() {
  impl_->bind_null();
  return *this;
}

statement& statement::bind_blob(std::string_view bytes) {
  impl_->bind_blob(bytes);
  return *this;
}

result<bool> statement::step() {
  return impl_->step();
}

void statement::reset() {
  impl_->reset();
}

result<void> statement::run() {
  for (;;) {
    auto row = step();
    if (!row) return row.error();
    if (!*row) return {};
  }
}

result<void> statement::each(const std::function<void()>& on_row) {
  for (;;) {
    auto row = step();
    if (!row) return row.error();
    if (!*row) return {};
    on_row();
  }
}

std::string statement::text(int column) const {
  return impl_->text(column);
}
std::int64_t statement::integer(int column) const {
  return impl_->integer(column);
}
bool statement::is_null(int column) const {
  return impl_->is_null(column);
}

result<transaction> transaction::begin(connection& db) {
  if (auto r = db.impl_->begin(); !r) return r.error();
  return transaction(db);
}

transaction::~transaction() {
  if (db_) db_->impl_->rollback();
}

result<void> transaction::commit() {
  if (auto r = db_->impl_->commit(); !r) {
    // A failed COMMIT leaves nothing to roll back on PostgreSQL and is
    // harmless on SQLite: the destructor still tries.
    return r;
  }
  if (db_->committed_) db_->committed_();
  db_ = nullptr;
  return {};
}

}  // namespace valise::server::sql
