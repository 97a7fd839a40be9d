#include "clock/clock.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <ctime>
#include <fstream>

#include "valise/common/rfc3339.hpp"

namespace valise::server::clock {
namespace {

std::optional<std::int64_t> read_fake(const std::string& file) {
  std::ifstream in(file);
  if (!in) return std::nullopt;
  std::string text;
  std::getline(in, text);
  while (!text.empty() && (text.back() == '\r' || text.back() == ' ')) text.pop_back();
  return common::parse_rfc3339(text);
}

}  // namespace

const std::optional<std::string>& fake_clock_file() {
  static const std::optional<std::string> file = []() -> std::optional<std::string> {
    const char* v = std::getenv("VALISE_TEST_CLOCK");
    if (v == nullptr || *v == '\0') return std::nullopt;
    return std::string(v);
  }();
  return file;
}

std::int64_t now() {
  const auto& file = fake_clock_file();
  if (!file) return static_cast<std::int64_t>(std::time(nullptr));
  // A file caught half rewritten keeps the last time read: start-up checked
  // that there is one.
  static std::atomic<std::int64_t> last{0};
  if (auto t = read_fake(*file)) last.store(*t, std::memory_order_relaxed);
  return last.load(std::memory_order_relaxed);
}

std::optional<std::string> check_fake_clock() {
  const auto& file = fake_clock_file();
  if (!file) return std::nullopt;
  // Whoever may write the file sets the server's time (expiries, retention,
  // webhook windows): only the server's own user or root.
  struct stat st {};
  if (::stat(file->c_str(), &st) != 0 || (st.st_uid != 0 && st.st_uid != ::geteuid()) ||
      (st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
    return "VALISE_TEST_CLOCK=" + *file +
           ": the file must belong to the server's user (or root) and be writable by it alone; "
           "unset the variable outside tests";
  if (read_fake(*file)) return std::nullopt;
  return "VALISE_TEST_CLOCK=" + *file +
         ": the file must hold one RFC 3339 instant (2026-03-02T09:00:00Z); unset the variable "
         "outside tests";
}

}  // namespace valise::server::clock
