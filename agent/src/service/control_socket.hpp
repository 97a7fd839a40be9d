// The local control socket: how a site operator on the agent's host lists
// jobs and approves or denies those waiting (`valise-agent jobs|approve|deny`).
// A Unix socket, mode 0660, and each peer's uid checked (root or the agent's
// own user): the server has no way in. One JSON request line, one JSON answer.
#pragma once

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>

#include "service/job_store.hpp"

namespace valise::agent {

class control_server {
 public:
  // Binds the socket (replacing a stale one); throws common::failure.
  control_server(std::filesystem::path path, job_store& jobs);
  ~control_server();
  control_server(const control_server&) = delete;
  control_server& operator=(const control_server&) = delete;

 private:
  void serve();
  std::string answer(const std::string& request, bool may_decide);
  std::filesystem::path path_;
  job_store& jobs_;
  int listen_fd_ = -1;
  int wake_fd_[2] = {-1, -1};
  std::thread thread_;
};

// Client side: sends one request, returns the answer line; throws
// common::failure when the agent is not running or refuses.
std::string control_request(const std::filesystem::path& socket, const std::string& request);

}  // namespace valise::agent
