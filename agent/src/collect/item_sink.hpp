// What every collector writes through: one bundle entry whose bytes pass the
// redactor, then the bundle cap, then the writer. Also the state one
// collection shares between its collectors (cap, progress, notes).
#pragma once

#include <memory>
#include <string>

#include "collect/collect.hpp"
#include "redact/redactor.hpp"

namespace valise::agent::detail {

struct collection_run {
  const profile& p;
  const redact::rule_set& rules;
  common::bundle_writer& writer;
  collection_window window;
  const collect_options& options;
  std::uint64_t collected = 0;       // bytes stored, after redaction
  std::uint64_t skipped_by_cap = 0;  // sources not collected once the cap was reached

  bool cap_reached() const { return collected >= p.max_bundle_bytes; }
  std::uint64_t budget_left() const { return cap_reached() ? 0 : p.max_bundle_bytes - collected; }
  std::string cap_text() const;  // "bundle cap of N bytes reached"
  // Records a source left out because of the cap.
  void skip_for_cap(std::string path, std::string source);
};

class item_sink final : public crypto::byte_sink {
 public:
  // nullptr (and the item recorded as skipped) once the bundle cap is reached.
  static result<std::unique_ptr<item_sink>> open(collection_run& run, std::string path,
                                                 std::string source, std::time_t mtime);
  ~item_sink() override;

  result<void> write(crypto::bytes data) override;
  // Drops what was written and starts the entry again.
  result<void> restart();
  // Ends the entry; `error`/`truncated` as the collector saw them, plus the
  // bundle cap's if it cut this item.
  result<void> close(std::string error, bool truncated);
  // Records the item as not stored, with `error`.
  result<void> abandon(std::string error);
  // The bundle cap cut this item: writing more is pointless.
  bool capped() const { return capped_; }

 private:
  struct capped_output;
  item_sink(collection_run& run, crypto::byte_sink& entry);
  collection_run& run_;
  std::unique_ptr<capped_output> capped_output_;
  std::unique_ptr<redact::redactor> redactor_;
  bool capped_ = false;
  bool open_ = true;
};

// "files/var/log/syslog", safe for the archive: bytes kept, "." and ".."
// components and empty ones dropped.
std::string archive_name(std::string_view prefix, std::string_view path);

}  // namespace valise::agent::detail
