// The browser pages' answer to a GET or HEAD: a redirect, a page or an
// asset read from the web root, or the caller's not-found response (the
// server's is the API's error body).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "http/message.hpp"
#include "web/web_root.hpp"

namespace valise::server::web {

// `message`: "no such page: /x", "no such file: /assets/x".
using not_found_response = std::function<response(std::string message)>;

// `path`: the request's encoded path, without the query.
response serve(const web_root& root, std::string_view path, const not_found_response& not_found);

}  // namespace valise::server::web
