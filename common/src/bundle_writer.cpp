// Writes a bundle: tar (pax) entries from libarchive, compressed by zstd's
// worker threads into a byte sink, each file hashed as it streams (on a thread
// of its own), manifest last.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <set>

#include "archive_path.hpp"
#include "hash_writer.hpp"
#include "sha256.hpp"
#include "valise/common/bundle.hpp"
#include "zstd_sink.hpp"

namespace valise::common {
namespace {

constexpr std::size_t read_block = 512 * 1024;
constexpr std::size_t read_blocks = 8;  // read ahead of hashing: 4 MiB at most

std::string errno_text(int err) {
  return std::generic_category().message(err);
}

std::string lowercase_first(std::string text) {
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

std::string kind_of(mode_t mode) {
  if (S_ISLNK(mode)) return "symbolic link, not followed";
  if (S_ISSOCK(mode)) return "socket, skipped";
  if (S_ISFIFO(mode)) return "FIFO, skipped";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "device file, skipped";
  return "not a regular file, skipped";
}

manifest_item failed_item(std::string path, std::string source, std::string error) {
  manifest_item item;
  item.path = std::move(path);
  item.source = std::move(source);
  item.error = std::move(error);
  return item;
}

}  // namespace

struct bundle_writer::impl {
  std::unique_ptr<detail::zstd_sink> out;
  writer_options options;
  archive* a = nullptr;
  std::error_code sink_error;
  std::vector<manifest_item> items;
  std::set<std::string> paths;
  // SHA-256 runs on a thread of its own: on two cores it fills the gaps the
  // zstd workers leave, which the calling thread alone cannot (pack ~7% faster).
  detail::hash_writer hashes{read_block, read_blocks};
  std::vector<std::size_t> hashed;  // items whose sha256 the hash thread computes
  std::uint64_t bytes_read = 0;

  bool abandoned = false;  // being destroyed: see ~impl

  explicit impl(writer_options opts) : options(std::move(opts)) {}

  ~impl() {
    // Abandoned (an error, or no finish()): free() closes the archive, and the
    // end of archive it flushes must not reach a sink that failed or is about
    // to be discarded. (archive_write_fail() would leak libarchive's buffer.)
    abandoned = true;
    if (a) archive_write_free(a);
  }

  static la_ssize_t write_callback(archive*, void* client, const void* data, size_t size) {
    auto* self = static_cast<impl*>(client);
    if (self->abandoned) return static_cast<la_ssize_t>(size);
    auto r = self->out->write({static_cast<const std::uint8_t*>(data), size});
    if (!r) {
      self->sink_error = r.error();
      archive_set_error(self->a, EIO, "%s", r.error().message().c_str());
      return -1;
    }
    return static_cast<la_ssize_t>(size);
  }

  // The error to report after libarchive failed: the sink's, if it was the sink.
  std::error_code archive_error() const {
    if (sink_error) return sink_error;
    const int err = archive_errno(a);
    return {err > 0 ? err : EIO, std::generic_category()};
  }

  result<void> claim_path(const std::string& path) {
    if (!detail::is_safe_archive_path(path)) return make_error_code(bundle_errc::unsafe_path);
    if (!paths.insert(path).second) return make_error_code(bundle_errc::duplicate_path);
    return {};
  }

  result<void> write_header(const std::string& path, std::uint64_t size, mode_t type,
                            std::time_t mtime) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, path.c_str());
    archive_entry_set_filetype(entry, type);
    archive_entry_set_perm(entry, type == AE_IFDIR ? 0755 : 0644);
    archive_entry_set_size(entry, static_cast<la_int64_t>(size));
    archive_entry_set_mtime(entry, mtime, 0);
    const int rc = archive_write_header(a, entry);
    archive_entry_free(entry);
    if (rc != ARCHIVE_OK) return archive_error();
    return {};
  }

  result<void> write_data(const std::uint8_t* data, std::size_t size) {
    while (size > 0) {
      const la_ssize_t n = archive_write_data(a, data, size);
      if (n <= 0) return archive_error();
      data += n;
      size -= static_cast<std::size_t>(n);
    }
    return {};
  }

  // Streams an open file of `declared` bytes (its size when the header was
  // written); the hash thread hashes each block once it is in the archive. A
  // file that grows keeps its first `declared` bytes; one that shrinks or
  // fails mid-read is padded with zeros; both say so in the item.
  result<void> stream_file(int fd, std::uint64_t declared, manifest_item& item) {
    hashes.begin(item.path, -1, {});
    std::uint64_t done = 0;
    std::optional<std::uint64_t> short_at;  // where reading stopped early
    int read_errno = 0;
    while (done < declared) {
      auto block = hashes.take_buffer();
      const auto want =
          static_cast<std::size_t>(std::min<std::uint64_t>(block.size(), declared - done));
      ssize_t n = 0;
      if (!short_at) {
        do n = ::read(fd, block.data(), want);
        while (n < 0 && errno == EINTR);
        if (n <= 0) {
          read_errno = n < 0 ? errno : 0;
          short_at = done;
        }
      }
      if (short_at) {
        std::memset(block.data(), 0, want);
        n = static_cast<ssize_t>(want);
      }
      block.resize(static_cast<std::size_t>(n));
      auto written = write_data(block.data(), block.size());
      (void)hashes.append(std::move(block));  // only file writes fail, and there are none
      if (!written) return written;
      done += static_cast<std::uint64_t>(n);
      if (!short_at) {
        bytes_read += static_cast<std::uint64_t>(n);
        if (options.progress) options.progress(bytes_read);
      }
    }
    hashes.end();
    if (short_at) {
      const auto at = std::to_string(*short_at);
      item.error = read_errno ? "read failed after " + at + " bytes (" +
                                    lowercase_first(errno_text(read_errno)) + "); rest zero-filled"
                              : "file shrank while read; zero-filled after " + at + " bytes";
      item.truncated = true;
    } else {
      std::uint8_t probe;
      if (::read(fd, &probe, 1) == 1) {
        item.error = "file grew while read; first " + std::to_string(declared) + " bytes stored";
        item.truncated = true;
      }
    }
    item.size = declared;
    return {};
  }

  result<void> add_file(const std::string& path, const std::string& source, bool follow) {
    manifest_item item = failed_item(path, source, {});
    const int fd = ::open(source.c_str(), O_RDONLY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
    struct stat st {};
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      item.error = fd < 0 ? lowercase_first(errno_text(errno)) : "not a regular file, skipped";
      if (fd >= 0) ::close(fd);
      items.push_back(std::move(item));
      return {};
    }
    auto r = write_header(path, static_cast<std::uint64_t>(st.st_size), AE_IFREG, st.st_mtime);
    if (r) r = stream_file(fd, static_cast<std::uint64_t>(st.st_size), item);
    ::close(fd);
    if (r) {
      hashed.push_back(items.size());
      items.push_back(std::move(item));
    }
    return r;
  }

  result<void> add_tree(const std::string& path, const std::filesystem::path& source, bool top) {
    if (auto r = claim_path(path); !r) return r;
    struct stat st {};
    if ((top ? ::stat(source.c_str(), &st) : ::lstat(source.c_str(), &st)) != 0) {
      items.push_back(failed_item(path, source.string(), lowercase_first(errno_text(errno))));
      return {};
    }
    if (S_ISREG(st.st_mode)) return add_file(path, source.string(), top);
    if (!S_ISDIR(st.st_mode)) {
      items.push_back(failed_item(path, source.string(), kind_of(st.st_mode)));
      return {};
    }
    if (auto r = write_header(path, 0, AE_IFDIR, st.st_mtime); !r) return r;
    std::error_code ec;
    std::vector<std::filesystem::path> children;
    for (std::filesystem::directory_iterator it(source, ec), end; !ec && it != end;
         it.increment(ec)) {
      children.push_back(it->path());
    }
    if (ec) {
      items.push_back(failed_item(path, source.string(), lowercase_first(ec.message())));
      return {};
    }
    std::sort(children.begin(), children.end());
    for (const auto& child : children) {
      if (auto r = add_tree(path + "/" + child.filename().string(), child, false); !r) return r;
    }
    return {};
  }
};

bundle_writer::bundle_writer(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
bundle_writer::bundle_writer(bundle_writer&&) noexcept = default;
bundle_writer& bundle_writer::operator=(bundle_writer&&) noexcept = default;
bundle_writer::~bundle_writer() = default;

result<bundle_writer> bundle_writer::create(crypto::byte_sink& out, writer_options options) {
  auto p = std::make_unique<impl>(std::move(options));
  auto compressor = detail::zstd_sink::create(
      out, {.level = p->options.zstd_level, .threads = p->options.zstd_threads});
  if (!compressor) return compressor.error();
  p->out = std::move(*compressor);
  p->a = archive_write_new();
  if (!p->a || archive_write_set_format_pax_restricted(p->a) != ARCHIVE_OK ||
      // File names are bytes on Linux: store them as they are, whatever the locale.
      archive_write_set_format_option(p->a, "pax", "hdrcharset", "BINARY") != ARCHIVE_OK ||
      archive_write_set_bytes_per_block(p->a, 0) != ARCHIVE_OK ||
      archive_write_set_bytes_in_last_block(p->a, 1) != ARCHIVE_OK ||
      archive_write_open2(p->a, p.get(), nullptr, &impl::write_callback, nullptr, nullptr) !=
          ARCHIVE_OK) {
    return p->archive_error();
  }
  return bundle_writer(std::move(p));
}

result<void> bundle_writer::add_path(const std::filesystem::path& source,
                                     std::string archive_path) {
  return impl_->add_tree(archive_path, source, true);
}

result<void> bundle_writer::add_bytes(std::string archive_path, crypto::bytes data,
                                      std::string source) {
  if (auto r = impl_->claim_path(archive_path); !r) return r;
  if (auto r = impl_->write_header(archive_path, data.size(), AE_IFREG, std::time(nullptr)); !r)
    return r;
  if (auto r = impl_->write_data(data.data(), data.size()); !r) return r;
  detail::sha256 hash;
  hash.update(data);
  auto item = failed_item(std::move(archive_path), std::move(source), {});
  item.size = data.size();
  item.sha256 = hash.hex_digest();
  impl_->items.push_back(std::move(item));
  return {};
}

void bundle_writer::add_failure(std::string archive_path, std::string source, std::string error) {
  impl_->items.push_back(failed_item(std::move(archive_path), std::move(source), std::move(error)));
}

result<manifest> bundle_writer::finish(manifest header) {
  if (header.bundle_id.empty()) header.bundle_id = new_bundle_id();
  if (header.created_at.empty()) header.created_at = now_rfc3339();
  header.items = std::move(impl_->items);
  auto hashed = impl_->hashes.finish();
  if (!hashed) return hashed.error();
  for (const auto i : impl_->hashed)
    header.items[i].sha256 = (*hashed)[header.items[i].path].sha256;
  header.redactions = 0;
  for (const auto& item : header.items) header.redactions += item.redactions;
  const std::string json = to_json(header);
  const std::string name(manifest_entry_name);
  if (auto r = impl_->write_header(name, json.size(), AE_IFREG, std::time(nullptr)); !r)
    return r.error();
  if (auto r = impl_->write_data(reinterpret_cast<const std::uint8_t*>(json.data()), json.size());
      !r) {
    return r.error();
  }
  if (archive_write_close(impl_->a) != ARCHIVE_OK) return impl_->archive_error();
  if (auto r = impl_->out->finish(); !r) return r.error();
  return header;
}

}  // namespace valise::common
