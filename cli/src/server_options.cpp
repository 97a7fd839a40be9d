#include "server_options.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <set>

#include "client_config.hpp"
#include "failure.hpp"
#include "valise/crypto/secret.hpp"

namespace valise::cli {
namespace {

namespace json = boost::json;

std::string from_environment(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

std::string json_text(const json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value && value->is_string() ? std::string(value->as_string()) : std::string();
}

// The server's {"error","message","hint"}, if the body is one.
struct server_error {
  std::string code;
  std::string message;
  std::string hint;
};

std::optional<server_error> parse_server_error(const common::http_response& response) {
  boost::system::error_code ec;
  const auto value = json::parse(response.body, ec);
  if (ec || !value.is_object()) return std::nullopt;
  server_error out{json_text(value.as_object(), "error"), json_text(value.as_object(), "message"),
                   json_text(value.as_object(), "hint")};
  if (out.message.empty()) return std::nullopt;
  return out;
}

[[noreturn]] void fail_status(std::string_view what, const common::http_response& response,
                              credential kind) {
  const unsigned status = response.status;
  const auto error = parse_server_error(response);
  const std::string server_message =
      error ? terminal_text(error->message) : common::make_status_error(status).message();
  const std::string server_hint = error ? terminal_text(error->hint) : std::string();
  if (status == 401) {
    if (kind == credential::upload_link) {
      fail("the server refused the upload link (401): it is unknown, expired or revoked",
           "ask the technician for a new upload link (a link stops working when it expires or "
           "when its ticket is resolved)");
    }
    fail("the server refused the token (401)",
         "check --token or VALISE_TOKEN: a technician token comes from `valise-server token create "
         "--role technician`, and may have been revoked");
  }
  if (status == 403) {
    fail(fmt::format("{}: the server refused: {} (403)", what, server_message),
         server_hint.empty() ? "this token's role may not do this: use a technician token"
                             : server_hint);
  }
  const std::string code = error && !error->code.empty() ? " " + terminal_text(error->code) : "";
  fail(fmt::format("{}: {} ({}{})", what, server_message, status, code), server_hint);
}

std::string certificate_hint(std::error_code ec) {
  if (ec == common::http_errc::certificate_name_mismatch) {
    return "connect with a host name the certificate names (valise-server init --hostname), "
           "or check --server";
  }
  if (ec == common::http_errc::certificate_expired) {
    return "check this machine's clock, or ask the server's operator to renew the certificate";
  }
  return "trust the server's CA with --ca FILE or VALISE_CA (valise-server writes it to "
         "DATA/ca.pem)";
}

}  // namespace

void add_server_options(CLI::App& command, server_options& options, bool with_token) {
  command.add_option("--server", options.server,
                     "server URL, https://HOST:PORT (default: $VALISE_SERVER)");
  if (with_token) {
    command.add_option("--token", options.token,
                       "API token (default: $VALISE_TOKEN; prefer it: arguments are visible to "
                       "other local users)");
  }
  command.add_option("--ca", options.ca,
                     "CA certificate(s) to trust, PEM (default: $VALISE_CA, else the system's)");
  command.add_flag("--json", options.json, "print JSON for scripts");
}

std::string base_url(std::string_view server) {
  std::string out(server);
  while (!out.empty() && out.back() == '/') out.pop_back();
  constexpr std::string_view uploads = "/api/v1/uploads";
  if (out.ends_with(uploads)) out.resize(out.size() - uploads.size());
  return out;
}

common::https_client connect(server_options& options, bool need_token) {
  if (options.server.empty()) options.server = from_environment("VALISE_SERVER");
  if (options.token.empty()) options.token = from_environment("VALISE_TOKEN");
  if (options.ca.empty()) options.ca = from_environment("VALISE_CA");
  if (options.server.empty() || (need_token && options.token.empty()) || options.ca.empty()) {
    auto config = load_client_config();
    if (options.server.empty()) options.server = std::move(config.server);
    if (options.token.empty()) options.token = std::move(config.token);
    if (options.ca.empty()) options.ca = std::move(config.ca);
    crypto::secure_zero(config.token.data(), config.token.size());
  }
  if (options.server.empty()) {
    fail("no server given", "pass --server https://HOST:PORT, or set VALISE_SERVER");
  }
  if (need_token && options.token.empty()) {
    fail("no API token given",
         "set VALISE_TOKEN (or pass --token); a technician token comes from `valise-server token "
         "create --role technician`");
  }
  common::https_options https{.base_url = base_url(options.server), .ca_file = options.ca};
  https.bearer_token = options.token;
  crypto::secure_zero(options.token.data(), options.token.size());
  options.token.clear();
  auto client = common::https_client::create(std::move(https));
  if (!client) {
    const auto ec = client.error();
    if (ec == common::http_errc::invalid_url) {
      fail(fmt::format("--server {}: not an https:// URL", terminal_text(options.server)),
           "give the server as https://HOST:PORT");
    }
    if (ec == common::http_errc::ca_file_invalid && options.ca.empty()) {
      fail("cannot load the system's trusted certificates", "pass the server's CA with --ca FILE");
    }
    if (ec == common::http_errc::ca_file_invalid) {
      fail(fmt::format("{}: {}", options.ca, ec.message()),
           "pass the server's CA certificate in PEM (valise-server writes it to DATA/ca.pem)");
    }
    fail(options.ca.empty() ? options.server : options.ca, ec);
  }
  return std::move(*client);
}

namespace {

// The target of a Link field's rel="next" (RFC 8288), if it is a path on
// this server; "" otherwise.
std::string next_link(std::string_view field) {
  for (std::size_t start = 0; start < field.size();) {
    const auto open = field.find('<', start), close = field.find('>', start);
    if (open == std::string_view::npos || close == std::string_view::npos || close < open) break;
    const auto end = std::min(field.find(",<", close), field.size());
    const auto params = field.substr(close + 1, end - close - 1);
    const auto target = field.substr(open + 1, close - open - 1);
    if (params.find("rel=\"next\"") != std::string_view::npos && target.starts_with('/'))
      return std::string(target);
    start = end + 1;
  }
  return {};
}

}  // namespace

json::value api_client::call(std::string_view method, std::string path, const json::value* body,
                             unsigned expected, std::string_view what) {
  return send(method, std::move(path), body, expected, what).first;
}

std::pair<json::value, common::http_response> api_client::send(std::string_view method,
                                                               std::string path,
                                                               const json::value* body,
                                                               unsigned expected,
                                                               std::string_view what) {
  common::http_request request{.method = std::string(method), .target = std::move(path)};
  if (body) request.body = json::serialize(*body);
  request.headers.push_back({"Accept", "application/json"});
  auto response = http_.send(request);
  if (!response) fail_request(http_, response.error(), what, std::nullopt);
  if (response->status != expected) {
    fail_request(http_, common::make_status_error(response->status), what, *response);
  }
  if (response->body.empty()) return {nullptr, std::move(*response)};
  boost::system::error_code ec;
  auto value = json::parse(response->body, ec);
  if (ec) fail(fmt::format("{}: the server's answer is not JSON", what), "check --server");
  response->body.clear();
  return {std::move(value), std::move(*response)};
}

json::array api_client::get_every_page(std::string path, std::string_view what) {
  json::array out;
  // A server that named the same page again would loop: a page is never
  // asked for twice.
  std::set<std::string> asked;
  while (!path.empty() && asked.insert(path).second) {
    auto [page, response] = send("GET", path, nullptr, 200, what);
    if (!page.is_array()) fail(fmt::format("{}: the server's answer is not a list", what));
    for (auto& element : page.as_array()) out.push_back(std::move(element));
    const auto link = response.header("Link");
    path = link ? next_link(*link) : std::string();
  }
  return out;
}

void fail_request(const common::https_client& http, std::error_code ec, std::string_view what,
                  const std::optional<common::http_response>& response, credential kind) {
  if (ec.category() == common::status_category() && response) fail_status(what, *response, kind);
  if (common::is_certificate_error(ec)) {
    const auto& detail = http.last_error_detail();
    fail(fmt::format("{}: {}{}", http.origin(), ec.message(),
                     detail.empty() ? "" : " (" + detail + ")"),
         certificate_hint(ec));
  }
  if (ec.category() == common::http_category()) {
    std::string hint;
    if (ec == common::http_errc::connection_refused || ec == common::http_errc::host_not_found ||
        ec == common::http_errc::unreachable) {
      hint = "check --server (or VALISE_SERVER) and that valise-server runs there";
    } else if (ec == common::http_errc::timeout || ec == common::http_errc::connection_closed) {
      hint = "the server or the network is down or slow: try again later";
    } else if (ec == common::http_errc::protocol_error || ec == common::http_errc::tls_failed) {
      hint = "check that --server names a valise-server";
    }
    const std::string detail =
        ec == common::http_errc::tls_failed && !http.last_error_detail().empty()
            ? " (" + http.last_error_detail() + ")"
            : "";
    fail(fmt::format("{}: {}: {}{}", what, http.origin(), ec.message(), detail), hint);
  }
  fail(what, ec);
}

void check_ticket_ref(std::string_view ref) {
  bool valid = !ref.empty() && ref.size() <= 64 && ref.front() != '.';
  for (const char c : ref) {
    valid = valid && ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-');
  }
  if (!valid) {
    fail(fmt::format("\"{}\" is not a ticket reference", terminal_text(ref)),
         "a reference has 1 to 64 letters, digits, '.', '_' or '-', and does not start with '.'");
  }
}

std::string path_segment(std::string_view text) {
  std::string out;
  for (const unsigned char c : text) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string terminal_text(std::string_view text) {
  std::string out;
  for (const unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

void print_json(const json::value& value) {
  std::printf("%s\n", json::serialize(value).c_str());
}

std::string field_text(const json::value& object, std::string_view key) {
  const auto* value = object.is_object() ? object.as_object().if_contains(key) : nullptr;
  if (!value || value->is_null()) return "-";
  if (value->is_string()) return terminal_text(value->as_string());
  if (value->is_bool()) return value->as_bool() ? "yes" : "no";
  return terminal_text(json::serialize(*value));
}

std::uint64_t field_size(const json::value& object, std::string_view key) {
  const auto* value = object.is_object() ? object.as_object().if_contains(key) : nullptr;
  if (!value) return 0;
  if (value->is_uint64()) return value->as_uint64();
  if (value->is_int64() && value->as_int64() >= 0) {
    return static_cast<std::uint64_t>(value->as_int64());
  }
  return 0;
}

const json::array& elements(const json::value& value) {
  static const json::array none;
  return value.is_array() ? value.as_array() : none;
}

}  // namespace valise::cli
