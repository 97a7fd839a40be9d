// Files and globs. glob(3) patterns (`*`, `?`, `[...]`, `{a,b}`; no `**`); a
// match that is a directory is walked (regular files only, symbolic links
// inside it not followed). A symbolic link named by a pattern is followed only
// to a regular file; FIFOs, devices and sockets are never opened (stat first,
// then open with O_NONBLOCK and check again with fstat). Compressed rotated
// logs (.gz, .xz, .bz2, .zst) are stored decompressed, under their name
// without the suffix. A file is left out when its life (birth, when the file
// system knows it, to last change) misses the time window.
#include <fcntl.h>
#include <fnmatch.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <set>
#include <span>

#include "collect/collectors.hpp"
#include "collect/decoder.hpp"
#include "collect/read_ahead.hpp"
#include "valise/common/ascii.hpp"

namespace valise::agent::detail {
namespace {

constexpr std::size_t read_block = 256 * 1024;
constexpr std::size_t read_ahead_blocks = 4;
constexpr std::size_t listed_in_note = 10;

std::string errno_text(int err) {
  return common::lowercase_first(std::generic_category().message(err));
}

std::string_view compression_suffix(std::string_view path) {
  for (std::string_view s : {".gz", ".xz", ".bz2", ".zst"}) {
    if (path.size() > s.size() && path.ends_with(s)) return s;
  }
  return {};
}

std::chrono::system_clock::time_point to_time(const statx_timestamp& t) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(t.tv_sec) +
                                               std::chrono::nanoseconds(t.tv_nsec));
}

// Globs expanded (sorted, once each), directories walked, excludes removed.
struct expansion {
  std::set<std::string> paths;
  std::vector<std::string> notes;
};

void walk(const std::string& dir, expansion& out) {
  std::error_code ec;
  std::filesystem::recursive_directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec) && !it->is_symlink(ec)) out.paths.insert(it->path().string());
  }
  if (ec) out.notes.push_back("directory " + dir + " not read in full: " + ec.message());
}

expansion expand(const profile& p) {
  expansion out;
  for (const auto& pattern : p.files) {
    glob_t g{};
    const int rc = ::glob(pattern.c_str(), GLOB_BRACE | GLOB_TILDE_CHECK, nullptr, &g);
    if (rc == GLOB_NOMATCH) out.notes.push_back("files: " + pattern + " matched nothing");
    if (rc != 0 && rc != GLOB_NOMATCH) out.notes.push_back("files: " + pattern + " not expanded");
    for (std::size_t i = 0; rc == 0 && i < g.gl_pathc; ++i) {
      const std::string path = g.gl_pathv[i];
      struct stat st {};
      if (::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
        walk(path, out);
      } else {
        out.paths.insert(path);
      }
    }
    ::globfree(&g);
  }
  for (auto it = out.paths.begin(); it != out.paths.end();) {
    // A pattern with a '/' is matched against the whole path, one without
    // against the file name ("*.tmp").
    const auto base = it->substr(it->rfind('/') + 1);
    const bool excluded = std::any_of(p.exclude.begin(), p.exclude.end(), [&](const auto& x) {
      const auto& subject = x.find('/') == x.npos ? base : *it;
      return ::fnmatch(x.c_str(), subject.c_str(), FNM_PATHNAME) == 0;
    });
    it = excluded ? out.paths.erase(it) : std::next(it);
  }
  return out;
}

// [from, to) of a file, as read_ahead takes it; a file shorter than that ends early.
read_ahead::source file_range(int fd, std::uint64_t from, std::uint64_t to) {
  return [fd, at = from, to](std::span<std::uint8_t> out) mutable -> read_ahead::fill_result {
    if (at >= to) return std::size_t{0};
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), to - at));
    ssize_t n = 0;
    do n = ::pread(fd, out.data(), want, static_cast<off_t>(at));
    while (n < 0 && errno == EINTR);
    if (n < 0) return errno_text(errno);
    at += static_cast<std::uint64_t>(n);
    return static_cast<std::size_t>(n);
  };
}

class fd_guard {
 public:
  explicit fd_guard(int fd) : fd_(fd) {}
  ~fd_guard() {
    if (fd_ >= 0) ::close(fd_);
  }
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

struct file_collector {
  collection_run& run;
  std::vector<std::uint8_t> buffer = std::vector<std::uint8_t>(read_block);
  std::vector<std::string> outside_window;

  // Why a file keeps only its last `keep` bytes.
  std::string cut_text(std::uint64_t keep) const {
    return "cut to the last " + std::to_string(keep) + " bytes (" +
           (keep < run.p.max_file_bytes ? run.cap_text() : std::string("max_file_bytes")) + ")";
  }

  // Bytes [from, size) of a plain file, from the first line start at or
  // after `from` when it is cut (the newest part of a log is its end).
  result<void> copy_plain(int fd, std::uint64_t size, std::uint64_t keep, item_sink& sink) {
    std::uint64_t from = 0;
    bool truncated = false;
    if (size > keep) {
      truncated = true;
      from = size - keep;
      // Up to one block to find where the next line starts.
      const ssize_t n = ::pread(fd, buffer.data(), buffer.size(), static_cast<off_t>(from));
      if (n > 0) {
        const auto* nl = static_cast<const std::uint8_t*>(
            std::memchr(buffer.data(), '\n', static_cast<std::size_t>(n)));
        if (nl && static_cast<std::uint64_t>(nl - buffer.data()) + 1 < keep)
          from += static_cast<std::uint64_t>(nl - buffer.data()) + 1;
      }
    }
    std::uint64_t done = from;
    std::string error;
    read_ahead reader(file_range(fd, from, size), read_block, read_ahead_blocks);
    while (done < size && !sink.capped()) {
      const auto block = reader.next();
      if (block.data.empty()) {
        error = !block.error.empty()
                    ? "read failed after " + std::to_string(done - from) + " bytes (" +
                          block.error + ")"
                    : "file shrank while read; " + std::to_string(done - from) + " bytes stored";
        break;
      }
      if (auto r = sink.write(block.data); !r) return r;
      done += block.data.size();
    }
    std::uint8_t probe;
    if (error.empty() && !sink.capped() && ::pread(fd, &probe, 1, static_cast<off_t>(size)) == 1)
      error = "file grew while read; stored up to its size when opened";
    if (truncated) error = (error.empty() ? "" : error + "; ") + cut_text(keep);
    return sink.close(std::move(error), truncated);
  }

  // One pass over a decompressed stream: bytes after the first `skip` (and,
  // with `to_line`, after the next newline) go to `sink` while `keep` allows.
  struct pass {
    std::uint64_t total = 0;  // decompressed bytes
    std::string error;
  };
  result<pass> decompress(int fd, std::uint64_t skip, bool to_line, std::uint64_t keep,
                          item_sink& sink) {
    pass out;
    if (::lseek(fd, 0, SEEK_SET) != 0) {
      out.error = errno_text(errno);
      return out;
    }
    auto opened = decoder::open(fd, read_block);
    if (!opened) {
      out.error = "cannot decompress: " + opened.error();
      return out;
    }
    decoder& in = **opened;  // the reader, declared after it, is destroyed first
    read_ahead reader([&in](std::span<std::uint8_t> to) { return in.read(to); }, read_block,
                      read_ahead_blocks);
    std::uint64_t written = 0;
    for (;;) {
      const auto block = reader.next();
      if (!block.error.empty()) {
        out.error =
            "decompression failed after " + std::to_string(out.total) + " bytes: " + block.error;
        break;
      }
      const std::size_t n = block.data.size();
      if (n == 0) break;
      const std::uint64_t start = out.total;
      out.total += n;
      if (out.total <= skip || written >= keep || sink.capped()) continue;
      std::size_t at = start < skip ? static_cast<std::size_t>(skip - start) : 0;
      if (to_line) {
        const auto* nl =
            static_cast<const std::uint8_t*>(std::memchr(block.data.data() + at, '\n', n - at));
        if (!nl) continue;
        at = static_cast<std::size_t>(nl - block.data.data()) + 1;
        to_line = false;
      }
      const auto len = static_cast<std::size_t>(std::min<std::uint64_t>(n - at, keep - written));
      if (auto r = sink.write(block.data.subspan(at, len)); !r) return r.error();
      written += len;
    }
    return out;
  }

  result<void> copy_compressed(int fd, std::uint64_t keep, item_sink& sink) {
    auto first = decompress(fd, 0, false, keep, sink);
    if (!first) return first.error();
    if (first->total <= keep || sink.capped()) return sink.close(first->error, false);
    // Longer than the cap: again, keeping the end, from a line start.
    if (auto r = sink.restart(); !r) return r;
    auto second = decompress(fd, first->total - keep, true, keep, sink);
    if (!second) return second.error();
    auto error = second->error.empty() ? std::string() : second->error + "; ";
    error += cut_text(keep);
    return sink.close(std::move(error), true);
  }

  result<void> collect(const std::string& path, const std::set<std::string>& all) {
    const auto suffix = compression_suffix(path);
    std::string stored = path.substr(0, path.size() - suffix.size());
    if (!suffix.empty() && all.count(stored)) stored = path + ".decompressed";  // both exist
    std::string name = archive_name("files/", stored);

    struct statx sx {};
    if (::statx(AT_FDCWD, path.c_str(), 0, STATX_BASIC_STATS | STATX_BTIME, &sx) != 0) {
      const int err = errno;
      run.writer.add_failure(name, path,
                             err == ENOENT ? "vanished before it was read" : errno_text(err));
      return {};
    }
    if (!S_ISREG(sx.stx_mode)) {
      struct stat lst {};
      const bool link = ::lstat(path.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode);
      run.writer.add_failure(name, path,
                             link ? "symbolic link to a non-regular file, not followed"
                                  : "not a regular file, skipped");
      return {};
    }
    const auto& w = run.window;
    const bool too_old = w.since && to_time(sx.stx_mtime) < *w.since;
    const bool too_new = w.until && (sx.stx_mask & STATX_BTIME) && to_time(sx.stx_btime) > *w.until;
    if (too_old || too_new) {
      outside_window.push_back(path);
      return {};
    }
    if (run.cap_reached()) {
      run.skip_for_cap(name, path);
      return {};
    }
    const int raw = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (raw < 0) {
      const int err = errno;
      run.writer.add_failure(name, path,
                             err == ENOENT ? "vanished before it was read" : errno_text(err));
      return {};
    }
    fd_guard fd(raw);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {  // swapped since statx
      run.writer.add_failure(name, path, "not a regular file, skipped");
      return {};
    }
    const std::uint64_t keep = std::min<std::uint64_t>(run.p.max_file_bytes, run.budget_left());
    auto sink = item_sink::open(run, name, path, st.st_mtime);
    if (!sink) return sink.error();
    if (!*sink) return {};
    if (!suffix.empty()) return copy_compressed(fd.get(), keep, **sink);
    return copy_plain(fd.get(), static_cast<std::uint64_t>(st.st_size), keep, **sink);
  }

  void note_window() {
    if (outside_window.empty()) return;
    std::string note =
        std::to_string(outside_window.size()) + " files outside the time window not collected: ";
    for (std::size_t i = 0; i < outside_window.size() && i < listed_in_note; ++i)
      note += (i ? ", " : "") + outside_window[i];
    if (outside_window.size() > listed_in_note)
      note += " and " + std::to_string(outside_window.size() - listed_in_note) + " more";
    run.writer.add_note(std::move(note));
  }
};

}  // namespace

result<void> collect_files(collection_run& run) {
  auto found = expand(run.p);
  for (auto& note : found.notes) run.writer.add_note(std::move(note));
  file_collector files{run};
  for (const auto& path : found.paths) {
    if (auto r = files.collect(path, found.paths); !r) return r;
  }
  files.note_window();
  return {};
}

}  // namespace valise::agent::detail
