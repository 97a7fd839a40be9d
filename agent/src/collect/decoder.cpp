#include "collect/decoder.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <unistd.h>

namespace valise::agent::detail {

boost::system::result<std::unique_ptr<decoder>, std::string> decoder::open(int fd,
                                                                           std::size_t block) {
  std::unique_ptr<decoder> d(new decoder);
  std::uint8_t magic[2] = {};
  if (::pread(fd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
    d->gzip_ = std::make_unique<gzip_reader>(fd);
    return d;
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
