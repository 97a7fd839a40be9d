// Where outbox entries go: a target renders an entry into the HTTP request
// that delivers it (a signed webhook, a helpdesk's REST call). Rendering is
// pure, so each target's format is unit-tested without a network; the
// delivery worker sends what it renders.
#pragma once

#include <boost/system/result.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "valise/common/https_client.hpp"
#include "valise/server/store/outbox_store.hpp"

namespace valise::server::outbox {

struct outbound_request {
  std::string method = "POST";
  std::string url;  // absolute https://
  std::vector<common::http_header> headers;
  std::string body;
};

class delivery_target {
 public:
  virtual ~delivery_target() = default;
  virtual const std::string& name() const = 0;
  // The endpoint's origin and how to trust it: one kept-alive client each.
  virtual const std::string& url() const = 0;
  virtual const std::string& ca_file() const = 0;  // empty: the system's CAs
  // Whether this target wants `event` (the routing policy asks).
  virtual bool wants(std::string_view event) const = 0;
  // The helpdesk connector whose tickets alone this target takes (notes go
  // back to the helpdesk a ticket came from); empty: every ticket's.
  virtual const std::string& connector() const {
    static const std::string every;
    return every;
  }
  // Targets whose API needs a session first (GLPI): the request that opens
  // one, and the session token read from its answer. The worker keeps the
  // session for later deliveries and opens another when it is refused.
  virtual std::optional<outbound_request> session_request() const { return std::nullopt; }
  virtual boost::system::result<std::string, std::string> session_of(
      const common::http_response& answer) const {
    (void)answer;
    return {boost::system::in_place_value, std::string()};
  }
  // The request delivering `entry` now (`now`: the attempt's time; `session`:
  // session_of's token, empty without sessions); an error is a sentence, and
  // the entry fails for good (it will not render better later).
  virtual boost::system::result<outbound_request, std::string> render(
      const outbox_entry& entry, unix_time now, const std::string& session) const = 0;
};

using target_list = std::vector<std::shared_ptr<const delivery_target>>;

}  // namespace valise::server::outbox
