// Bundles: list per ticket, metadata, download (with Range), delete.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <memory>

#include "api/api.hpp"
#include "api/api_error.hpp"
#include "api/json_views.hpp"
#include "http/range.hpp"

namespace valise::server {
namespace {

namespace json = boost::json;

std::string subject(const std::string& id) {
  return "bundle " + id;
}

// A filename safe inside Content-Disposition's quotes, whatever the uploader
// called the file.
std::string disposition_name(const std::string& name) {
  std::string out;
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u >= 0x7f || c == '"' || c == '\\' || c == '/') ? '_' : c;
  }
  return out.empty() ? "bundle.age" : out;
}

outcome list_bundles(api_context& ctx, request& req) {
  const auto& ref = req.params[0];
  if (auto t = ctx.db.get_ticket(ref); !t)
    return error_response(t.error(), "ticket \"" + ref + "\"", api_error::ticket_not_found);
  auto bundles = ctx.db.list_bundles(ref);
  if (!bundles) return error_response(bundles.error(), "bundles");
  json::array out;
  for (const auto& b : *bundles) out.push_back(to_json(b));
  return json_response(http::status::ok, out);
}

outcome show_bundle(api_context& ctx, request& req) {
  auto b = ctx.db.get_bundle(req.params[0]);
  if (!b) return error_response(b.error(), subject(req.params[0]), api_error::bundle_not_found);
  return json_response(http::status::ok, to_json(*b));
}

outcome download_bundle(api_context& ctx, request& req) {
  const auto& id = req.params[0];
  auto info = ctx.db.get_bundle(id);
  if (!info) return error_response(info.error(), subject(id), api_error::bundle_not_found);
  auto range = parse_range(
      {req.head[http::field::range].data(), req.head[http::field::range].size()}, info->size);
  if (range.what == byte_range::unsatisfiable) {
    auto res = error_response(api_error::range_not_satisfiable, "the range is past the end");
    res.set(http::field::content_range, "bytes */" + std::to_string(info->size));
    return res;
  }
  auto file = ctx.db.open_bundle(*req.who, id);
  if (!file) return error_response(file.error(), subject(id), api_error::bundle_not_found);
  if (auto s = file->seek(range.first); !s) return error_response(s.error(), subject(id));
  download d{.head = response{range.what == byte_range::part ? http::status::partial_content
                                                             : http::status::ok,
                              11},
             .body = std::make_unique<bundle_file>(std::move(*file)),
             .length = range.length};
  d.head.set(http::field::content_type, "application/octet-stream");
  d.head.set(http::field::content_disposition,
             "attachment; filename=\"" + disposition_name(info->filename) + "\"");
  d.head.set(http::field::accept_ranges, "bytes");
  d.head.set(http::field::cache_control, "no-store");
  d.head.set("Valise-Bundle-Sha256", info->sha256);
  if (range.what == byte_range::part)
    d.head.set(http::field::content_range, "bytes " + std::to_string(range.first) + "-" +
                                               std::to_string(range.first + range.length - 1) +
                                               "/" + std::to_string(info->size));
  d.head.content_length(range.length);
  return d;
}

outcome delete_bundle(api_context& ctx, request& req) {
  auto purged = ctx.db.delete_bundle(*req.who, req.params[0]);
  if (!purged)
    return error_response(purged.error(), subject(req.params[0]), api_error::bundle_not_found);
  ctx.stats.purged_bundles.fetch_add(1, std::memory_order_relaxed);
  return json_response(http::status::ok, to_json(purge_report{.bundles = {*purged}}));
}

}  // namespace

void add_bundle_routes(router& r, api_context& ctx) {
  using v = http::verb;
  auto bind = [&ctx](auto fn) { return with_context(ctx, fn); };
  r.add(v::get, "/api/v1/tickets/{}/bundles", access::technician, body_kind::none,
        bind(list_bundles));
  r.add(v::get, "/api/v1/bundles/{}", access::technician, body_kind::none, bind(show_bundle));
  r.add(v::get, "/api/v1/bundles/{}/content", access::technician, body_kind::none,
        bind(download_bundle));
  r.add(v::delete_, "/api/v1/bundles/{}", access::technician, body_kind::none, bind(delete_bundle));
}

}  // namespace valise::server
