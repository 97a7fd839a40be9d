#include "collect/decoder.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <optional>

#include "collect/decoder_window.hpp"

namespace valise::agent::detail {
namespace {

std::string mebibytes(std::uint64_t bytes) {
  return std::to_string(bytes / (1 << 20) + (bytes % (1 << 20) != 0));
}

// Why `fd` (starting with `head`) is not to be decompressed, if it is not:
// its decoder would fill more than max_decoder_window.
std::optional<std::string> too_large_to_decode(int fd, std::span<const std::uint8_t> head) {
  const auto window = decoder_window(head);
  if (!window || window->bytes <= max_decoder_window) return std::nullopt;
  std::uint64_t fills = window->bytes;
  if (window->content_bytes) fills = std::min(fills, *window->content_bytes);
  struct stat st {};
  if (window->format == "xz" && ::fstat(fd, &st) == 0) {
    std::uint8_t tail[64 * 1024];
    const auto size = static_cast<std::uint64_t>(st.st_size);
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(size, sizeof tail));
    if (::pread(fd, tail, want, static_cast<off_t>(size - want)) == static_cast<ssize_t>(want)) {
      if (const auto content = xz_content_size({tail, want}, size))
        fills = std::min(fills, *content);
    }
  }
  if (fills <= max_decoder_window) return std::nullopt;
  const std::string_view smaller = window->format == "xz"     ? "xz -8 or lower"
                                   : window->format == "zstd" ? "zstd without --long or --ultra"
                                                              : "lzip -8 or lower";
  return std::string(window->format) + " with a " + mebibytes(window->bytes) + " MiB " +
         std::string(window->kind) + " needs more memory than the agent allows (" +
         mebibytes(max_decoder_window) + " MiB); recompress it with " + std::string(smaller) +
         ", or send it by hand";
}

}  // namespace

boost::system::result<std::unique_ptr<decoder>, std::string> decoder::open(int fd,
                                                                           std::size_t block) {
  std::unique_ptr<decoder> d(new decoder);
  std::uint8_t head[64] = {};
  const ssize_t got = ::pread(fd, head, sizeof head, 0);
  const std::span<const std::uint8_t> start(head, got > 0 ? static_cast<std::size_t>(got) : 0);
  if (start.size() >= 2 && head[0] == 0x1f && head[1] == 0x8b) {
    d->gzip_ = std::make_unique<gzip_reader>(fd);
    return d;
  }
  if (auto refusal = too_large_to_decode(fd, start)) return *refusal;
  d->archive_ = archive_read_new();
  archive_read_support_filter_all(d->archive_);
  archive_read_support_format_raw(d->archive_);
  archive_entry* entry = nullptr;
  if (archive_read_open_fd(d->archive_, fd, block) != ARCHIVE_OK ||
      archive_read_next_header(d->archive_, &entry) != ARCHIVE_OK) {
    const char* text = archive_error_string(d->archive_);
    return std::string(text ? text : "unknown format");
  }
  return d;
}

decoder::~decoder() {
  if (archive_) archive_read_free(archive_);
}

decoder::read_result decoder::read(std::span<std::uint8_t> out) {
  if (gzip_) return gzip_->read(out);
  const la_ssize_t n = archive_read_data(archive_, out.data(), out.size());
  if (n >= 0) return static_cast<std::size_t>(n);
  const char* text = archive_error_string(archive_);
  return std::string(text ? text : "error");
}

}  // namespace valise::agent::detail
