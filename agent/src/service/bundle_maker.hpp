// One collection into one encrypted bundle: the profile's sources, redacted,
// packed (tar + zstd) and encrypted (age) into a byte sink in one pass. Used
// by remote jobs (into the spool) and by `valise-agent collect` (into the
// operator's file). Which keys encrypt it is decided here from the config:
// never by the request beyond a choice among the pinned recipients.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/agent_config.hpp"
#include "service/time_window.hpp"
#include "valise/common/bundle.hpp"
#include "valise/crypto/age.hpp"

namespace valise::agent {

struct bundle_keys {
  std::vector<std::unique_ptr<crypto::recipient>> recipients;
  std::optional<crypto::secret_string> passphrase;  // set in passphrase mode
  std::vector<const crypto::recipient*> view() const;
};

// The pinned recipients (all, or the subset `requested` names), else a fresh
// passphrase. A requested key that is not pinned is an error: a request may
// choose among the site's keys, never add one.
boost::system::result<bundle_keys, std::string> choose_keys(
    const delivery_config& delivery, const std::vector<std::string>& requested);

struct bundle_request {
  const profile& source;
  std::optional<time_point> since, until;
  std::string ticket;
  std::filesystem::path scratch_dir;
  std::function<void(std::uint64_t)> progress;
};

// Writes the whole bundle into `out` (the age file); returns its manifest.
result<common::manifest> make_bundle(const bundle_request& request, const bundle_keys& keys,
                                     crypto::byte_sink& out);

}  // namespace valise::agent
