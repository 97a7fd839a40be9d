#include "valise/common/secret_file.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace valise::common {
namespace {

std::string cannot_read(const std::filesystem::path& file, int error) {
  return "cannot read " + file.string() + ": " + std::strerror(error) + " (errno " +
         std::to_string(error) + ")";
}

}  // namespace

wiped_string::~wiped_string() {
  // The whole buffer: bytes trimmed off the end (pop_back) stay past size().
  value.resize(value.capacity());
  sodium_memzero(value.data(), value.size());
}

boost::system::result<wiped_string, std::string> secret_from_text(std::string text,
                                                                  const std::string& name) {
  wiped_string secret{std::move(text)};
  auto& v = secret.value;
  while (!v.empty() &&
         (v.back() == '\n' || v.back() == '\r' || v.back() == ' ' || v.back() == '\t'))
    v.pop_back();
  if (v.empty()) return {boost::system::in_place_error, name + " is empty"};
  return secret;
}

boost::system::result<wiped_string, std::string> read_secret_file(const std::filesystem::path& file,
                                                                  secret_file_rules rules) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return {boost::system::in_place_error, cannot_read(file, errno)};
  struct closer {
    int fd;
    ~closer() { ::close(fd); }
  } closing{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return {boost::system::in_place_error, cannot_read(file, errno)};
  if (!S_ISREG(st.st_mode)) return {boost::system::in_place_error, cannot_read(file, EINVAL)};
  if (rules.owner_only && (st.st_mode & 077) != 0)
    return {boost::system::in_place_error,
            file.string() + " may be read by its group or others: chmod 600 " + file.string()};
  if (static_cast<std::uint64_t>(st.st_size) > rules.limit)
    return {boost::system::in_place_error, cannot_read(file, EFBIG)};
  // Read into a buffer of its final size: no reallocation leaves a copy behind.
  wiped_string buffer{std::string(rules.limit + 1, '\0')};
  std::size_t got = 0;
  while (got < buffer.value.size()) {
    const ssize_t n = ::read(fd, buffer.value.data() + got, buffer.value.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return {boost::system::in_place_error, cannot_read(file, errno)};
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got > rules.limit) return {boost::system::in_place_error, cannot_read(file, EFBIG)};
  // Wipe what lies past the end before shrinking: resize keeps the capacity.
  sodium_memzero(buffer.value.data() + got, buffer.value.size() - got);
  buffer.value.resize(got);
  return secret_from_text(std::exchange(buffer.value, {}), file.string());
}

}  // namespace valise::common
