#include "delivery/passphrase_delivery.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "enroll/credentials.hpp"

namespace valise::agent {
namespace {

namespace fs = std::filesystem;

std::string run_notifier(const delivery_config& d, const crypto::secret_string& passphrase,
                         const passphrase_context& c) {
  int in[2], err[2];
  if (::pipe2(in, O_CLOEXEC) != 0)
    return "cannot start the notifier: " + std::string(strerror(errno));
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(in[0]), ::close(in[1]);
    return "cannot start the notifier: " + std::string(strerror(errno));
  }
  std::vector<std::string> env_text = {
      "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8",
      "VALISE_TICKET=" + c.ticket,          "VALISE_JOB=" + c.job,
      "VALISE_BUNDLE_ID=" + c.bundle_id,    "VALISE_HOST=" + c.host,
      "VALISE_PROFILE=" + c.profile};
  std::vector<char*> env, argv;
  for (auto& e : env_text) env.push_back(e.data());
  env.push_back(nullptr);
  std::vector<std::string> args = d.notifier;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in[0], 0);
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(err[1], 2);
    ::setpgid(0, 0);
    ::execve(argv[0], argv.data(), env.data());
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(err[1]);
  if (pid < 0) {
    ::close(in[1]), ::close(err[0]);
    return "cannot start the notifier: " + std::string(strerror(errno));
  }
  // A notifier that exits without reading must not kill the agent.
  ::signal(SIGPIPE, SIG_IGN);
  std::string line(passphrase.view());
  line += '\n';
  const bool sent = ::write(in[1], line.data(), line.size()) == static_cast<ssize_t>(line.size());
  crypto::secure_zero(line.data(), line.size());
  ::close(in[1]);

  // Its error output (capped) explains a failure; the deadline bounds a hung one.
  std::string stderr_text;
  const auto deadline = std::chrono::steady_clock::now() + d.notifier_timeout;
  bool timed_out = false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{err[0], POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[1024];
    const ssize_t n = ::read(err[0], buf, sizeof buf);
    if (n <= 0) break;
    if (stderr_text.size() < 4096) stderr_text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(err[0]);
  if (timed_out) ::kill(-pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  // A script may echo what it was given: never let the passphrase into a message.
  for (auto at = stderr_text.find(passphrase.view());
       !passphrase.view().empty() && at != std::string::npos;
       at = stderr_text.find(passphrase.view()))
    stderr_text.replace(at, passphrase.view().size(), "[passphrase]");
  if (auto nl = stderr_text.find('\n'); nl != std::string::npos) stderr_text.resize(nl);
  const std::string said = stderr_text.empty() ? "" : ": " + stderr_text;
  if (timed_out)
    return fmt::format("the notifier {} did not finish within {} s", d.notifier[0],
                       d.notifier_timeout.count());
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
    return fmt::format("the notifier {} could not be run{}", d.notifier[0], said);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !sent)
    return fmt::format("the notifier {} failed ({}){}", d.notifier[0],
                       WIFEXITED(status) ? fmt::format("exit status {}", WEXITSTATUS(status))
                                         : fmt::format("signal {}", WTERMSIG(status)),
                       said);
  return {};
}

}  // namespace

fs::path passphrase_dir(const fs::path& state_dir) {
  return state_dir / "passphrases";
}

bool can_deliver_passphrase(const delivery_config& d) {
  return !d.notifier.empty() || d.local_passphrase_file;
}

std::string deliver_passphrase(const delivery_config& d, const fs::path& state_dir,
                               const crypto::secret_string& passphrase,
                               const passphrase_context& c) {
  if (!d.notifier.empty()) return run_notifier(d, passphrase, c);
  if (!d.local_passphrase_file)
    return "no way to deliver a passphrase: set [delivery] recipients, notifier or "
           "local_passphrase_file in the agent's config";
  std::error_code ec;
  const auto dir = passphrase_dir(state_dir);
  fs::create_directories(dir, ec);
  fs::permissions(dir, fs::perms::owner_all, ec);
  const crypto::secret_string text(fmt::format("ticket {} job {} bundle {}\n{}\n", c.ticket, c.job,
                                               c.bundle_id, passphrase.view()));
  if (auto w = write_private_file(dir / (c.job + ".txt"), text.view()); !w)
    return fmt::format("cannot write the passphrase file in {}: {}", dir.string(),
                       w.error().message());
  return {};
}

void expire_passphrase_files(const delivery_config& d, const fs::path& state_dir) {
  std::error_code ec;
  const auto now = fs::file_time_type::clock::now();
  for (fs::directory_iterator it(passphrase_dir(state_dir), ec), end; !ec && it != end;
       it.increment(ec)) {
    std::error_code e;
    if (now - it->last_write_time(e) > d.passphrase_file_ttl && !e) fs::remove(it->path(), e);
  }
}

}  // namespace valise::agent
