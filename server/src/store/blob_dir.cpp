#include "store/blob_dir.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace valise::server {
namespace {

std::error_code last_error() {
  return {errno, std::generic_category()};
}

void sync_dir(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

result<void> make_private_dir(const std::filesystem::path& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return last_error();
  return {};
}

struct sized_fd {
  owned_fd fd;
  std::uint64_t size = 0;
};

// Opens `path` (never through a symlink) and reads its size.
result<sized_fd> open_sized(const std::filesystem::path& path, int flags) {
  owned_fd fd(::open(path.c_str(), flags | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) return last_error();
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return last_error();
  return sized_fd{std::move(fd), static_cast<std::uint64_t>(st.st_size)};
}

result<std::uint64_t> available(int fd) {
  struct statvfs st {};
  if (::fstatvfs(fd, &st) != 0) return last_error();
  return static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
}

std::set<std::string> list(const std::filesystem::path& dir) {
  std::set<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
    names.insert(entry.path().filename().string());
  return names;
}

}  // namespace

owned_fd& owned_fd::operator=(owned_fd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

owned_fd::~owned_fd() {
  if (fd_ >= 0) ::close(fd_);
}

result<void> upload_file::append(crypto::bytes data) {
  while (!data.empty()) {
    ssize_t n = ::pwrite(fd_.get(), data.data(), data.size(), static_cast<off_t>(size_));
    if (n < 0) {
      if (errno == EINTR) continue;
      return last_error();
    }
    size_ += static_cast<std::uint64_t>(n);
    data = data.subspan(static_cast<std::size_t>(n));
  }
  return {};
}

result<void> upload_file::append_file(const upload_file& other) {
  off_t from = 0;
  auto to = static_cast<off_t>(size_);
  while (static_cast<std::uint64_t>(from) < other.size_) {
    ssize_t n = ::copy_file_range(other.fd_.get(), &from, fd_.get(), &to,
                                  other.size_ - static_cast<std::uint64_t>(from), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == ENOSYS || errno == EXDEV || errno == EOPNOTSUPP || errno == EINVAL))
      return append_copy(other, static_cast<std::uint64_t>(from));
    if (n < 0) return last_error();
    if (n == 0) return std::make_error_code(std::errc::io_error);  // `other` is shorter than it was
    size_ = static_cast<std::uint64_t>(to);
  }
  return {};
}

// For filesystems without copy_file_range: through a buffer.
result<void> upload_file::append_copy(const upload_file& other, std::uint64_t from) {
  std::vector<std::uint8_t> buffer(256u << 10);
  while (from < other.size_) {
    auto n = other.read_at(from, buffer);
    if (!n) return n.error();
    if (*n == 0) return std::make_error_code(std::errc::io_error);
    if (auto w = append({buffer.data(), *n}); !w) return w;
    from += *n;
  }
  return {};
}

result<std::uint64_t> upload_file::free_bytes() const {
  return available(fd_.get());
}

result<std::size_t> upload_file::read_at(std::uint64_t offset, crypto::mutable_bytes out) const {
  for (;;) {
    ssize_t n = ::pread(fd_.get(), out.data(), out.size(), static_cast<off_t>(offset));
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno != EINTR) return last_error();
  }
}

result<void> upload_file::truncate(std::uint64_t size) {
  if (::ftruncate(fd_.get(), static_cast<off_t>(size)) != 0) return last_error();
  size_ = size;
  return {};
}

void upload_file::start_writeback(std::uint64_t from, std::uint64_t to) {
  if (to > from)
    ::sync_file_range(fd_.get(), static_cast<off_t>(from), static_cast<off_t>(to - from),
                      SYNC_FILE_RANGE_WRITE);
}

result<std::size_t> bundle_file::read(crypto::mutable_bytes out) {
  for (;;) {
    ssize_t n = ::read(fd_.get(), out.data(), out.size());
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno != EINTR) return last_error();
  }
}

result<void> bundle_file::seek(std::uint64_t offset) {
  if (::lseek(fd_.get(), static_cast<off_t>(offset), SEEK_SET) < 0) return last_error();
  return {};
}

result<std::unique_ptr<blob_dir>> blob_dir::open(const std::filesystem::path& root) {
  std::unique_ptr<blob_dir> dir(new blob_dir(root / "uploads", root / "bundles"));
  if (auto r = make_private_dir(dir->uploads_); !r) return r.error();
  if (auto r = make_private_dir(dir->bundles_); !r) return r.error();
  return dir;
}

result<void> blob_dir::create_upload(const std::string& upload_id) {
  int fd = ::open((uploads_ / upload_id).c_str(),
                  O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return last_error();
  ::close(fd);
  sync_dir(uploads_);
  return {};
}

result<upload_file> blob_dir::open_upload(const std::string& upload_id) {
  auto opened = open_sized(uploads_ / upload_id, O_RDWR);
  if (!opened) return opened.error();
  return upload_file(std::move(opened->fd), opened->size);
}

result<upload_file> blob_dir::create_scratch(const std::string& upload_id) {
  owned_fd fd(::open(uploads_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (fd.get() < 0) {
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) return last_error();
    const auto named = uploads_ / (upload_id + ".scratch");
    fd = owned_fd(::open(named.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (fd.get() < 0) return last_error();
    ::unlink(named.c_str());
  }
  return upload_file(std::move(fd), 0);
}

result<std::uint64_t> blob_dir::free_bytes() const {
  owned_fd fd(::open(uploads_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return last_error();
  return available(fd.get());
}

std::uint64_t blob_dir::upload_size(const std::string& upload_id) const {
  struct stat st {};
  if (::stat((uploads_ / upload_id).c_str(), &st) != 0) return 0;
  return static_cast<std::uint64_t>(st.st_size);
}

std::int64_t blob_dir::upload_modified(const std::string& upload_id) const {
  struct stat st {};
  if (::stat((uploads_ / upload_id).c_str(), &st) != 0) return 0;
  return static_cast<std::int64_t>(st.st_mtime);
}

result<std::uint64_t> blob_dir::sync_upload(const std::string& upload_id) {
  auto opened = open_sized(uploads_ / upload_id, O_RDONLY);
  if (!opened) return opened.error();
  if (::fsync(opened->fd.get()) != 0) return last_error();
  return opened->size;
}

result<void> blob_dir::promote(const std::string& upload_id, const std::string& bundle_id) {
  if (::rename((uploads_ / upload_id).c_str(), (bundles_ / bundle_id).c_str()) != 0)
    return last_error();
  sync_dir(bundles_);
  sync_dir(uploads_);
  return {};
}

result<bundle_file> blob_dir::open_bundle(const std::string& bundle_id) {
  auto opened = open_sized(bundles_ / bundle_id, O_RDONLY);
  if (!opened) return opened.error();
  return bundle_file(std::move(opened->fd), opened->size);
}

void blob_dir::remove_upload(const std::string& upload_id) {
  ::unlink((uploads_ / upload_id).c_str());
}

void blob_dir::remove_bundle(const std::string& bundle_id) {
  ::unlink((bundles_ / bundle_id).c_str());
}

void blob_dir::sync() {
  sync_dir(uploads_);
  sync_dir(bundles_);
}

std::set<std::string> blob_dir::list_uploads() const {
  return list(uploads_);
}

std::set<std::string> blob_dir::list_bundles() const {
  return list(bundles_);
}

}  // namespace valise::server
