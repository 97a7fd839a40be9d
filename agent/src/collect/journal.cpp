// journald, read with sd-journal: the profile's units (each unit's own
// processes, _SYSTEMD_UNIT=, and what systemd itself says about it, _PID=1 +
// UNIT=), or everything with `journal = true`, at journal_max_priority or more
// urgent, within the window. One text file per unit, lines as `journalctl -o
// short-iso-precise` prints them (times in UTC). max_file_bytes keeps the
// newest entries of the window, as for a log file: a first pass walks back
// from the window's end to find where they begin.
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

// Calls each(line) for every entry of the window in the journal's order,
// until each returns false. Entries out of order before `since` are skipped;
// the first after `until` ends the walk.
template <class Each>
result<void> for_each_entry(sd_journal* j, const collection_window& w, std::string& line,
                            Each each) {
  const int seek =
      w.since ? sd_journal_seek_realtime_usec(j, usec(*w.since)) : sd_journal_seek_head(j);
  if (seek < 0) return std::error_code(-seek, std::generic_category());
  for (;;) {
    const int next = sd_journal_next(j);
    if (next < 0) return std::error_code(-next, std::generic_category());
    if (next == 0) return {};
    std::uint64_t t = 0;
    if (sd_journal_get_realtime_usec(j, &t) < 0) continue;
    if (w.since && t < usec(*w.since)) continue;
    if (w.until && t > usec(*w.until)) return {};
    format_entry(j, t, line);
    if (!each(line)) return {};
  }
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
  // Two passes, so that max_file_bytes keeps the newest entries as for a log
  // file: the first measures the window, the second skips what does not fit.
  // Entries written in between are left out (the count of the first pass).
  std::string line;
  std::uint64_t entries = 0, bytes = 0;
  auto measured = for_each_entry(j.get(), run.window, line, [&](const std::string& l) {
    ++entries, bytes += l.size();
    return true;
  });
  std::uint64_t seen = 0, skipped = 0;
  auto written = measured;
  result<void> stored;  // the bundle's own failure ends the collection
  if (written && entries > 0) {
    written = for_each_entry(j.get(), run.window, line, [&](const std::string& l) {
      if (++seen > entries) return false;
      if (bytes - skipped > run.p.max_file_bytes) {
        skipped += l.size();
        return true;
      }
      stored = (*sink)->write({reinterpret_cast<const std::uint8_t*>(l.data()), l.size()});
      return stored && !(*sink)->capped();
    });
  }
  if (!stored) return stored;
  std::string error;
  if (!written) error = "journal read failed: " + written.error().message();
  const bool truncated = skipped > 0;
  if (truncated)
    error = "cut to the newest " + std::to_string(run.p.max_file_bytes) +
            " bytes of entries (max_file_bytes): " + std::to_string(skipped) +
            " earlier bytes not collected";
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
