#include "valise/common/file_io.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <random>

#include "file_write.hpp"
#include "valise/crypto/secret.hpp"

namespace valise::common {
namespace {

std::error_code last_error() {
  return {errno, std::generic_category()};
}

// Creates a hidden, unique name next to the target for the fallback path.
std::string temp_name(const std::filesystem::path& path) {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  char suffix[17];
  std::snprintf(suffix, sizeof suffix, "%016llx", static_cast<unsigned long long>(rng()));
  return "." + path.filename().string() + ".partial-" + suffix;
}

}  // namespace

// ---- file_source ------------------------------------------------------------

result<file_source> file_source::open(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return last_error();
  struct stat st {};
  if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    return std::make_error_code(std::errc::is_a_directory);
  }
  return file_source(fd, true);
}

file_source file_source::standard_input() {
  return file_source(STDIN_FILENO, false);
}

file_source::file_source(file_source&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), owned_(other.owned_) {}

file_source& file_source::operator=(file_source&& other) noexcept {
  if (this != &other) {
    if (owned_ && fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    owned_ = other.owned_;
  }
  return *this;
}

file_source::~file_source() {
  if (owned_ && fd_ >= 0) ::close(fd_);
}

result<std::size_t> file_source::read(crypto::mutable_bytes out) {
  for (;;) {
    const ssize_t n = ::read(fd_, out.data(), out.size());
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno != EINTR) return last_error();
  }
}

std::optional<std::uint64_t> file_source::size() const {
  struct stat st {};
  if (fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return static_cast<std::uint64_t>(st.st_size);
}

// ---- stdout_sink ------------------------------------------------------------

result<void> detail::write_all(int fd, crypto::bytes data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return last_error();
    }
    data = data.subspan(static_cast<std::size_t>(n));
  }
  return {};
}

result<void> stdout_sink::write(crypto::bytes data) {
  return detail::write_all(STDOUT_FILENO, data);
}

// ---- atomic_file ------------------------------------------------------------

result<atomic_file> atomic_file::create(const std::filesystem::path& path, options opts) {
  const bool overwrite = opts.overwrite;
  if (path.filename().empty()) return std::make_error_code(std::errc::is_a_directory);
  struct stat st {};
  if (!overwrite && lstat(path.c_str(), &st) == 0) {
    return std::make_error_code(std::errc::file_exists);
  }
  atomic_file file;
  file.path_ = path;
  file.options_ = opts;
  const auto dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
  file.dir_fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (file.dir_fd_ < 0) return last_error();
  // Unnamed until commit: a crash or failure leaves nothing behind.
  file.fd_ = ::openat(file.dir_fd_, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
  if (file.fd_ < 0) {
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) return last_error();
    file.temp_path_ = temp_name(path);
    file.fd_ = ::openat(file.dir_fd_, file.temp_path_.c_str(),
                        O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (file.fd_ < 0) {
      file.temp_path_.clear();
      return last_error();
    }
  }
  // Before it has a name: never visible with root's ownership (SQLite does
  // the same for the -wal and -shm files it creates as root).
  if (opts.directory_owner && ::geteuid() == 0) {
    struct stat dir_stat {};
    if (::fstat(file.dir_fd_, &dir_stat) != 0 ||
        ::fchown(file.fd_, dir_stat.st_uid, dir_stat.st_gid) != 0)
      return last_error();
  }
  return file;
}

atomic_file::atomic_file(atomic_file&& other) noexcept
    : path_(std::move(other.path_)),
      temp_path_(std::move(other.temp_path_)),
      fd_(std::exchange(other.fd_, -1)),
      dir_fd_(std::exchange(other.dir_fd_, -1)),
      options_(other.options_) {
  other.temp_path_.clear();
}

atomic_file& atomic_file::operator=(atomic_file&& other) noexcept {
  if (this != &other) {
    discard();
    path_ = std::move(other.path_);
    temp_path_ = std::exchange(other.temp_path_, {});
    fd_ = std::exchange(other.fd_, -1);
    dir_fd_ = std::exchange(other.dir_fd_, -1);
    options_ = other.options_;
  }
  return *this;
}

atomic_file::~atomic_file() {
  discard();
}

void atomic_file::discard() noexcept {
  if (fd_ >= 0) ::close(fd_);
  if (!temp_path_.empty() && dir_fd_ >= 0) ::unlinkat(dir_fd_, temp_path_.c_str(), 0);
  if (dir_fd_ >= 0) ::close(dir_fd_);
  fd_ = dir_fd_ = -1;
  temp_path_.clear();
}

result<void> atomic_file::write(crypto::bytes data) {
  return detail::write_all(fd_, data);
}

result<void> atomic_file::commit() {
  if (fd_ < 0) return std::make_error_code(std::errc::bad_file_descriptor);
  if (options_.durable && ::fsync(fd_) != 0) return last_error();
  const auto name = path_.filename();
  if (temp_path_.empty()) {
    // Give the unnamed file a name: directly if it must not replace anything,
    // else under a temporary name renamed over the target.
    const std::string proc = "/proc/self/fd/" + std::to_string(fd_);
    const std::string link_name = options_.overwrite ? temp_name(path_) : name.string();
    if (::linkat(AT_FDCWD, proc.c_str(), dir_fd_, link_name.c_str(), AT_SYMLINK_FOLLOW) != 0) {
      return last_error();
    }
    if (options_.overwrite) temp_path_ = link_name;
  }
  if (!temp_path_.empty()) {
    const unsigned flags = options_.overwrite ? 0 : RENAME_NOREPLACE;
    if (::renameat2(dir_fd_, temp_path_.c_str(), dir_fd_, name.c_str(), flags) != 0) {
      return last_error();
    }
    temp_path_.clear();
  }
  if (options_.durable && ::fsync(dir_fd_) != 0) return last_error();
  ::close(fd_);
  ::close(dir_fd_);
  fd_ = dir_fd_ = -1;
  return {};
}

// ---- read_small_file --------------------------------------------------------

result<std::string> read_small_file(const std::filesystem::path& path, std::size_t limit) {
  auto source = file_source::open(path);
  if (!source) return source.error();
  std::string text;
  text.reserve(std::min<std::size_t>(source->size().value_or(4096), limit) + 1);
  char buf[4096];
  for (;;) {
    auto n = source->read({reinterpret_cast<std::uint8_t*>(buf), sizeof buf});
    if (!n) return n.error();
    if (*n == 0) break;
    if (text.size() + *n > limit) return std::make_error_code(std::errc::file_too_large);
    text.append(buf, *n);
  }
  crypto::secure_zero(buf, sizeof buf);
  return text;
}

// ---- give_to_directory_owner ------------------------------------------------

namespace {

// Gives root's entries of the open directory `dir_fd`, recursively, to
// owner:group. Every step is relative to a descriptor and refuses links
// (O_NOFOLLOW, AT_SYMLINK_NOFOLLOW): the directory belongs to the service's
// user, who could swap a subdirectory for a link to /etc between two path
// lookups, and root would then give away /etc's files. Entries that are not
// root's were not made by the command that calls this and stay as they are.
result<void> give_entries(int dir_fd, uid_t owner, gid_t group, int depth) {
  if (depth > 16) return std::make_error_code(std::errc::too_many_symbolic_link_levels);
  const int listing_fd = ::dup(dir_fd);
  if (listing_fd < 0) return last_error();
  DIR* listing = ::fdopendir(listing_fd);
  if (!listing) {
    ::close(listing_fd);
    return last_error();
  }
  result<void> outcome;
  while (const dirent* entry = ::readdir(listing)) {
    const std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    struct stat st {};
    if (::fstatat(dir_fd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      outcome = last_error();
      break;
    }
    if (st.st_uid != 0) continue;
    if (::fchownat(dir_fd, entry->d_name, owner, group, AT_SYMLINK_NOFOLLOW) != 0) {
      outcome = last_error();
      break;
    }
    if (!S_ISDIR(st.st_mode)) continue;
    const int child =
        ::openat(dir_fd, entry->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (child < 0) {
      outcome = last_error();
      break;
    }
    outcome = give_entries(child, owner, group, depth + 1);
    ::close(child);
    if (!outcome) break;
  }
  ::closedir(listing);
  return outcome;
}

}  // namespace

result<void> give_to_directory_owner(const std::filesystem::path& dir) {
  if (::geteuid() != 0) return {};
  // The directory itself is the administrator's choice (data_dir, state_dir)
  // and may be reached through a link; what is under it may not.
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return last_error();
  struct stat dir_stat {};
  result<void> outcome;
  if (::fstat(dir_fd, &dir_stat) != 0)
    outcome = last_error();
  else if (dir_stat.st_uid != 0)
    outcome = give_entries(dir_fd, dir_stat.st_uid, dir_stat.st_gid, 0);
  ::close(dir_fd);
  return outcome;
}

}  // namespace valise::common
