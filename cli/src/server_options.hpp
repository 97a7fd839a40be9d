// What every online command shares: the connection options (--server, --token,
// --ca, each falling back to VALISE_SERVER, VALISE_TOKEN, VALISE_CA, then to
// ~/.config/valise/client.toml), a JSON API call that turns any failure into
// the two lines of failure.hpp, and --json.
//
// Tokens are secrets: never printed, never in an error message, wiped from
// the option strings once the connection holds them.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "valise/common/https_client.hpp"

namespace CLI {
class App;
}

namespace valise::cli {

struct server_options {
  std::string server;  // https://host:port
  std::string token;
  std::string ca;
  bool json = false;
};

// --server, --ca, --json and, unless with_token is false, --token.
void add_server_options(CLI::App& command, server_options& options, bool with_token = true);

// What kind of credential a command sends, for the wording of a 401.
enum class credential { technician, upload_link };

// The server's base URL, with any "/api/v1/uploads" suffix (an upload URL
// pasted as the server) and trailing slashes removed.
std::string base_url(std::string_view server);

// Fills what the options leave out from the environment and the client config
// file, checks that a server (and a token, if `need_token`) is known, and
// connects lazily. The token is moved out of `options`.
common::https_client connect(server_options& options, bool need_token = true);

// One JSON API request on an open connection.
class api_client {
 public:
  explicit api_client(server_options& options) : http_(connect(options)) {}

  // Sends the request and returns the decoded body (null for an empty one) if
  // the status is `expected`; else fails with the server's error, prefixed by
  // `what` ("creating ticket T-1").
  boost::json::value call(std::string_view method, std::string path, const boost::json::value* body,
                          unsigned expected, std::string_view what);
  // GET of a list served a page at a time (a JSON array, the next page in a
  // Link header with rel="next", as GET /api/v1/agents does): every page's
  // elements in order.
  boost::json::array get_every_page(std::string path, std::string_view what);

  common::https_client& http() { return http_; }

 private:
  std::pair<boost::json::value, common::http_response> send(std::string_view method,
                                                            std::string path,
                                                            const boost::json::value* body,
                                                            unsigned expected,
                                                            std::string_view what);
  common::https_client http_;
};

// The failure for a request that could not be made (network, TLS) or got an
// unexpected status: what failed, the server's message, a hint.
[[noreturn]] void fail_request(const common::https_client& http, std::error_code ec,
                               std::string_view what,
                               const std::optional<common::http_response>& response,
                               credential kind = credential::technician);

// Fails unless `ref` is a valid ticket reference (1-64 of A-Z a-z 0-9 . _ -,
// not starting with '.'), so that a typo gets a clear message, not a 404.
void check_ticket_ref(std::string_view ref);

// A path segment with reserved characters percent-encoded (refs and ids come
// from the user).
std::string path_segment(std::string_view text);

// Server text shown on a terminal: control characters escaped.
std::string terminal_text(std::string_view text);

// Prints a JSON value on one line (the --json output).
void print_json(const boost::json::value& value);

// Fields of a server object, for human output: a string (control characters
// escaped; "-" if absent or null) and a non-negative number (0 if absent).
std::string field_text(const boost::json::value& object, std::string_view key);
std::uint64_t field_size(const boost::json::value& object, std::string_view key);
// The elements of a JSON array (none if it is not one).
const boost::json::array& elements(const boost::json::value& value);

}  // namespace valise::cli
