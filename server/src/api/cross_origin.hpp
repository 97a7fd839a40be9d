// Cross-origin requests (CORS) from browser upload widgets, such as one on a
// helpdesk portal holding an upload link: the routes that take them say so
// (route_options::cross_origin), server.toml lists the origins
// ([cors] allowed_origins, none by default), and this decides the headers a
// response gets. Tokens are bearer headers, never cookies: no credentials
// mode is ever allowed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "http/message.hpp"

namespace valise::server {

class cross_origin {
 public:
  cross_origin() = default;  // adds nothing
  // For a request to a path where `taken` says whether a route takes
  // cross-origin requests; `allowed` are the exact origins allowed.
  cross_origin(const request_head& head, bool taken, const std::vector<std::string>& allowed);

  // Adds the headers to a response to that request: none for an origin not
  // allowed; a preflight's (OPTIONS with Access-Control-Request-Method),
  // or those that let the page read the tus headers.
  void apply(http::fields& res) const;

 private:
  std::string origin_;  // allowed and sent; empty: no Access-Control-* header
  bool preflight_ = false;
  bool varies_ = false;  // the answer depends on Origin (caches must know)
};

}  // namespace valise::server
