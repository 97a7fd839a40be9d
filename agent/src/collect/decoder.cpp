#include "collect/decoder.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <unistd.h>

#include "collect/decoder_window.hpp"

namespace valise::agent::detail {

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
  if (const auto window = decoder_window(start); window && window->bytes > max_decoder_window) {
    const auto mib = [](std::uint64_t bytes) {
      return std::to_string((bytes + (1 << 20) - 1) >> 20);
    };
    return std::string(window->format) + " with a " + mib(window->bytes) + " MiB " +
           std::string(window->kind) + " needs more memory than the agent allows (" +
           mib(max_decoder_window) +
           " MiB); recompress it with a smaller one (xz -6, zstd without --long) or send it by "
           "hand";
  }
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
