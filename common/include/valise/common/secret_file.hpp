// Secrets read from files (a database password, a webhook's signing secret,
// a helpdesk's API token): one reader, so that each is trimmed, refused when
// empty, and wiped from memory the same way.
#pragma once

#include <boost/system/result.hpp>
#include <filesystem>
#include <string>
#include <utility>

namespace valise::common {

// A secret's copy wiped when it goes out of scope (a move leaves the source
// empty, so only the holder wipes it).
struct wiped_string {
  std::string value;
  wiped_string() = default;
  explicit wiped_string(std::string v) : value(std::move(v)) {}
  wiped_string(wiped_string&& other) noexcept : value(std::exchange(other.value, {})) {}
  wiped_string& operator=(wiped_string&&) = delete;
  wiped_string(const wiped_string&) = delete;
  wiped_string& operator=(const wiped_string&) = delete;
  ~wiped_string();
};

// The secret `text` holds: trailing CR, LF, spaces and tabs removed (a file
// ends with a newline); an empty one is refused ("NAME is empty").
boost::system::result<wiped_string, std::string> secret_from_text(std::string text,
                                                                  const std::string& name);

struct secret_file_rules {
  // Refuse a file its group or others may read: a password file.
  bool owner_only = false;
  std::size_t limit = 64 * 1024;
};

// The secret `file` holds, as secret_from_text. Errors are one line:
// "cannot read FILE: REASON (errno N)", "FILE is empty", or, with
// owner_only, "FILE may be read by its group or others: chmod 600 FILE".
boost::system::result<wiped_string, std::string> read_secret_file(const std::filesystem::path& file,
                                                                  secret_file_rules rules = {});

}  // namespace valise::common
