// Where outbox entries go: a target renders an entry into the HTTP request
// that delivers it (a signed webhook, a helpdesk's REST call). Rendering is
// pure, so each target's format is unit-tested without a network; the
// delivery worker sends what it renders.
#pragma once

#include <boost/system/result.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "valise/common/https_client.hpp"
#include "valise/server/store.hpp"

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
  // The request delivering `entry` now (`now`: the attempt's time); an error
  // is a sentence, and the entry fails for good (it will not render better
  // later).
  virtual boost::system::result<outbound_request, std::string> render(const outbox_entry& entry,
                                                                      unix_time now) const = 0;
};

using target_list = std::vector<std::shared_ptr<const delivery_target>>;

}  // namespace valise::server::outbox
