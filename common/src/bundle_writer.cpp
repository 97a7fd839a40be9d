// Writes a bundle: tar (pax) entries from libarchive, compressed by zstd on
// worker threads into a byte sink, each file hashed as it
// streams (on a thread of its own), manifest last.
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
#include "sealed_buffer.hpp"
#include "sha256.hpp"
#include "utf8_names.hpp"
#include "valise/common/ascii.hpp"
#include "valise/common/bundle.hpp"
#include "zstd_sink.hpp"

namespace valise::common {
namespace {

constexpr std::size_t read_block = 512 * 1024;
constexpr std::size_t read_blocks = 8;  // read ahead of hashing: 4 MiB at most

std::string errno_text(int err) {
  return std::generic_category().message(err);
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
  crypto::byte_sink* final_out = nullptr;  // what `out` compresses into
  writer_options options;
  archive* a = nullptr;
  std::error_code sink_error;
  std::vector<manifest_item> items;
  std::vector<std::string> notes;
  std::set<std::string> paths;
  // SHA-256 runs on a thread of its own: on two cores it fills the gaps the
  // zstd workers leave, which the calling thread alone cannot (pack ~7% faster).
  detail::hash_writer hashes{read_block, read_blocks};
  std::vector<std::size_t> hashed;  // items whose sha256 the hash thread computes
  std::uint64_t bytes_read = 0;

  bool abandoned = false;   // being destroyed: see ~impl
  bool discarding = false;  // write_callback drops libarchive's output (see end_entry)

  // The streamed entry being written (begin_entry .. end_entry).
  struct streamed_entry final : crypto::byte_sink {
    impl& w;
    explicit streamed_entry(impl& writer) : w(writer) {}
    result<void> write(crypto::bytes data) override { return w.entry_write(data, nullptr); }
    result<void> write_owned(std::string& data) override {
      auto r =
          w.entry_write({reinterpret_cast<const std::uint8_t*>(data.data()), data.size()}, &data);
      data.clear();  // a buffer of the hash thread's now, or unsent after an error
      return r;
    }
  };
  streamed_entry entry_sink{*this};
  bool entry_open = false;
  bool entry_framed = false;  // compressed into frames of its own, held in `spill`
  manifest_item current;      // the open entry's item
  std::time_t entry_mtime = 0;
  std::vector<std::uint8_t> stage;  // plaintext of a short entry (capacity entry_memory)
  std::size_t staged = 0;
  std::unique_ptr<detail::sealed_buffer> spill;

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
    if (self->abandoned || self->discarding) return static_cast<la_ssize_t>(size);
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

  // The path as stored: UTF-8 (see utf8_names.hpp), safe, and not taken yet.
  result<std::string> claim_path(std::string_view path) {
    auto stored = detail::utf8_or_escaped(path);
    if (!detail::is_safe_archive_path(stored)) return make_error_code(bundle_errc::unsafe_path);
    if (!paths.insert(stored).second) return make_error_code(bundle_errc::duplicate_path);
    return stored;
  }

  result<void> write_header(const std::string& path, std::uint64_t size, mode_t type,
                            std::time_t mtime) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, path.c_str());
    archive_entry_set_filetype(entry, type);
    archive_entry_set_perm(entry, type == AE_IFDIR ? 0755 : 0644);
    archive_entry_set_size(entry, static_cast<la_int64_t>(size));
    archive_entry_set_mtime(entry, mtime, 0);
    const detail::utf8_locale_scope utf8;
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
          static_cast<std::size_t>(std::min<std::uint64_t>(hashes.buffer_size(), declared - done));
      block.resize(want);  // a pass over it only after a short block
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
      auto written = write_data(reinterpret_cast<const std::uint8_t*>(block.data()), block.size());
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

  result<void> begin_entry(std::string_view name, std::string source, std::time_t mtime) {
    if (entry_open) return std::make_error_code(std::errc::operation_in_progress);
    auto path = claim_path(name);
    if (!path) return path.error();
    if (stage.empty()) {
      stage.resize(std::max<std::size_t>(options.entry_memory, 1));  // touched now: flat RSS
      spill = std::make_unique<detail::sealed_buffer>(options.scratch_dir, options.spill_memory);
    }
    current = failed_item(std::move(*path), std::move(source), {});
    entry_mtime = mtime;
    entry_open = true;
    entry_framed = false;
    staged = 0;
    hashes.begin(current.path, -1, {});
    return {};
  }

  // `data`, or all of `owned` when given: then the string itself goes to the
  // hash thread once zstd has copied it, and another of its pool takes its
  // place.
  result<void> entry_write(crypto::bytes data, std::string* owned) {
    if (!entry_open) return std::make_error_code(std::errc::invalid_argument);
    if (data.empty()) return {};
    current.size += data.size();
    bytes_read += data.size();
    if (options.progress) options.progress(bytes_read);
    auto r = stage_or_compress(data);
    if (!owned) return r ? hashes.append(data) : r;  // the hash thread hashes a copy
    if (r) {
      r = hashes.append(std::move(*owned));
      *owned = hashes.take_buffer();
    }
    return r;
  }

  result<void> stage_or_compress(crypto::bytes data) {
    if (!entry_framed && staged + data.size() <= stage.size()) {
      std::memcpy(stage.data() + staged, data.data(), data.size());
      staged += data.size();
      return {};
    }
    if (!entry_framed) {
      // Too long to hold: what libarchive wrote so far goes out, and this
      // entry's bytes into frames of their own.
      if (archive_write_finish_entry(a) != ARCHIVE_OK) return archive_error();
      if (auto r = out->end_frame(*spill); !r) return r;
      entry_framed = true;
      if (auto r = out->write({stage.data(), staged}); !r) return r;
      crypto::secure_zero(stage.data(), staged);
      staged = 0;
    }
    return out->write(data);
  }

  // The item, listed in the order its entry has in the archive.
  void entry_done(entry_info info) {
    current.error = std::move(info.error);
    current.truncated = info.truncated;
    current.redactions = 0;
    for (const auto& [rule, count] : info.redactions_by_rule) current.redactions += count;
    current.redactions_by_rule = std::move(info.redactions_by_rule);
    hashed.push_back(items.size());
    items.push_back(std::move(current));
    entry_open = false;
  }

  result<void> end_entry(entry_info info) {
    if (!entry_open) return std::make_error_code(std::errc::invalid_argument);
    hashes.end();
    const std::uint64_t size = current.size;
    if (!entry_framed) {
      auto r = write_header(current.path, size, AE_IFREG, entry_mtime);
      if (r) r = write_data(stage.data(), staged);
      crypto::secure_zero(stage.data(), staged);
      staged = 0;
      if (!r) return r;
      entry_done(std::move(info));
      return {};
    }
    // The entry's frames end with the tar padding, as if libarchive had written it.
    static constexpr std::uint8_t zeros[512] = {};
    if (const auto pad = (512 - size % 512) % 512; pad > 0) {
      if (auto r = out->write({zeros, pad}); !r) return r;
    }
    if (auto r = out->end_frame(*final_out); !r) return r;
    // libarchive writes the header (into a frame of its own) and is fed
    // stand-in data, dropped, so that it counts the current as written.
    if (auto r = write_header(current.path, size, AE_IFREG, entry_mtime); !r) return r;
    discarding = true;
    std::uint64_t left = size;
    bool fed = true;
    while (fed && left > 0) {
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(left, stage.size()));
      fed = write_data(stage.data(), n).has_value();
      left -= n;
    }
    fed = fed && archive_write_finish_entry(a) == ARCHIVE_OK;
    discarding = false;
    if (!fed) return archive_error();
    // The entry's frames follow its header once the workers are done with
    // them; meanwhile the next entries go on.
    if (auto r = out->then([this] { return spill->replay(*final_out); }); !r) return r;
    entry_done(std::move(info));
    return {};
  }

  // Once the frames of the entry have reached the spill.
  result<void> drop_spill() {
    return out->then([this] {
      spill->clear();
      return result<void>{};
    });
  }

  result<void> restart_entry() {
    if (!entry_open) return std::make_error_code(std::errc::invalid_argument);
    hashes.end();
    crypto::secure_zero(stage.data(), staged);
    staged = 0;
    result<void> r;
    if (entry_framed) {
      r = out->end_frame(*final_out);  // dropped with the spill
      if (r) r = drop_spill();
      entry_framed = false;
    }
    current.size = 0;
    hashes.begin(current.path, -1, {});  // the hash of the last attempt is the one kept
    return r;
  }

  result<void> abandon_entry(std::string error) {
    if (!entry_open) return std::make_error_code(std::errc::invalid_argument);
    hashes.end();
    crypto::secure_zero(stage.data(), staged);
    staged = 0;
    entry_open = false;
    result<void> r;
    if (entry_framed) {
      r = out->end_frame(*final_out);  // the frame's end goes into the spill, dropped
      if (r) r = drop_spill();
    }
    current.size = 0;
    current.error = std::move(error);
    items.push_back(std::move(current));
    return r;
  }

  result<void> add_tree(std::string_view name, const std::filesystem::path& source, bool top) {
    auto claimed = claim_path(name);
    if (!claimed && claimed.error() == bundle_errc::duplicate_path && !detail::is_utf8(name)) {
      // Escaped, a name that is not UTF-8 may equal one that is (a\xff).
      items.push_back(failed_item(detail::utf8_or_escaped(name), source.string(),
                                  "name not UTF-8 and, escaped, the same as another; skipped"));
      return {};
    }
    if (!claimed) return claimed.error();
    const std::string& path = *claimed;
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
  auto compressor = detail::zstd_sink::create(out, {.level = p->options.zstd_level,
                                                    .threads = p->options.zstd_threads,
                                                    .frame_per_chunk = p->options.frame_per_chunk});
  if (!compressor) return compressor.error();
  p->out = std::move(*compressor);
  p->final_out = &out;
  p->a = archive_write_new();
  if (!p->a || archive_write_set_format_pax_restricted(p->a) != ARCHIVE_OK ||
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
  if (impl_->entry_open) return std::make_error_code(std::errc::operation_in_progress);
  return impl_->add_tree(archive_path, source, true);
}

result<void> bundle_writer::add_bytes(std::string archive_path, crypto::bytes data,
                                      std::string source) {
  if (impl_->entry_open) return std::make_error_code(std::errc::operation_in_progress);
  auto path = impl_->claim_path(archive_path);
  if (!path) return path.error();
  if (auto r = impl_->write_header(*path, data.size(), AE_IFREG, std::time(nullptr)); !r) return r;
  if (auto r = impl_->write_data(data.data(), data.size()); !r) return r;
  detail::sha256 hash;
  hash.update(data);
  auto item = failed_item(std::move(*path), std::move(source), {});
  item.size = data.size();
  item.sha256 = hash.hex_digest();
  impl_->items.push_back(std::move(item));
  return {};
}

void bundle_writer::add_failure(std::string archive_path, std::string source, std::string error) {
  impl_->items.push_back(
      failed_item(detail::utf8_or_escaped(archive_path), std::move(source), std::move(error)));
}

result<crypto::byte_sink*> bundle_writer::begin_entry(std::string archive_path, std::string source,
                                                      std::time_t mtime) {
  if (auto r = impl_->begin_entry(archive_path, std::move(source), mtime); !r) return r.error();
  return &impl_->entry_sink;
}

result<void> bundle_writer::end_entry(entry_info info) {
  return impl_->end_entry(std::move(info));
}

result<void> bundle_writer::restart_entry() {
  return impl_->restart_entry();
}

void bundle_writer::add_note(std::string note) {
  impl_->notes.push_back(std::move(note));
}

result<void> bundle_writer::abandon_entry(std::string error) {
  return impl_->abandon_entry(std::move(error));
}

std::uint64_t bundle_writer::entry_size() const {
  return impl_->entry_open ? impl_->current.size : 0;
}

result<manifest> bundle_writer::finish(manifest header) {
  if (impl_->entry_open) {
    if (auto r = impl_->abandon_entry("not finished"); !r) return r.error();
  }
  if (header.bundle_id.empty()) header.bundle_id = new_bundle_id();
  if (header.created_at.empty()) header.created_at = now_rfc3339();
  header.items = std::move(impl_->items);
  for (auto& note : impl_->notes) header.notes.push_back(std::move(note));
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
