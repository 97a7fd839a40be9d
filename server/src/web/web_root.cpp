#include "web/web_root.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <system_error>

#include "web/static_site.hpp"

namespace valise::server::web {
namespace {

class fd_guard {
 public:
  explicit fd_guard(int fd) : fd_(fd) {}
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  ~fd_guard() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

bool directory_exists(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::is_directory(p, ec);
}

}  // namespace

web_root web_root::locate(const std::filesystem::path& configured,
                          const std::filesystem::path& exe_dir) {
  web_root root;
  if (!configured.empty()) {
    root.candidates_ = {configured};
  } else if (!exe_dir.empty()) {
    // Installed: /usr/bin/valise-server → /usr/share/valise/web; the build
    // tree: build/ci/server/valise-server → build/ci/web.
    root.candidates_ = {(exe_dir / ".." / "share" / "valise" / "web").lexically_normal(),
                        (exe_dir / ".." / "web").lexically_normal()};
  }
  for (const auto& c : root.candidates_)
    if (directory_exists(c)) {
      root.dir_ = c;
      break;
    }
  return root;
}

std::filesystem::path web_root::executable_dir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path() : exe.parent_path();
}

std::string web_root::looked_in() const {
  if (candidates_.empty())
    return "no directory: [web] root is unset and the executable's is unknown";
  std::string out;
  for (const auto& c : candidates_) out += (out.empty() ? "" : " or ") + c.string();
  return out;
}

std::optional<std::string> web_root::read(std::string_view file) const {
  if (dir_.empty()) return std::nullopt;
  fd_guard root(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (root.get() < 0) return std::nullopt;
  // Only a page beside the root or a file directly under assets/, each
  // name checked again here (whatever the caller resolved), each component
  // opened without following a link: nothing outside the root is reachable.
  int parent = root.get();
  std::optional<fd_guard> subdir;
  std::string_view name = file;
  if (name.starts_with("assets/")) {
    name.remove_prefix(7);
    subdir.emplace(::openat(parent, "assets", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (subdir->get() < 0) return std::nullopt;
    parent = subdir->get();
  }
  if (!valid_asset_name(name)) return std::nullopt;
  const std::string leaf(name);
  // O_NONBLOCK: a FIFO put there does not block the thread (and is refused).
  fd_guard fd(::openat(parent, leaf.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (fd.get() < 0) return std::nullopt;
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) ||
      static_cast<std::uint64_t>(st.st_size) > max_file_bytes)
    return std::nullopt;
  std::string out(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t filled = 0;
  while (filled < out.size()) {
    const auto n = ::read(fd.get(), out.data() + filled, out.size() - filled);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // shrank meanwhile: serve what is there
    filled += static_cast<std::size_t>(n);
  }
  out.resize(filled);
  return out;
}

}  // namespace valise::server::web
