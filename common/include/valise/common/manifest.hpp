// manifest.json, the last entry of every bundle: what was collected, from where,
// with which SHA-256, and what went wrong. Pure JSON codec, no I/O.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "valise/common/rfc3339.hpp"  // created_at
#include "valise/crypto/result.hpp"

namespace valise::common {

inline constexpr std::string_view manifest_entry_name = "manifest.json";
inline constexpr int manifest_format_version = 1;

struct manifest_item {
  std::string path;    // path inside the archive
  std::string source;  // where it came from: a file path, "command: ...", "journal: ..."
  std::uint64_t size = 0;
  std::string sha256;  // hex, of the bytes stored in the archive; empty if not stored
  std::string error;   // empty when collected in full; else what went wrong
  bool truncated = false;
  std::uint64_t redactions = 0;                             // total over the rules below
  std::map<std::string, std::uint64_t> redactions_by_rule;  // rule name -> matches replaced
};

struct manifest {
  int format = manifest_format_version;
  std::string bundle_id;
  std::string ticket;
  std::string host;
  std::string profile;
  std::string created_at;  // RFC 3339 UTC
  std::optional<std::string> since;
  std::optional<std::string> until;
  std::vector<manifest_item> items;
  std::uint64_t redactions = 0;  // total over all items
  // What an operator should know about the collection as a whole that no
  // single item says: files left out by the time window, the bundle cap.
  std::vector<std::string> notes;
};

std::string to_json(const manifest& m);
result<manifest> parse_manifest(std::string_view json);

// A fresh random bundle id (UUID v4 text form).
std::string new_bundle_id();
// This machine's name, for the manifest's host ("unknown" if it has none).
std::string local_host_name();

}  // namespace valise::common
