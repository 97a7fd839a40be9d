// Commands from the profile: argv as configured, no shell, in a process group
// of their own, from /, with stdin /dev/null and a clean environment (PATH,
// LANG only). stdout is stored as it comes; stderr (up to 64 KiB) follows it
// after a "--- stderr ---" line. Past command_output_bytes the output is
// drained and dropped, so the command is neither blocked nor killed for it.
// At the timeout the group gets SIGTERM, and SIGKILL 2 s later.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "collect/collectors.hpp"

namespace valise::agent::detail {
namespace {

constexpr const char* clean_path = "/usr/sbin:/usr/bin:/sbin:/bin";
constexpr std::size_t stderr_cap = 64 * 1024;
constexpr auto kill_grace = std::chrono::seconds(2);

using clock = std::chrono::steady_clock;

std::string resolve(const std::string& program) {
  if (program.find('/') != std::string::npos)
    return ::access(program.c_str(), X_OK) == 0 ? program : "";
  std::string_view dirs = clean_path;
  while (!dirs.empty()) {
    const auto colon = dirs.find(':');
    const std::string candidate = std::string(dirs.substr(0, colon)) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    dirs = colon == dirs.npos ? std::string_view() : dirs.substr(colon + 1);
  }
  return "";
}

struct pipe_pair {
  int read = -1, write = -1;
  bool open() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return false;
    read = fds[0], write = fds[1];
    return true;
  }
  void close_read() {
    if (read >= 0) ::close(read);
    read = -1;
  }
  void close_write() {
    if (write >= 0) ::close(write);
    write = -1;
  }
  ~pipe_pair() {
    close_read();
    close_write();
  }
};

std::string describe(const std::vector<std::string>& argv) {
  std::string text = "command:";
  for (const auto& a : argv) text += " " + a;
  return text;
}

// Starts argv[0] at `program`; the child's pid, or -errno.
pid_t spawn(const std::string& program, const std::vector<std::string>& argv, pipe_pair& out,
            pipe_pair& err) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out.write, 1);
  posix_spawn_file_actions_adddup2(&actions, err.write, 2);
  posix_spawn_file_actions_addchdir_np(&actions, "/");
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::string path_env = std::string("PATH=") + clean_path, lang_env = "LANG=C.UTF-8";
  char* env[] = {path_env.data(), lang_env.data(), nullptr};
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, program.c_str(), &actions, &attr, args.data(), env);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  return rc == 0 ? pid : -rc;
}

std::string status_text(int status) {
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status) == 0 ? "" : "exit status " + std::to_string(WEXITSTATUS(status));
  }
  if (WIFSIGNALED(status)) {
    const char* name = sigabbrev_np(WTERMSIG(status));
    return "killed by signal " + std::to_string(WTERMSIG(status)) +
           (name ? std::string(" (SIG") + name + ")" : "");
  }
  return "ended with status " + std::to_string(status);
}

result<void> run_command(collection_run& run, const command_spec& command) {
  const std::string path = archive_name("commands/", command.name + ".txt");
  const std::string source = describe(command.argv);
  if (command.argv.empty()) {
    run.writer.add_failure(path, source, "empty argv");
    return {};
  }
  const std::string program = resolve(command.argv[0]);
  if (program.empty()) {
    run.writer.add_failure(path, source, "command not found: " + command.argv[0]);
    return {};
  }
  if (run.cap_reached()) {
    run.skip_for_cap(path, source);
    return {};
  }
  pipe_pair out, err;
  if (!out.open() || !err.open()) {
    run.writer.add_failure(path, source, std::string("cannot make pipes: ") + std::strerror(errno));
    return {};
  }
  const pid_t pid = spawn(program, command.argv, out, err);
  out.close_write();
  err.close_write();
  if (pid < 0) {
    run.writer.add_failure(path, source, "cannot start: " + std::string(std::strerror(-pid)));
    return {};
  }
  auto sink = item_sink::open(run, path, source, std::time(nullptr));
  if (!sink) {
    ::kill(-pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return sink.error();
  }

  const auto started = clock::now();
  const auto deadline = started + command.timeout;
  std::optional<clock::time_point> killed_at;
  bool timed_out = false, sent_kill = false;
  std::uint64_t kept = 0;
  bool dropped = false;  // output past the cap
  const std::uint64_t cap = run.p.command_output_bytes;
  std::string errors;
  std::vector<std::uint8_t> buffer(64 * 1024);
  result<void> written;
  int status = 0;
  bool reaped = false;
  while (out.read >= 0 || err.read >= 0 || !reaped) {
    const auto now = clock::now();
    if (!timed_out && now >= deadline) {
      timed_out = true;
      ::kill(-pid, SIGTERM);
      killed_at = now;
    }
    if (killed_at && !sent_kill && now >= *killed_at + kill_grace) {
      sent_kill = true;
      ::kill(-pid, SIGKILL);
    }
    if (!reaped) {
      const pid_t w = ::waitpid(pid, &status, WNOHANG);
      reaped = w == pid || (w < 0 && errno == ECHILD);
    }
    // Children that keep the pipes open after the command ended are given
    // until the timeout, like the command itself.
    pollfd fds[2] = {{out.read, POLLIN, 0}, {err.read, POLLIN, 0}};
    const auto next = killed_at ? *killed_at + kill_grace : deadline;
    const auto wait = std::clamp<long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count(), 1, 100);
    if (out.read < 0 && err.read < 0) {
      if (!reaped) ::poll(nullptr, 0, static_cast<int>(wait));
      if (sent_kill && !reaped) {  // SIGKILL cannot be ignored: wait for it
        ::waitpid(pid, &status, 0);
        reaped = true;
      }
      continue;
    }
    if (::poll(fds, 2, static_cast<int>(wait)) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t n = ::read(fds[i].fd, buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        (i == 0 ? out : err).close_read();
        continue;
      }
      const auto room = kept < cap ? cap - kept : 0;
      const auto take =
          static_cast<std::size_t>(std::min<std::uint64_t>(room, static_cast<std::uint64_t>(n)));
      if (i == 0 && take > 0 && written) {
        written = (*sink)->write({buffer.data(), take});
      } else if (i == 1) {
        const auto fit = std::min(take, stderr_cap - std::min(stderr_cap, errors.size()));
        errors.append(reinterpret_cast<const char*>(buffer.data()), fit);
      }
      kept += take;
      dropped = dropped || take < static_cast<std::size_t>(n);
    }
    if (timed_out && sent_kill && reaped) {
      out.close_read();  // grandchildren outside the group may hold them
      err.close_read();
    }
  }
  if (!reaped) ::waitpid(pid, &status, 0);
  if (!written) return written;
  if (!errors.empty()) {
    const std::string header = "\n--- stderr ---\n";
    if (auto r =
            (*sink)->write({reinterpret_cast<const std::uint8_t*>(header.data()), header.size()});
        !r)
      return r;
    if (auto r =
            (*sink)->write({reinterpret_cast<const std::uint8_t*>(errors.data()), errors.size()});
        !r)
      return r;
  }
  std::string error;
  if (timed_out) {
    error = "timed out after " + std::to_string(command.timeout.count()) + " s (" +
            (sent_kill ? "killed" : "terminated") + ")";
  } else {
    error = status_text(status);
  }
  const bool truncated = dropped;
  if (truncated) {
    error += (error.empty() ? "" : "; ") + std::string("output cut at ") + std::to_string(cap) +
             " bytes (command_output_bytes)";
  }
  return (*sink)->close(std::move(error), truncated);
}

}  // namespace

result<void> collect_commands(collection_run& run) {
  for (const auto& command : run.p.commands) {
    if (auto r = run_command(run, command); !r) return r;
  }
  return {};
}

}  // namespace valise::agent::detail
