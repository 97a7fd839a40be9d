// Fuzzes what the server does with a request head before any handler runs
// (http/connection.cpp, api.cpp): Beast's parser set up as serve_connection()
// sets it up, then, for a head that parsed, the target as origin-form, the
// method after X-HTTP-Method-Override, the bearer token and the route found
// in the server's own route table, and the framing checks (head_check). Whether a head parses, and
// to what, cannot depend on how the bytes arrived: whole, or a few at a time (which error is named
// may: Beast checks the request line as soon as it has one, the rest once the head is complete).
#include <unistd.h>

#include <boost/url/parse.hpp>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>

#include "api/api.hpp"
#include "http/connection.hpp"
#include "http/head_check.hpp"

namespace {

using namespace valise::server;

void check(bool ok) {
  if (!ok) std::abort();
}

// The server's route table. The handlers hold a reference to a store (none
// runs here), so a real one is opened in a temporary directory.
class route_table {
 public:
  route_table()
      : dir_(make_dir()),
        db_(open(dir_)),
        tus_(*db_, {}, stats_),
        context_{*db_, config_, stats_, tus_, ca_, wakeups_, audit_wakeups_, web_, sign_in_} {
    add_routes(routes_, context_);
  }
  ~route_table() {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  const router& routes() const { return routes_; }

 private:
  static std::filesystem::path make_dir() {
    std::string name = (std::filesystem::temp_directory_path() / "valise-fuzz-XXXXXX").string();
    check(::mkdtemp(name.data()) != nullptr);
    return name;
  }
  static std::unique_ptr<store> open(const std::filesystem::path& dir) {
    auto db = store::open_sqlite(dir, store::open_mode::tool);
    check(db.has_value());
    return std::move(*db);
  }

  std::filesystem::path dir_;
  std::unique_ptr<store> db_;
  server_config config_;
  metrics stats_;
  upload_service tus_;
  certificate_authority ca_;
  agent_wakeups wakeups_;
  agent_wakeups audit_wakeups_;
  web::web_root web_;  // not installed: the pages' routes answer 404
  auth_throttle throttle_{{}};
  sign_in_guard sign_in_{throttle_};
  api_context context_;
  router routes_;
};

struct parsed_head {
  boost::system::error_code ec;
  std::optional<request_head> head;
  std::size_t used = 0;  // bytes the parser took
};

// What async_read_header does with `input` arriving `step` bytes at a time,
// with the parser set up as serve_connection() sets it up.
parsed_head read_head(std::string_view input, std::size_t step) {
  http::request_parser<http::empty_body> parser;
  parser.header_limit(connection_limits{}.header_limit);
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  parsed_head out;
  std::size_t arrived = 0;
  while (!parser.is_header_done()) {
    if (arrived == input.size()) {  // the client closed
      if (parser.got_some())
        parser.put_eof(out.ec);
      else
        out.ec = http::error::end_of_stream;
      return out;
    }
    arrived = std::min(input.size(), arrived + step);
    // The parser takes the head only once it is whole ("need more" until then).
    while (out.used < arrived && !parser.is_header_done()) {
      out.used +=
          parser.put(boost::asio::buffer(input.data() + out.used, arrived - out.used), out.ec);
      if (out.ec == http::error::need_more) {
        out.ec = {};
        break;
      }
      if (out.ec) return out;
    }
  }
  out.head = parser.get().base();
  // What the connection checks before admitting the request.
  (void)parser.content_length();
  (void)parser.chunked();
  (void)parser.get().keep_alive();
  return out;
}

// Two heads are the same request.
bool same(const request_head& a, const request_head& b) {
  if (a.method_string() != b.method_string() || a.target() != b.target() ||
      a.version() != b.version())
    return false;
  auto i = a.begin();
  auto j = b.begin();
  for (; i != a.end() && j != b.end(); ++i, ++j)
    if (i->name_string() != j->name_string() || i->value() != j->value()) return false;
  return i == a.end() && j == b.end();
}

std::size_t placeholders(std::string_view pattern) {
  std::size_t n = 0;
  for (auto at = pattern.find("{}"); at != std::string_view::npos; at = pattern.find("{}", at + 2))
    ++n;
  return n;
}

void check_routing(const router& routes, const request_head& head) {
  auto token = bearer_token(head);
  const auto authorization = head[http::field::authorization];
  check(token.empty() ||
        std::string_view(authorization.data(), authorization.size()).substr(7).starts_with(token));

  auto target = boost::urls::parse_origin_form(head.target());
  if (!target) return;  // api::admit answers 400
  auto found = routes.find(head, target->encoded_path());
  if (auto* match = std::get_if<router::match>(&found)) {
    check(match->found != nullptr && match->found->method == match->method);
    // Only a POST may become another method, and only on a route that takes it.
    check(match->method == head.method() ||
          (head.method() == http::verb::post && match->found->options.method_override));
    check(match->params.size() == placeholders(match->found->pattern));
    for (const auto& p : match->params) check(!p.empty() && p.find('/') == std::string::npos);
  } else {
    const auto& res = std::get<response>(found);
    const bool not_found = res.result() == http::status::not_found;
    const bool not_allowed = res.result() == http::status::method_not_allowed;
    const bool bad_override = res.result() == http::status::bad_request;
    check(not_found || bad_override || (not_allowed && !res[http::field::allow].empty()));
  }
}

// The framing checks the connection makes before routing (http/head_check):
// a refusal is a 400, a 501 or a 431, always with a reason.
void check_framing_of(const request_head& head) {
  if (auto refusal = check_framing(head)) {
    check(refusal->status == http::status::bad_request ||
          refusal->status == http::status::not_implemented);
    check(!refusal->message.empty());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const route_table table;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto whole = read_head(input, size + 1);
  const auto trickled = read_head(input, 7);
  if (whole.ec) {
    // Answered (400/431) or a silent end, never anything else.
    if (auto refusal = parse_refusal(whole.ec)) check(!refusal->message.empty());
  }
  check(whole.head.has_value() == trickled.head.has_value());
  if (!whole.head) return 0;
  check(whole.used == trickled.used && same(*whole.head, *trickled.head));
  check_framing_of(*whole.head);
  check_routing(table.routes(), *whole.head);
  return 0;
}
