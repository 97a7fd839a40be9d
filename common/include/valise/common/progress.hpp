// A progress bar on stderr for long runs of the command-line tools (pack,
// open, encrypt, decrypt, send, the agent's collect). It draws only on a
// terminal, at most ten times a second, and erases itself at the end.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "valise/crypto/io.hpp"

namespace valise::common {

class progress_bar {
 public:
  // total 0: unknown (shows bytes and rate only).
  progress_bar(std::string label, std::uint64_t total, bool enabled);
  ~progress_bar();
  progress_bar(const progress_bar&) = delete;
  progress_bar& operator=(const progress_bar&) = delete;

  void update(std::uint64_t done);
  void finish();

 private:
  void draw(std::uint64_t done);
  std::string label_;
  std::uint64_t total_;
  bool enabled_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

// Whether a bar may be drawn at all: stderr is a terminal, no --json/--quiet.
bool progress_allowed(bool quiet);
// ... and the input is big enough to take a noticeable time.
bool want_progress(bool quiet, std::uint64_t total);

// Passes bytes through and reports the running count to a progress bar.
class counting_source final : public crypto::byte_source {
 public:
  counting_source(crypto::byte_source& inner, progress_bar& bar) : inner_(inner), bar_(bar) {}
  result<std::size_t> read(crypto::mutable_bytes out) override;

 private:
  crypto::byte_source& inner_;
  progress_bar& bar_;
  std::uint64_t count_ = 0;
};

class counting_sink final : public crypto::byte_sink {
 public:
  counting_sink(crypto::byte_sink& inner, progress_bar* bar = nullptr) : inner_(inner), bar_(bar) {}
  result<void> write(crypto::bytes data) override;
  std::uint64_t count() const { return count_; }

 private:
  crypto::byte_sink& inner_;
  progress_bar* bar_;
  std::uint64_t count_ = 0;
};

std::string human_size(std::uint64_t bytes);

}  // namespace valise::common
