// What the store needs of the ciphertext files, whatever holds them: a
// partial upload is created, appended to and read back while its bytes
// arrive, then made a bundle (durably, under the bundle's id); a bundle is
// read for downloads; either is removed when its record is deleted. Names are
// ids the server generated, never anything a client sent. Metadata lives in
// the database; a blob store only keeps bytes.
//
// blob_dir is the local directory; docs/storage.md says how an S3-compatible
// object store would fit.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "valise/crypto/result.hpp"
#include "valise/server/store/files.hpp"
#include "valise/server/store/types.hpp"

namespace valise::server {

class blob_store {
 public:
  virtual ~blob_store() = default;

  // An empty partial upload; file_exists if there is one.
  virtual result<void> create_upload(const std::string& upload_id) = 0;
  // The partial upload, open to append to and read back; errc
  // no_such_file_or_directory if it does not exist.
  virtual result<upload_file> open_upload(const std::string& upload_id) = 0;
  // A scratch file beside the upload's that nobody else sees and that goes
  // when it is closed, even after a crash.
  virtual result<upload_file> create_scratch(const std::string& upload_id) = 0;
  // Bytes free for new uploads.
  virtual result<std::uint64_t> free_bytes() const = 0;
  // Bytes durably received, or 0 if the partial upload is gone.
  virtual std::uint64_t upload_size(const std::string& upload_id) const = 0;
  // When the partial upload last changed (seconds since the epoch), or 0.
  virtual std::int64_t upload_modified(const std::string& upload_id) const = 0;
  // Makes every byte of the partial upload durable and returns its size.
  virtual result<std::uint64_t> sync_upload(const std::string& upload_id) = 0;
  // The partial upload becomes the bundle, durably (no copy where the
  // medium allows it).
  virtual result<void> promote(const std::string& upload_id, const std::string& bundle_id) = 0;
  virtual result<bundle_file> open_bundle(const std::string& bundle_id) = 0;

  // Missing blobs are not an error: a purge may be finishing a crashed one.
  virtual void remove_upload(const std::string& upload_id) = 0;
  virtual void remove_bundle(const std::string& bundle_id) = 0;
  // Makes the removals (and creations) so far durable.
  virtual void sync() = 0;

  // Every blob there is, for start-up's reconciliation with the records.
  virtual std::set<std::string> list_uploads() const = 0;
  virtual std::set<std::string> list_bundles() const = 0;
};

// What a transaction leaves to do to blobs once it has committed. Blobs
// follow their records: one is made after its record commits, moved to its
// bundle after the bundle's record commits, removed after its record's
// deletion commits. A crash in between leaves a record without its blob
// (made on first use, or moved at start-up) or a blob without a record
// (removed at start-up), never a record whose bytes were lost.
struct blob_changes {
  std::vector<std::string> drop_uploads;
  std::vector<std::string> drop_bundles;
  std::vector<std::string> new_uploads;
  std::vector<std::pair<std::string, std::string>> promotions;  // upload id, bundle id

  // The blobs of what a purge destroyed.
  static blob_changes dropping(const purge_report& report);
};

// Removes, then makes and moves, as `changes` says; the first failure of a
// making or a moving is returned (the records stand: see blob_changes).
result<void> apply(blob_store& blobs, const blob_changes& changes);

}  // namespace valise::server
