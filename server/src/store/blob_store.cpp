#include "store/blob_store.hpp"

namespace valise::server {

blob_changes blob_changes::dropping(const purge_report& report) {
  blob_changes changes;
  for (const auto& b : report.bundles) changes.drop_bundles.push_back(b.id);
  for (const auto& u : report.uploads) changes.drop_uploads.push_back(u.id);
  return changes;
}

result<void> apply(blob_store& blobs, const blob_changes& changes) {
  for (const auto& id : changes.drop_bundles) blobs.remove_bundle(id);
  for (const auto& id : changes.drop_uploads) blobs.remove_upload(id);
  if (!changes.drop_bundles.empty() || !changes.drop_uploads.empty()) blobs.sync();
  for (const auto& id : changes.new_uploads)
    if (auto r = blobs.create_upload(id); !r) return r;
  for (const auto& [upload_id, bundle_id] : changes.promotions)
    if (auto r = blobs.promote(upload_id, bundle_id); !r) return r;
  return {};
}

}  // namespace valise::server
