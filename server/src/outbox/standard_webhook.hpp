// The generic outbox target: a webhook in the Standard Webhooks format
// (https://www.standardwebhooks.com/): a JSON body {type, timestamp, data},
// headers webhook-id (the outbox entry's id, for de-duplication),
// webhook-timestamp (the attempt's time) and webhook-signature
// "v1," + base64(HMAC-SHA256(secret, id "." timestamp "." body)).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "outbox/delivery_target.hpp"

namespace valise::server::outbox {

// The key a "whsec_" + base64 secret holds (at least 16 bytes, as the spec
// asks of 24 to 64), or nullopt if it is not one.
std::optional<std::string> parse_webhook_secret(std::string_view text);

// "v1," + base64 of the HMAC-SHA256 of `id.timestamp.body` under `key`.
std::string webhook_signature(std::string_view key, std::string_view id, std::int64_t timestamp,
                              std::string_view body);

// The body: {"type": event, "timestamp": RFC 3339 of the event, "data": …}.
std::string webhook_body(const outbox_entry& entry);

struct webhook_settings {
  std::string name;
  std::string url;
  std::string key;  // the secret's bytes; never logged
  std::string ca_file;
  std::vector<std::string> events;  // empty: every event
};

class webhook_target final : public delivery_target {
 public:
  explicit webhook_target(webhook_settings s) : s_(std::move(s)) {}
  const std::string& name() const override { return s_.name; }
  const std::string& url() const override { return s_.url; }
  const std::string& ca_file() const override { return s_.ca_file; }
  bool wants(std::string_view event) const override;
  boost::system::result<outbound_request, std::string> render(
      const outbox_entry& entry, unix_time now, const std::string& session) const override;

 private:
  webhook_settings s_;
};

}  // namespace valise::server::outbox
