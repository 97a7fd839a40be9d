// The outbox target of a [helpdesk.NAME] connector with an API: each event of
// a ticket that came from that helpdesk becomes a private note on it,
// through the preset's REST call (helpdesk/notes.hpp). GLPI's API wants a
// session first; the others authenticate each call.
#pragma once

#include <vector>

#include "outbox/delivery_target.hpp"
#include "valise/server/helpdesk_connector.hpp"

namespace valise::server::outbox {

class helpdesk_target final : public delivery_target {
 public:
  explicit helpdesk_target(helpdesk::connector c);
  const std::string& name() const override { return name_; }
  const std::string& url() const override { return c_.api_url; }
  const std::string& ca_file() const override { return ca_file_; }
  const std::string& connector() const override { return c_.name; }
  bool wants(std::string_view event) const override;
  std::optional<outbound_request> session_request() const override;
  boost::system::result<std::string, std::string> session_of(
      const common::http_response& answer) const override;
  boost::system::result<outbound_request, std::string> render(
      const outbox_entry& entry, unix_time now, const std::string& session) const override;

 private:
  helpdesk::connector c_;
  std::string name_;  // "helpdesk:NAME", as in the outbox and the audit trail
  std::string ca_file_;
};

// One target per connector that has an api_url; connectors without one only
// follow the helpdesk (webhooks in), they write nothing back.
target_list helpdesk_targets(const std::vector<helpdesk::connector>& connectors);

}  // namespace valise::server::outbox
