#include "valise/common/terminal.hpp"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace valise::common {
namespace {

std::error_code last_error() {
  return {errno, std::generic_category()};
}

// Restores the terminal's echo on every path out, including errors.
class echo_off {
 public:
  explicit echo_off(int fd) : fd_(fd) {
    if (tcgetattr(fd_, &saved_) == 0) {
      termios quiet = saved_;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      active_ = tcsetattr(fd_, TCSAFLUSH, &quiet) == 0;
    }
  }
  ~echo_off() {
    if (active_) tcsetattr(fd_, TCSAFLUSH, &saved_);
  }
  echo_off(const echo_off&) = delete;
  echo_off& operator=(const echo_off&) = delete;

 private:
  int fd_;
  termios saved_{};
  bool active_ = false;
};

}  // namespace

bool is_terminal(int fd) {
  return isatty(fd) == 1;
}

result<crypto::secret_string> read_secret_from_terminal(std::string_view prompt) {
  const int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return last_error();
  std::string line;
  line.reserve(256);  // no reallocation leaving copies of the secret behind
  std::error_code error;
  {
    echo_off guard(fd);
    if (::write(fd, prompt.data(), prompt.size()) < 0) error = last_error();
    char c = 0;
    while (!error) {
      const ssize_t n = ::read(fd, &c, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) error = last_error();
      if (n <= 0 || c == '\n' || c == '\r') break;
      line.push_back(c);
    }
    c = 0;
    if (::write(fd, "\n", 1) < 0 && !error) error = last_error();
  }
  ::close(fd);
  crypto::secret_string secret(std::move(line));
  if (error) return error;
  return secret;
}

}  // namespace valise::common
