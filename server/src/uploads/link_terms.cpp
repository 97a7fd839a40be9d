#include "uploads/link_terms.hpp"

namespace valise::server::uploads {

std::variant<link_terms, link_refusal> link_terms_for(const link_request& asked,
                                                      const server_config& config, unix_time now) {
  link_terms terms;
  if (asked.mode) {
    auto mode = parse_link_mode(*asked.mode);
    if (!mode)
      return link_refusal{refusal::bad_request, "mode must be \"recipients\" or \"passphrase\""};
    terms.mode = *mode;
  }
  if (terms.mode == link_mode::passphrase) {
    if (asked.recipients)
      return link_refusal{refusal::bad_request,
                          "a passphrase link takes no recipients: send one or the other"};
  } else {
    terms.recipients = asked.recipients ? *asked.recipients : config.recipients;
    if (terms.recipients.empty())
      return link_refusal{refusal::no_recipients,
                          "no age recipients to encrypt this link's drops to: server.toml names "
                          "none ([keys] recipients) and the request named none"};
  }
  // The default is at most max_link_lifetime (load_config checks it).
  std::uint64_t lifetime =
      asked.expires_in_s.value_or(static_cast<std::uint64_t>(config.link_expires_in.count()));
  terms.max_bytes = asked.max_bytes.value_or(config.link_max_bytes);
  if (terms.max_bytes == 0) return link_refusal{refusal::bad_request, "max_bytes must be positive"};
  terms.expires_at = now + static_cast<unix_time>(lifetime);
  return terms;
}

}  // namespace valise::server::uploads
