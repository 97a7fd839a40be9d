// Reads a bundle back: every entry is hashed as it streams out of libarchive
// and compared with manifest.json (the last entry) once the archive ends.
#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <optional>
#include <set>

#include "archive_path.hpp"
#include "extract_dir.hpp"
#include "hash_writer.hpp"
#include "utf8_names.hpp"
#include "valise/common/bundle.hpp"

namespace valise::common {
namespace {

constexpr std::size_t read_block = 256 * 1024;
constexpr std::size_t max_manifest_size = 64 << 20;

std::error_code error(bundle_errc e) {
  return make_error_code(e);
}

using detail::stored_entry;

// The paths of the entries read so far. Collisions (a file where a directory
// goes, or the reverse) are refused whether or not anything is extracted, so
// that `open --check` and `open` agree.
class entry_paths {
 public:
  std::error_code add(const std::string& path, bool is_directory) {
    for (auto slash = path.find('/'); slash != path.npos; slash = path.find('/', slash + 1)) {
      auto parent = path.substr(0, slash);
      if (files_.count(parent)) return error(bundle_errc::unsafe_path);
      directories_.insert(std::move(parent));
    }
    if (is_directory) {
      if (files_.count(path)) return error(bundle_errc::unsafe_path);
      directories_.insert(path);
      return {};
    }
    if (directories_.count(path)) return error(bundle_errc::unsafe_path);
    if (!files_.insert(path).second) return error(bundle_errc::unlisted_entry);  // twice
    return {};
  }

 private:
  std::set<std::string> files_;
  std::set<std::string> directories_;
};

class archive_reader {
 public:
  archive_reader(crypto::byte_source& in, read_options options)
      : in_(in), options_(std::move(options)), a_(archive_read_new()) {}
  ~archive_reader() { archive_read_free(a_); }
  archive_reader(const archive_reader&) = delete;
  archive_reader& operator=(const archive_reader&) = delete;

  // Reads everything; writes files into `out` if given. Returns the manifest
  // once every stored entry matched it.
  result<manifest> run(detail::extract_dir* out) {
    auto m = read_all(out);
    if (!m && m.error().category() == bundle_category() && !entry_.empty() &&
        options_.on_bad_entry) {
      options_.on_bad_entry(entry_);
    }
    return m;
  }

  // manifest.json as stored, once run() read it.
  const std::string& manifest_text() const { return manifest_text_; }

 private:
  result<manifest> read_all(detail::extract_dir* out) {
    if (archive_read_support_filter_zstd(a_) != ARCHIVE_OK ||
        archive_read_support_format_tar(a_) != ARCHIVE_OK ||
        archive_read_open(a_, this, nullptr, &archive_reader::read_callback, nullptr) !=
            ARCHIVE_OK) {
      return failure();
    }
    detail::hash_writer files;  // hashes and writes on its own thread
    entry_paths paths;
    std::optional<manifest> found;
    for (bool first = true;; first = false) {
      archive_entry* entry = nullptr;
      const int rc = next_header(&entry);
      if (rc != ARCHIVE_OK && rc != ARCHIVE_EOF) return failure();
      // libarchive always reads uncompressed input too: a bundle is zstd.
      if (first && archive_filter_code(a_, 0) != ARCHIVE_FILTER_ZSTD) {
        return error(bundle_errc::not_a_bundle);
      }
      if (rc == ARCHIVE_EOF) break;
      const std::string path = archive_entry_pathname(entry) ? archive_entry_pathname(entry) : "";
      entry_ = path;
      if (found) return error(bundle_errc::unlisted_entry);  // nothing may follow the manifest
      const auto type = archive_entry_filetype(entry);
      if (archive_entry_hardlink(entry) || archive_entry_symlink(entry)) {
        return error(bundle_errc::unsupported_entry);
      }
      if (path == manifest_entry_name && type == AE_IFREG) {
        auto m = read_manifest();
        if (!m) return m.error();
        found = std::move(*m);
        continue;
      }
      std::string clean = path;
      if (type == AE_IFDIR && clean.size() > 1 && clean.back() == '/') clean.pop_back();
      if (!detail::is_safe_archive_path(clean)) return error(bundle_errc::unsafe_path);
      if (type != AE_IFDIR && type != AE_IFREG) return error(bundle_errc::unsupported_entry);
      if (auto ec = paths.add(clean, type == AE_IFDIR)) return ec;
      if (type == AE_IFDIR) {
        if (out) {
          if (auto r = out->make_directory(clean); !r) return r.error();
        }
        continue;
      }
      const timespec mtime{archive_entry_mtime(entry), archive_entry_mtime_nsec(entry)};
      if (auto r = read_file(clean, mtime, out, files); !r) return r.error();
    }
    entry_.clear();
    auto stored = files.finish();
    if (!stored) return stored.error();
    if (!found) return error(bundle_errc::manifest_missing);
    if (auto r = compare(*found, *stored); !r) return r.error();
    return std::move(*found);
  }

  // Names are UTF-8 in pax headers: read them as they are, whatever the locale.
  int next_header(archive_entry** entry) {
    const detail::utf8_locale_scope utf8;
    return archive_read_next_header(a_, entry);
  }

  static la_ssize_t read_callback(archive*, void* client, const void** buffer) {
    auto* self = static_cast<archive_reader*>(client);
    auto n = self->in_.read(self->buffer_);
    if (!n) {
      self->source_error_ = n.error();
      archive_set_error(self->a_, EIO, "%s", n.error().message().c_str());
      return -1;
    }
    *buffer = self->buffer_.data();
    return static_cast<la_ssize_t>(*n);
  }

  // A libarchive failure: the source's own error (a bad chunk, an I/O error)
  // if that was the cause, else the archive is not a bundle.
  std::error_code failure() const {
    if (source_error_) return source_error_;
    return error(bundle_errc::not_a_bundle);
  }

  std::error_code data_error(std::error_code io) const {
    if (source_error_) return source_error_;
    return io ? io : error(bundle_errc::not_a_bundle);
  }

  result<manifest> read_manifest() {
    std::string& json = manifest_text_;
    const void* block = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    for (;;) {
      const int rc = archive_read_data_block(a_, &block, &size, &offset);
      if (rc == ARCHIVE_EOF) break;
      if (rc != ARCHIVE_OK) return data_error({});
      if (json.size() + size > max_manifest_size) return error(bundle_errc::manifest_invalid);
      json.append(static_cast<const char*>(block), size);
    }
    return parse_manifest(json);
  }

  result<void> read_file(const std::string& path, timespec mtime, detail::extract_dir* out,
                         detail::hash_writer& files) {
    int fd = -1;
    if (out) {
      auto created = out->create_file(path);
      if (!created) return created.error();
      fd = *created;
    }
    files.begin(path, fd, mtime);
    std::uint64_t size = 0;
    const void* block = nullptr;
    size_t n = 0;
    la_int64_t offset = 0;
    for (;;) {
      const int rc = archive_read_data_block(a_, &block, &n, &offset);
      if (rc == ARCHIVE_EOF) break;
      // Sparse entries (holes) are not something valise writes.
      if (rc != ARCHIVE_OK || static_cast<std::uint64_t>(offset) != size) return data_error({});
      if (auto r = files.append({static_cast<const std::uint8_t*>(block), n}); !r) return r;
      size += n;
      // Decompressed archive bytes, as bundle.hpp promises.
      if (options_.progress) {
        options_.progress(static_cast<std::uint64_t>(archive_filter_bytes(a_, 0)));
      }
    }
    files.end();
    return {};
  }

  // Every stored file listed once with its size and hash; every listed
  // stored file present. Names the culprit in entry_.
  result<void> compare(const manifest& m, const std::map<std::string, stored_entry>& stored) {
    std::map<std::string, const manifest_item*> listed;
    for (const auto& item : m.items) {
      if (item.sha256.empty()) continue;  // recorded as not collected
      if (!listed.emplace(item.path, &item).second) {
        entry_ = item.path;
        return error(bundle_errc::manifest_invalid);
      }
    }
    for (const auto& [path, entry] : stored) {
      const auto it = listed.find(path);
      entry_ = path;
      if (it == listed.end()) return error(bundle_errc::unlisted_entry);
      if (it->second->size != entry.size || it->second->sha256 != entry.sha256) {
        return error(bundle_errc::content_mismatch);
      }
    }
    for (const auto& [path, item] : listed) {
      entry_ = path;
      if (!stored.count(path)) return error(bundle_errc::missing_entry);
    }
    entry_.clear();
    return {};
  }

  crypto::byte_source& in_;
  read_options options_;
  archive* a_;
  std::vector<std::uint8_t> buffer_ = std::vector<std::uint8_t>(read_block);
  std::error_code source_error_;
  std::string entry_;          // the entry being read, or the one compare() refused
  std::string manifest_text_;  // manifest.json as stored
};

}  // namespace

result<manifest> verify_bundle(crypto::byte_source& plaintext, read_options options) {
  archive_reader reader(plaintext, std::move(options));
  return reader.run(nullptr);
}

result<manifest> extract_bundle(crypto::byte_source& plaintext,
                                const std::filesystem::path& destination, read_options options) {
  auto dir = detail::extract_dir::create(destination);
  if (!dir) return dir.error();
  archive_reader reader(plaintext, std::move(options));
  auto m = reader.run(&*dir);
  if (!m) return m.error();  // `dir` removes everything written so far
  // The record beside the files, under the name no entry may take.
  const auto& text = reader.manifest_text();
  if (auto r = dir->write_file(manifest_entry_name,
                               {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
      !r) {
    return r.error();
  }
  if (auto r = dir->commit(); !r) return r.error();
  return m;
}

}  // namespace valise::common
