#include "service/working_set.hpp"

#include <malloc.h>
#include <sys/mman.h>

#include <charconv>
#include <fstream>
#include <sstream>

namespace valise::agent {
namespace {

std::string_view next_line(std::string_view& text) {
  const auto end = text.find('\n');
  const auto line = text.substr(0, end);
  text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
  return line;
}

std::uintptr_t hex(std::string_view text) {
  std::uintptr_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value, 16);
  return value;
}

// "Rss:   900 kB" -> 900, for a line starting with `key`.
std::uint64_t kib_field(std::string_view line, std::string_view key) {
  line.remove_prefix(key.size());
  const auto digits = line.find_first_not_of(' ');
  std::uint64_t value = 0;
  if (digits != std::string_view::npos)
    std::from_chars(line.data() + digits, line.data() + line.size(), value);
  return value;
}

struct mapping {
  clean_mapping range;
  bool candidate = false;  // private, read-only, file-backed
  std::uint64_t rss_kib = 0, anonymous_kib = 0;
  bool locked = false;
  bool droppable() const { return candidate && rss_kib > 0 && anonymous_kib == 0 && !locked; }
};

// "7f00-7f10 r-xp 00026000 08:01 1234   /usr/lib/libc.so.6"
mapping parse_header(std::string_view line) {
  mapping m;
  const auto dash = line.find('-');
  const auto space = line.find(' ');
  if (dash == std::string_view::npos || space == std::string_view::npos || dash > space) return m;
  m.range = {hex(line.substr(0, dash)), hex(line.substr(dash + 1, space - dash - 1)), 0};
  const auto perms = line.substr(space + 1, 4);
  const auto path = line.find(" /");
  m.candidate = perms.size() == 4 && perms[0] == 'r' && perms[1] == '-' && perms[3] == 'p' &&
                path != std::string_view::npos && !line.ends_with(" (deleted)");
  return m;
}

bool is_header(std::string_view line) {
  // Field lines start with a capitalised name ("Rss:"); headers with hex digits.
  return !line.empty() && line.find(':') > line.find(' ');
}

}  // namespace

std::vector<clean_mapping> clean_file_mappings(std::string_view smaps) {
  std::vector<clean_mapping> out;
  mapping current;
  const auto flush = [&] {
    if (!current.droppable()) return;
    current.range.resident_bytes = current.rss_kib * 1024;
    out.push_back(current.range);
  };
  while (!smaps.empty()) {
    const auto line = next_line(smaps);
    if (is_header(line)) {
      flush();
      current = parse_header(line);
    } else if (line.starts_with("Rss:")) {
      current.rss_kib = kib_field(line, "Rss:");
    } else if (line.starts_with("Anonymous:")) {
      current.anonymous_kib = kib_field(line, "Anonymous:");
    } else if (line.starts_with("VmFlags:")) {
      current.locked = line.find(" lo") != std::string_view::npos;
    }
  }
  flush();
  return out;
}

std::uint64_t release_idle_memory() {
  malloc_trim(0);
  std::ifstream in("/proc/self/smaps");
  std::stringstream text;
  text << in.rdbuf();
  std::uint64_t released = 0;
  // MADV_DONTNEED on a private mapping with no copied page only unmaps page
  // cache pages: the next access maps the same bytes again.
  for (const auto& r : clean_file_mappings(text.str())) {
    if (::madvise(reinterpret_cast<void*>(r.begin), r.end - r.begin, MADV_DONTNEED) == 0)
      released += r.resident_bytes;
  }
  return released;
}

}  // namespace valise::agent
