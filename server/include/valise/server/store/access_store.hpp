// Who may come in: API tokens, technician accounts and their browser
// sessions, upload links, and the one-time tokens agents enroll with.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "valise/crypto/result.hpp"
#include "valise/server/store/types.hpp"

namespace valise::server {

struct token_info {
  std::string id;
  std::string name;
  role kind = role::technician;
  unix_time created_at = 0;
  bool revoked = false;
};

struct new_token {
  token_info info;
  std::string secret;  // shown once; the store keeps only its SHA-256
};

// What a link's drops are encrypted to: age recipients (the team's keys or
// those the link names), or a passphrase the client's page makes up and the
// client tells the technician by another channel.
enum class link_mode { recipients, passphrase };
std::string_view to_string(link_mode m);
std::optional<link_mode> parse_link_mode(std::string_view s);

// A technician account: signs in to the console with a password (argon2id;
// the store keeps only its encoded hash).
struct user_info {
  std::string name;  // unique, case-insensitively
  role kind = role::technician;
  bool disabled = false;
  unix_time created_at = 0;
  std::optional<unix_time> last_sign_in;
};

// How long sessions live ([console] in server.toml).
struct session_policy {
  std::int64_t idle_timeout = 1800;  // seconds without a request
  std::int64_t lifetime = 43200;     // seconds since sign-in, however busy
  std::size_t max_per_user = 16;     // a new one past it ends the oldest
};
// When a session ends if it is not used again: the earlier of its idle
// timeout and its lifetime.
unix_time session_expires_at(const session_info& s, const session_policy& p);

struct new_session {
  session_info info;
  std::string secret;  // the cookie's value, shown once; the store keeps its SHA-256
};

struct link_info {
  std::string id;
  std::string ticket_ref;
  unix_time created_at = 0;
  unix_time expires_at = 0;
  std::uint64_t max_bytes = 0;
  std::uint64_t used_bytes = 0;
  bool revoked = false;
  link_mode mode = link_mode::recipients;
  std::vector<std::string> recipients;  // age1... (canonical); none in passphrase mode
};

// What create_link is asked for.
struct link_terms {
  unix_time expires_at = 0;
  std::uint64_t max_bytes = 0;
  link_mode mode = link_mode::recipients;
  std::vector<std::string> recipients;
};

struct new_link {
  link_info info;
  std::string secret;
};

// One-time enrollment tokens ("vse_…"): an agent trades one for its
// certificate.
struct enroll_token_info {
  std::string id;
  unix_time created_at = 0;
  unix_time expires_at = 0;
};

struct new_enroll_token {
  enroll_token_info info;
  std::string secret;
};

class access_store {
 public:
  virtual ~access_store() = default;

  // Tokens. `authenticate` accepts API tokens and link tokens alike; a known
  // link token that no longer works says why: ticket_resolved (its ticket's
  // resolution revoked it), link_revoked, link_expired.
  virtual result<new_token> create_token(const actor& by, role kind, const std::string& name) = 0;
  virtual result<void> revoke_token(const actor& by, const std::string& id_or_name) = 0;
  virtual result<std::vector<token_info>> list_tokens() = 0;
  virtual result<actor> authenticate(const std::string& secret, unix_time now) = 0;

  // Technician accounts. create_user: already_exists if the name is taken
  // (in any case); the others: not_found for an unknown name. Changing a
  // password or disabling a user ends their sessions.
  virtual result<user_info> create_user(const actor& by, const user_info& u,
                                        const std::string& password_hash) = 0;
  virtual result<std::vector<user_info>> list_users() = 0;
  struct user_credentials {
    user_info user;
    std::string password_hash;
  };
  virtual result<user_credentials> get_user_credentials(const std::string& name) = 0;
  virtual result<void> set_user_password(const actor& by, const std::string& name,
                                         const std::string& password_hash) = 0;
  // The same password hashed with new limits (after a sign-in): changes
  // nothing else, unless the hash changed meanwhile (not_found).
  virtual result<void> rehash_user_password(const std::string& name, const std::string& old_hash,
                                            const std::string& new_hash) = 0;
  virtual result<user_info> set_user_disabled(const actor& by, const std::string& name,
                                              bool disabled) = 0;

  // Browser sessions. create_session signs `user` in (audited
  // session.created, with `address`), ending their oldest sessions past
  // policy.max_per_user and everyone's expired ones. authenticate_session
  // gives the session whose id is `secret` if it has not expired and its
  // user is enabled (else not_found; an expired one is ended), and records
  // its use unless `background` (a request a page makes on its own).
  // end_session signs out (audited session.ended).
  virtual result<new_session> create_session(const std::string& user, unix_time now,
                                             const session_policy& policy,
                                             const std::string& address) = 0;
  virtual result<session_info> authenticate_session(const std::string& secret, unix_time now,
                                                    const session_policy& policy,
                                                    bool background = false) = 0;
  virtual result<void> end_session(const actor& by, const session_info& s,
                                   const std::string& reason) = 0;

  // Upload links.
  virtual result<new_link> create_link(const actor& by, const std::string& ticket_ref,
                                       const link_terms& terms) = 0;
  virtual result<link_info> get_link(const std::string& id) = 0;
  virtual result<std::vector<link_info>> list_links(const std::string& ticket_ref) = 0;
  virtual result<void> revoke_link(const actor& by, const std::string& id) = 0;

  // Enrollment tokens (agent_store::enroll_agent consumes one).
  virtual result<new_enroll_token> create_enroll_token(const actor& by, unix_time expires_at) = 0;
  // Whether `secret` is an unused, unexpired enrollment token (checked before
  // an enrollment's body is read); not_found if not.
  virtual result<void> check_enroll_token(const std::string& secret, unix_time now) = 0;
};

}  // namespace valise::server
