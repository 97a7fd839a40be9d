// The blob store in the data directory: uploads/ID while partial,
// bundles/ID when complete, kept durable (fsync after create, rename,
// unlink).
#pragma once

#include <filesystem>
#include <memory>
#include <set>
#include <string>

#include "store/blob_store.hpp"

namespace valise::server {

class blob_dir final : public blob_store {
 public:
  // Creates uploads/ and bundles/ (0700) under `root` if missing.
  static result<std::unique_ptr<blob_dir>> open(const std::filesystem::path& root);

  result<void> create_upload(const std::string& upload_id) override;
  result<upload_file> open_upload(const std::string& upload_id) override;
  // An unnamed file in uploads/ (O_TMPFILE; else named UPLOAD.scratch and
  // unlinked at once, which start-up removes if a crash came between).
  result<upload_file> create_scratch(const std::string& upload_id) override;
  // Bytes free for this process on the data directory's filesystem.
  result<std::uint64_t> free_bytes() const override;
  std::uint64_t upload_size(const std::string& upload_id) const override;
  std::int64_t upload_modified(const std::string& upload_id) const override;
  // fsyncs the partial file and returns its size.
  result<std::uint64_t> sync_upload(const std::string& upload_id) override;
  // uploads/UPLOAD -> bundles/BUNDLE by rename, then fsyncs both directories.
  result<void> promote(const std::string& upload_id, const std::string& bundle_id) override;
  result<bundle_file> open_bundle(const std::string& bundle_id) override;

  void remove_upload(const std::string& upload_id) override;
  void remove_bundle(const std::string& bundle_id) override;
  // fsyncs uploads/ and bundles/.
  void sync() override;

  std::set<std::string> list_uploads() const override;
  std::set<std::string> list_bundles() const override;

 private:
  blob_dir(std::filesystem::path uploads, std::filesystem::path bundles)
      : uploads_(std::move(uploads)), bundles_(std::move(bundles)) {}
  std::filesystem::path uploads_;
  std::filesystem::path bundles_;
};

}  // namespace valise::server
