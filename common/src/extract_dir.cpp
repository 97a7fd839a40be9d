#include "extract_dir.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "file_write.hpp"
#include "valise/common/bundle.hpp"

namespace valise::common::detail {
namespace {

std::error_code last_error() {
  return {errno, std::generic_category()};
}

// Inside our private directory, EEXIST or ENOTDIR can only come from entries
// that collide (a file where a directory was, or the reverse).
std::error_code creation_error() {
  if (errno == EEXIST || errno == ENOTDIR || errno == ELOOP) {
    return make_error_code(bundle_errc::unsafe_path);
  }
  return last_error();
}

}  // namespace

result<extract_dir> extract_dir::create(const std::filesystem::path& destination) {
  // "out/" names the directory "out", as it does for mkdir.
  auto target = destination;
  while (!target.has_filename() && target.has_relative_path()) target = target.parent_path();
  struct stat st {};
  if (::lstat(target.c_str(), &st) == 0) return make_error_code(bundle_errc::destination_exists);
  const auto name = target.filename();
  if (name.empty() || name == "." || name == "..") {
    return make_error_code(bundle_errc::destination_exists);
  }
  extract_dir dir;
  dir.destination_ = target;
  const auto parent =
      target.parent_path().empty() ? std::filesystem::path(".") : target.parent_path();
  std::string pattern = (parent / ("." + name.string() + ".partial-XXXXXX")).string();
  if (!::mkdtemp(pattern.data())) return last_error();  // mode 0700: private until renamed
  dir.temp_ = pattern;
  dir.fd_ = ::open(dir.temp_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dir.fd_ < 0) return last_error();
  return dir;
}

extract_dir::extract_dir(extract_dir&& other) noexcept
    : destination_(std::move(other.destination_)),
      temp_(std::exchange(other.temp_, {})),
      fd_(std::exchange(other.fd_, -1)) {}

extract_dir::~extract_dir() {
  if (fd_ >= 0) ::close(fd_);
  if (!temp_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(temp_, ec);
  }
}

// Opens (creating as needed) the directories above `path`, never following
// links; returns the parent's descriptor and sets `name` to the last component.
result<int> extract_dir::open_parent(std::string_view path, std::string_view& name) {
  int dir = ::dup(fd_);
  if (dir < 0) return last_error();
  std::size_t start = 0;
  for (auto slash = path.find('/'); slash != path.npos; slash = path.find('/', start)) {
    const std::string part(path.substr(start, slash - start));
    if (::mkdirat(dir, part.c_str(), 0755) != 0 && errno != EEXIST) {
      const auto ec = last_error();
      ::close(dir);
      return ec;
    }
    const int next = ::openat(dir, part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    const auto ec = creation_error();
    ::close(dir);
    if (next < 0) return ec;
    dir = next;
    start = slash + 1;
  }
  name = path.substr(start);
  return dir;
}

result<void> extract_dir::make_directory(std::string_view path) {
  std::string_view name;
  auto parent = open_parent(path, name);
  if (!parent) return parent.error();
  const std::string last(name);
  std::error_code ec;
  if (::mkdirat(*parent, last.c_str(), 0755) != 0) {
    ec = creation_error();
    // The same directory listed twice is fine; a file of that name is not.
    struct stat st {};
    if (errno == EEXIST && ::fstatat(*parent, last.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISDIR(st.st_mode)) {
      ec.clear();
    }
  }
  ::close(*parent);
  if (ec) return ec;
  return {};
}

result<int> extract_dir::create_file(std::string_view path) {
  std::string_view name;
  auto parent = open_parent(path, name);
  if (!parent) return parent.error();
  const std::string last(name);
  const int fd =
      ::openat(*parent, last.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  const auto ec = creation_error();
  ::close(*parent);
  if (fd < 0) return ec;
  return fd;
}

result<void> extract_dir::write_file(std::string_view path, crypto::bytes data) {
  auto fd = create_file(path);
  if (!fd) return fd.error();
  auto written = write_all(*fd, data);
  if (::close(*fd) != 0 && written) return last_error();
  return written;
}

result<void> extract_dir::commit() {
  // The directory keeps mkdtemp's 0700: diagnostics are for the technician only.
  if (::renameat2(AT_FDCWD, temp_.c_str(), AT_FDCWD, destination_.c_str(), RENAME_NOREPLACE) != 0) {
    return errno == EEXIST ? make_error_code(bundle_errc::destination_exists) : last_error();
  }
  temp_.clear();
  return {};
}

}  // namespace valise::common::detail
