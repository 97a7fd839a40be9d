// What a technician may make a link with (the rest of what a link may do is
// upload_policy's, whose header tells it all).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "uploads/refusal.hpp"
#include "valise/server/config.hpp"
#include "valise/server/store.hpp"

namespace valise::server::uploads {

// What a technician asks of a new link; absent: the server's default.
struct link_request {
  std::optional<std::string> mode;
  std::optional<std::vector<std::string>> recipients;
  std::optional<std::uint64_t> expires_in_s;
  std::optional<std::uint64_t> max_bytes;
};

struct link_refusal {
  refusal code = refusal::bad_request;
  std::string message;
};

inline constexpr auto max_link_lifetime_s =
    static_cast<std::uint64_t>(std::chrono::seconds(max_link_lifetime).count());

// A new link's terms: its drops are encrypted to the keys it names, else
// the team's (none in passphrase mode); its lifetime and byte budget are
// the server's defaults unless asked.
std::variant<link_terms, link_refusal> link_terms_for(const link_request& asked,
                                                      const server_config& config, unix_time now);

}  // namespace valise::server::uploads
