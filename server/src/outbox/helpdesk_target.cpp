#include "outbox/helpdesk_target.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "helpdesk/notes.hpp"
#include "outbox/note_text.hpp"

namespace valise::server::outbox {
namespace {

outbound_request outbound(const helpdesk::http_call& call) {
  outbound_request out;
  out.method = call.method;
  out.url = call.url;
  for (const auto& [name, value] : call.headers) out.headers.push_back({name, value});
  if (call.method != "GET") out.body = boost::json::serialize(call.body);
  return out;
}

}  // namespace

helpdesk_target::helpdesk_target(helpdesk::connector c)
    : c_(std::move(c)), name_("helpdesk:" + c_.name), ca_file_(c_.api_ca_file.string()) {}

bool helpdesk_target::wants(std::string_view event) const {
  return event == "bundle.arrived" || event == "request.failed" || event == "bundles.purged";
}

std::optional<outbound_request> helpdesk_target::session_request() const {
  if (c_.kind != helpdesk::preset::glpi) return std::nullopt;
  return outbound(helpdesk::glpi_init_session(c_));
}

boost::system::result<std::string, std::string> helpdesk_target::session_of(
    const common::http_response& answer) const {
  boost::system::error_code ec;
  auto body = boost::json::parse(answer.body, ec);
  const auto* token =
      !ec && body.is_object() ? body.as_object().if_contains("session_token") : nullptr;
  if (!token || !token->is_string() || token->as_string().empty())
    return {boost::system::in_place_error, "initSession's answer holds no session_token"};
  return {boost::system::in_place_value, std::string(token->as_string())};
}

boost::system::result<outbound_request, std::string> helpdesk_target::render(
    const outbox_entry& entry, unix_time /*now*/, const std::string& session) const {
  auto text = note_text(entry);
  if (!text) return {boost::system::in_place_error, text.error()};
  auto call = helpdesk::note_request(c_, entry.ticket_ref, *text, session);
  if (!call) return {boost::system::in_place_error, call.error()};
  return outbound(*call);
}

target_list helpdesk_targets(const std::vector<helpdesk::connector>& connectors) {
  target_list out;
  for (const auto& c : connectors)
    if (!c.api_url.empty()) out.push_back(std::make_shared<helpdesk_target>(c));
  return out;
}

}  // namespace valise::server::outbox
