// The file layout of the data directory: uploads/ID while partial,
// bundles/ID when complete. Names are ids the server generated, never
// anything a client sent. Metadata lives in the database; this class only
// moves bytes and keeps directories durable (fsync after create, rename,
// unlink).
#pragma once

#include <filesystem>
#include <set>
#include <string>

#include "valise/server/store.hpp"

namespace valise::server {

class blob_dir {
 public:
  // Creates uploads/ and bundles/ (0700) under `root` if missing.
  static result<blob_dir> open(const std::filesystem::path& root);

  result<void> create_upload(const std::string& upload_id);
  result<upload_file> open_upload(const std::string& upload_id);
  // An unnamed file in uploads/ (O_TMPFILE; else named UPLOAD.scratch and
  // unlinked at once, which start-up removes if a crash came between).
  result<upload_file> create_scratch(const std::string& upload_id);
  // Bytes free for this process on the data directory's filesystem.
  result<std::uint64_t> free_bytes() const;
  // Bytes durably received, or 0 if the partial file is gone.
  std::uint64_t upload_size(const std::string& upload_id) const;
  // When the partial file last changed (seconds since the epoch), or 0.
  std::int64_t upload_modified(const std::string& upload_id) const;
  // fsyncs the partial file and returns its size.
  result<std::uint64_t> sync_upload(const std::string& upload_id);
  // uploads/UPLOAD -> bundles/BUNDLE, durably.
  result<void> promote(const std::string& upload_id, const std::string& bundle_id);
  result<bundle_file> open_bundle(const std::string& bundle_id);

  // Missing files are not an error: a purge may be finishing a crashed one.
  void remove_upload(const std::string& upload_id);
  void remove_bundle(const std::string& bundle_id);
  void sync_dirs();

  std::set<std::string> list_uploads() const;
  std::set<std::string> list_bundles() const;

 private:
  blob_dir(std::filesystem::path uploads, std::filesystem::path bundles)
      : uploads_(std::move(uploads)), bundles_(std::move(bundles)) {}
  std::filesystem::path uploads_;
  std::filesystem::path bundles_;
};

}  // namespace valise::server
