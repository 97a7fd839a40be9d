// journald, read with sd-journal: the profile's units (each unit's own
// processes, _SYSTEMD_UNIT=, and what systemd itself says about it, _PID=1 +
// UNIT=), or everything with `journal = true`, at journal_max_priority or more
// urgent, within the window. One text file per unit, lines as `journalctl -o
// short-iso-precise` prints them (times in UTC). max_file_bytes keeps the
// first entries of the window (narrow the window to see later ones).
// Multi-line messages continue on indented lines.
#include <systemd/sd-journal.h>

#include <cstring>
#include <ctime>

#include "collect/collectors.hpp"

namespace valise::agent::detail {
namespace {

std::uint64_t usec(std::chrono::system_clock::time_point t) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch());
  return us.count() < 0 ? 0 : static_cast<std::uint64_t>(us.count());
}

std::string errno_text(int err) {
  return std::generic_category().message(err < 0 ? -err : err);
}

class journal_handle {
 public:
  explicit journal_handle(sd_journal* j) : j_(j) {}
  ~journal_handle() { sd_journal_close(j_); }
  journal_handle(const journal_handle&) = delete;
  journal_handle& operator=(const journal_handle&) = delete;
  sd_journal* get() const { return j_; }

 private:
  sd_journal* j_;
};

// A field of the current entry, without "NAME=", or empty.
std::string_view field(sd_journal* j, const char* name) {
  const void* data = nullptr;
  size_t size = 0;
  if (sd_journal_get_data(j, name, &data, &size) < 0) return {};
  const std::string_view all(static_cast<const char*>(data), size);
  const auto eq = all.find('=');
  return eq == all.npos ? std::string_view() : all.substr(eq + 1);
}

bool printable(std::string_view message) {
  for (const unsigned char c : message) {
    if (c < 0x20 && c != '\n' && c != '\t') return false;
  }
  return true;
}

// "2026-11-22T10:00:00.123456+00:00 host ident[pid]: message\n"
void format_entry(sd_journal* j, std::uint64_t t, std::string& line) {
  const std::time_t seconds = static_cast<std::time_t>(t / 1000000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char stamp[64];
  const auto n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(stamp + n, sizeof stamp - n, ".%06llu+00:00",
                static_cast<unsigned long long>(t % 1000000));
  line = stamp;
  line += ' ';
  line += field(j, "_HOSTNAME");
  line += ' ';
  auto ident = field(j, "SYSLOG_IDENTIFIER");
  if (ident.empty()) ident = field(j, "_COMM");
  line += ident.empty() ? "unknown" : ident;
  auto pid = field(j, "_PID");
  if (pid.empty()) pid = field(j, "SYSLOG_PID");
  if (!pid.empty()) line.append("[").append(pid).append("]");
  line += ": ";
  const auto message = field(j, "MESSAGE");
  if (!printable(message)) {
    line += "[" + std::to_string(message.size()) + " B blob data]";
  } else {
    for (const char c : message) {
      line += c;
      if (c == '\n') line += "    ";
    }
  }
  line += '\n';
}

result<void> add_matches(sd_journal* j, const std::string* unit, int max_priority) {
  int rc = 0;
  if (unit) {
    const std::string own = "_SYSTEMD_UNIT=" + *unit;
    const std::string about = "UNIT=" + *unit;
    rc = sd_journal_add_match(j, own.data(), own.size());
    if (rc >= 0) rc = sd_journal_add_disjunction(j);
    if (rc >= 0) rc = sd_journal_add_match(j, "_PID=1", 0);
    if (rc >= 0) rc = sd_journal_add_match(j, about.data(), about.size());
    if (rc >= 0 && max_priority < 7) rc = sd_journal_add_conjunction(j);
  }
  for (int p = 0; rc >= 0 && max_priority < 7 && p <= max_priority; ++p) {
    const std::string match = "PRIORITY=" + std::to_string(p);
    rc = sd_journal_add_match(j, match.data(), match.size());
  }
  if (rc < 0) return std::error_code(-rc, std::generic_category());
  return {};
}

// One output file: the entries of `unit` (all units when null).
result<void> collect_one(collection_run& run, const std::string* unit) {
  const std::string name = unit ? unit->empty() ? "unnamed" : *unit : "all";
  const std::string path = archive_name("journal/", name + ".log");
  const std::string source = "journal: " + (unit ? *unit : std::string("all units"));
  sd_journal* raw = nullptr;
  const auto& dir = run.p.journal_directory;
  const int rc = dir.empty() ? sd_journal_open(&raw, SD_JOURNAL_LOCAL_ONLY)
                             : sd_journal_open_directory(&raw, dir.c_str(), 0);
  if (rc < 0) {
    run.writer.add_failure(path, source, "cannot open the journal: " + errno_text(rc));
    return {};
  }
  journal_handle j(raw);
  if (!add_matches(j.get(), unit, run.p.journal_max_priority)) {
    run.writer.add_failure(path, source, "journal match refused");
    return {};
  }
  auto sink = item_sink::open(run, path, source, std::time(nullptr));
  if (!sink) return sink.error();
  if (!*sink) return {};
  const auto& w = run.window;
  const int seek = w.since ? sd_journal_seek_realtime_usec(j.get(), usec(*w.since))
                           : sd_journal_seek_head(j.get());
  std::string error = seek < 0 ? "cannot seek the journal: " + errno_text(seek) : "";
  std::uint64_t written = 0;
  bool truncated = false;
  std::string line;
  while (error.empty()) {
    const int next = sd_journal_next(j.get());
    if (next < 0) error = "journal read failed: " + errno_text(next);
    if (next <= 0) break;
    std::uint64_t t = 0;
    if (sd_journal_get_realtime_usec(j.get(), &t) < 0) continue;
    if (w.since && t < usec(*w.since)) continue;
    if (w.until && t > usec(*w.until)) break;
    format_entry(j.get(), t, line);
    if (written + line.size() > run.p.max_file_bytes) {
      truncated = true;
      error = "cut at " + std::to_string(run.p.max_file_bytes) +
              " bytes (max_file_bytes): later entries not collected";
      break;
    }
    if (auto r = (*sink)->write({reinterpret_cast<const std::uint8_t*>(line.data()), line.size()});
        !r)
      return r;
    written += line.size();
    if ((*sink)->capped()) break;
  }
  return (*sink)->close(std::move(error), truncated);
}

}  // namespace

result<void> collect_journal(collection_run& run) {
  if (run.p.journal_all) return collect_one(run, nullptr);
  for (const auto& unit : run.p.journal_units) {
    if (auto r = collect_one(run, &unit); !r) return r;
  }
  return {};
}

}  // namespace valise::agent::detail
