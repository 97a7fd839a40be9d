// Diagnostics bundles: tar (pax) + zstd streams with manifest.json as the last
// entry. The writer streams into any byte sink (normally an age encryptor), the
// reader verifies every entry against the manifest and extracts safely. Neither
// knows about encryption; callers compose them with crypto::encryptor/decryptor.
#pragma once

#include <cstdint>
#include <ctime>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include "valise/common/manifest.hpp"
#include "valise/crypto/io.hpp"

namespace valise::common {

enum class bundle_errc {
  not_a_bundle = 1,    // decrypted fine, but not tar+zstd
  manifest_missing,    // archive ends without manifest.json
  manifest_invalid,    // manifest.json does not parse
  content_mismatch,    // an entry's size or SHA-256 differs from the manifest
  unlisted_entry,      // an entry the manifest does not list, or listed twice
  missing_entry,       // the manifest lists an entry the archive lacks
  unsafe_path,         // absolute, "..", or otherwise escaping the destination
  unsupported_entry,   // links, devices, fifos: refused
  destination_exists,  // open -d DIR with an existing DIR
  duplicate_path,      // writer: the same archive path twice
};

const std::error_category& bundle_category() noexcept;
std::error_code make_error_code(bundle_errc e) noexcept;
std::string_view hint(bundle_errc e) noexcept;

// Called with cumulative input bytes processed (pack: file bytes read;
// open: archive bytes decompressed). May be empty.
using progress_fn = std::function<void(std::uint64_t)>;

struct writer_options {
  int zstd_level = 3;
  int zstd_threads = 2;  // 0: compress in the calling thread
  // Each 2 MiB in a zstd frame of its own instead of one frame for all: the
  // end of a streamed entry (see below) costs nothing, where one frame must
  // wait for the workers at each; the bundle is 0.4-0.6% larger (frames share
  // no history). For a writer of mostly streamed entries, the agent's.
  bool frame_per_chunk = false;
  progress_fn progress;
  // Streamed entries (begin_entry) are held in memory up to entry_memory
  // bytes; a longer one is compressed into zstd frames of its own, held in
  // memory up to spill_memory compressed bytes and beyond that in an unnamed
  // scratch file in scratch_dir (empty: $TMPDIR or /tmp), encrypted under a
  // key that lives only in memory. Both buffers are allocated on first use.
  std::filesystem::path scratch_dir;
  std::size_t entry_memory = 4 << 20;
  std::size_t spill_memory = 8 << 20;
};

// What the producer of a streamed entry knows besides its bytes.
struct entry_info {
  std::string error;  // what went wrong, though the entry is stored
  bool truncated = false;
  std::map<std::string, std::uint64_t> redactions_by_rule;  // the item's total is their sum
};

class bundle_writer {
 public:
  static result<bundle_writer> create(crypto::byte_sink& out, writer_options options = {});
  bundle_writer(bundle_writer&&) noexcept;
  bundle_writer& operator=(bundle_writer&&) noexcept;
  ~bundle_writer();

  // Adds a file, or a directory tree (regular files only; symlinks and special
  // files are listed in the manifest as skipped). Problems reading a source
  // (permission denied, vanished) are recorded in the manifest, not returned;
  // only failures of the output (and invalid archive paths) are errors.
  // Archive paths are stored in UTF-8, a name's other bytes as \xNN.
  result<void> add_path(const std::filesystem::path& source, std::string archive_path);
  result<void> add_bytes(std::string archive_path, crypto::bytes data, std::string source);
  // Records an item that could not be collected at all.
  void add_failure(std::string archive_path, std::string source, std::string error);

  // An entry whose size is known only once it is produced (redacted,
  // decompressed, command or journal output): write its bytes to the sink
  // returned, then end_entry() or abandon_entry(); nothing else may be added
  // in between. Nothing reaches the archive before end_entry(): an abandoned
  // entry is only an item with `error` in the manifest. The sink is valid
  // until then; its write() fails only when the output or scratch file does.
  // With frame_per_chunk the entry goes out later, while the next ones are
  // written: an error writing it out is returned by a later call (finish()
  // at the latest), which fails the whole bundle.
  result<crypto::byte_sink*> begin_entry(std::string archive_path, std::string source,
                                         std::time_t mtime);
  result<void> end_entry(entry_info info);
  result<void> abandon_entry(std::string error);
  // Drops what was written to the open entry and starts it again, empty (to
  // keep the tail of a stream whose length was unknown until its end).
  result<void> restart_entry();
  // Bytes written to the open entry so far.
  std::uint64_t entry_size() const;

  // A line for the manifest's notes (what concerns the collection as a whole).
  void add_note(std::string note);

  // Fills in bundle_id/created_at if empty, appends items and notes, writes manifest.json
  // last and ends the archive. Returns the manifest written.
  result<manifest> finish(manifest header);

 private:
  struct impl;
  explicit bundle_writer(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

// The archive path `valise pack` uses for a command-line PATH: relative paths
// as given (normalised), others absolute without the leading '/'.
result<std::string> archive_path_for(const std::filesystem::path& source);

struct read_options {
  progress_fn progress;
  // Called once before a read fails with a bundle_errc that one entry caused,
  // with that entry's path as stored: untrusted text, escape it to print it.
  std::function<void(std::string_view)> on_bad_entry;
};

// Reads the whole bundle and checks every entry against the manifest, extracting
// nothing. Returns the manifest.
result<manifest> verify_bundle(crypto::byte_source& plaintext, read_options options = {});

// Extracts into `destination`, which must not exist. Files are written into a
// private sibling directory and renamed into place only after every entry
// matched the manifest; on any failure `destination` does not exist afterwards.
// manifest.json, as stored, is written at its top (no entry may take that name).
result<manifest> extract_bundle(crypto::byte_source& plaintext,
                                const std::filesystem::path& destination,
                                read_options options = {});

}  // namespace valise::common

template <>
struct std::is_error_code_enum<valise::common::bundle_errc> : std::true_type {};
