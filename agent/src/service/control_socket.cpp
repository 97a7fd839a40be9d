#include "service/control_socket.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/json.hpp>

#include "service/job_runner.hpp"
#include "valise/common/failure.hpp"

namespace valise::agent {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

sockaddr_un address_of(const fs::path& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.native().size() >= sizeof a.sun_path)
    common::fail(path.string() + ": socket path too long", "set a shorter control_socket");
  std::memcpy(a.sun_path, path.c_str(), path.native().size());
  return a;
}

json::object job_json(const job_record& r) {
  return {{"id", r.request.id},
          {"ticket", r.request.ticket},
          {"profile", r.request.profile},
          {"state", name(r.state)},
          {"since", r.request.since ? json::value(*r.request.since) : json::value(nullptr)},
          {"until", r.request.until ? json::value(*r.request.until) : json::value(nullptr)},
          {"error", r.error},
          {"bundle_id", r.bundle_id},
          {"received_at", r.received_at},
          {"updated_at", r.updated_at}};
}

// Reads one line (bounded) with a deadline, so a silent client cannot hold
// the socket.
std::string read_line(int fd, int timeout_ms) {
  std::string line;
  char c = 0;
  while (line.size() < 64 * 1024) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) break;
    const ssize_t n = ::read(fd, &c, 1);
    if (n <= 0 || c == '\n') break;
    line += c;
  }
  return line;
}

void write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

control_server::control_server(fs::path path, job_store& jobs)
    : path_(std::move(path)), jobs_(jobs) {
  std::error_code ec;
  fs::create_directories(path_.parent_path(), ec);
  const auto address = address_of(path_);
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ::unlink(path_.c_str());  // a socket left by a previous run
  if (listen_fd_ < 0 ||
      ::bind(listen_fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
      ::chmod(path_.c_str(), 0660) != 0 || ::listen(listen_fd_, 8) != 0 ||
      ::pipe2(wake_fd_, O_CLOEXEC) != 0) {
    const int e = errno;
    if (listen_fd_ >= 0) ::close(listen_fd_);
    common::fail(path_.string(), std::error_code(e, std::generic_category()));
  }
  thread_ = std::thread([this] { serve(); });
}

control_server::~control_server() {
  if (wake_fd_[1] >= 0) {
    const char stop = 0;
    [[maybe_unused]] auto n = ::write(wake_fd_[1], &stop, 1);
  }
  if (thread_.joinable()) thread_.join();
  for (int fd : {listen_fd_, wake_fd_[0], wake_fd_[1]})
    if (fd >= 0) ::close(fd);
  ::unlink(path_.c_str());
}

void control_server::serve() {
  for (;;) {
    pollfd p[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_[0], POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (p[1].revents) return;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    ucred peer{};
    socklen_t size = sizeof peer;
    const bool known = ::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &size) == 0;
    // Listing is for anyone the socket's mode lets in; deciding only for root
    // and the agent's own user.
    const bool may_decide = known && (peer.uid == 0 || peer.uid == ::geteuid());
    const auto request = read_line(fd, 2000);
    write_all(fd, answer(request, may_decide) + "\n");
    ::close(fd);
  }
}

std::string control_server::answer(const std::string& request, bool may_decide) {
  boost::system::error_code ec;
  auto value = json::parse(request, ec);
  const auto* o = ec ? nullptr : value.if_object();
  const auto text = [&](const char* key) {
    const auto* v = o ? o->if_contains(key) : nullptr;
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
  };
  const auto command = text("command");
  if (command == "jobs") {
    json::array list;
    for (const auto& r : jobs_.all()) list.push_back(job_json(r));
    return json::serialize(json::object{{"jobs", std::move(list)}});
  }
  if (command == "approve" || command == "deny") {
    if (!may_decide)
      return json::serialize(
          json::object{{"error", "only root or the agent's user may approve or deny jobs"}});
    const auto problem =
        job_runner::decide(jobs_, text("job"), command == "approve", text("reason"));
    if (!problem.empty()) return json::serialize(json::object{{"error", problem}});
    return json::serialize(json::object{{"ok", true}});
  }
  return json::serialize(json::object{{"error", "unknown command: use jobs, approve or deny"}});
}

std::string control_request(const fs::path& socket, const std::string& request) {
  const auto address = address_of(socket);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    const int e = errno;
    if (fd >= 0) ::close(fd);
    common::fail(fmt::format("cannot reach the agent at {}: {}", socket.string(), std::strerror(e)),
                 "is valise-agent running (systemctl status valise-agent)? Run this as root or "
                 "as the agent's user, with the same --config");
  }
  write_all(fd, request + "\n");
  auto line = read_line(fd, 10000);
  ::close(fd);
  if (line.empty()) common::fail("the agent did not answer on " + socket.string());
  return line;
}

}  // namespace valise::agent
