#include "valise/common/progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace valise::common {
namespace {

constexpr std::uint64_t progress_threshold = 32ull << 20;  // smaller inputs finish at once
constexpr int bar_width = 30;

}  // namespace

std::string human_size(std::uint64_t bytes) {
  static constexpr const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  return unit == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", value, units[unit]);
}

bool progress_allowed(bool quiet) {
  return !quiet && ::isatty(STDERR_FILENO) == 1;
}

bool want_progress(bool quiet, std::uint64_t total) {
  return total >= progress_threshold && progress_allowed(quiet);
}

progress_bar::progress_bar(std::string label, std::uint64_t total, bool enabled)
    : label_(std::move(label)),
      total_(total),
      enabled_(enabled),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

progress_bar::~progress_bar() {
  finish();
}

void progress_bar::update(std::uint64_t done) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  draw(done);
}

void progress_bar::draw(std::uint64_t done) {
  const double seconds = std::chrono::duration<double>(last_draw_ - start_).count();
  const auto rate =
      seconds > 0 ? static_cast<std::uint64_t>(static_cast<double>(done) / seconds) : 0;
  std::string line;
  if (total_ > 0) {
    const double fraction = std::min(1.0, static_cast<double>(done) / static_cast<double>(total_));
    const int filled = static_cast<int>(fraction * bar_width);
    line = fmt::format("\r{} [{}{}] {:3.0f}% {} / {}  {}/s", label_, std::string(filled, '#'),
                       std::string(bar_width - filled, '.'), fraction * 100, human_size(done),
                       human_size(total_), human_size(rate));
  } else {
    line = fmt::format("\r{} {}  {}/s", label_, human_size(done), human_size(rate));
  }
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
}

void progress_bar::finish() {
  if (!enabled_) return;
  enabled_ = false;
  std::fputs("\r\033[K", stderr);  // erase the bar: the summary follows
  std::fflush(stderr);
}

result<std::size_t> counting_source::read(crypto::mutable_bytes out) {
  auto n = inner_.read(out);
  if (n) {
    count_ += *n;
    bar_.update(count_);
  }
  return n;
}

result<void> counting_sink::write(crypto::bytes data) {
  auto r = inner_.write(data);
  if (r) {
    count_ += data.size();
    if (bar_) bar_->update(count_);
  }
  return r;
}

}  // namespace valise::common
