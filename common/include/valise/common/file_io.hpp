// Files as byte streams, and an output file that appears only when complete.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>

#include "valise/crypto/io.hpp"

namespace valise::common {

// Reads from a file descriptor (owned unless it is stdin).
class file_source final : public crypto::byte_source {
 public:
  static result<file_source> open(const std::filesystem::path& path);
  static file_source standard_input();
  file_source(file_source&& other) noexcept;
  file_source& operator=(file_source&& other) noexcept;
  ~file_source() override;

  result<std::size_t> read(crypto::mutable_bytes out) override;
  // Size if the descriptor is a regular file.
  std::optional<std::uint64_t> size() const;

 private:
  file_source(int fd, bool owned) : fd_(fd), owned_(owned) {}
  int fd_ = -1;
  bool owned_ = false;
};

// Writes to stdout (unbuffered; callers write large blocks).
class stdout_sink final : public crypto::byte_sink {
 public:
  result<void> write(crypto::bytes data) override;
};

// A new file that becomes visible at `path` only on commit(): it is written
// unnamed (O_TMPFILE) or under a hidden temporary name and linked or renamed on
// commit; if never committed, nothing is left behind. Mode 0600.
class atomic_file final : public crypto::byte_sink {
 public:
  struct options {
    bool overwrite = false;  // else fails if `path` exists
    // fsync the file and its directory before commit() returns: for data
    // others rely on after a crash (spool, server). Command-line outputs skip
    // it, like cp or age, since the user can run the command again.
    bool durable = false;
    // Run as root, give the file to the directory's owner and group: a tool
    // run with sudo in a service's directory must not leave it files the
    // service cannot read or replace.
    bool directory_owner = false;
  };
  static result<atomic_file> create(const std::filesystem::path& path, options opts);
  atomic_file(atomic_file&& other) noexcept;
  atomic_file& operator=(atomic_file&& other) noexcept;
  ~atomic_file() override;

  result<void> write(crypto::bytes data) override;
  result<void> commit();

 private:
  atomic_file() = default;
  void discard() noexcept;
  std::filesystem::path path_;
  std::filesystem::path temp_path_;  // empty when O_TMPFILE was used
  int fd_ = -1;
  int dir_fd_ = -1;
  options options_;
};

// Reads a whole (small) file: identity files, recipients files, passphrase files.
result<std::string> read_small_file(const std::filesystem::path& path, std::size_t limit = 1 << 20);

// Run as root, gives root's files and directories under `dir` (never
// following a symbolic link below it) to dir's owner and group if that is not
// root: `sudo valise-server init` or `sudo valise-agent enroll` in a service's
// directory must not leave it files the service cannot read. Does nothing
// otherwise.
result<void> give_to_directory_owner(const std::filesystem::path& dir);

}  // namespace valise::common
