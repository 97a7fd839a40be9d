#include "helpdesk/notes.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <charconv>

namespace valise::server::helpdesk {
namespace {

using result = boost::system::result<http_call, std::string>;

std::string basic(std::string_view user, std::string_view password) {
  const std::string pair = std::string(user) + ":" + std::string(password);
  std::string out(4 * ((pair.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(pair.data()),
                                static_cast<int>(pair.size()));
  out.resize(static_cast<std::size_t>(n));
  return "Basic " + out;
}

// The ticket id as a path segment: percent-encoded, so that an id can never
// reach another path of the API.
std::string segment(const std::string& id) {
  return boost::urls::encode(id, boost::urls::unreserved_chars);
}

std::optional<std::int64_t> number(const std::string& id) {
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), n);
  if (ec != std::errc{} || end != id.data() + id.size() || n <= 0) return std::nullopt;
  return n;
}

const std::pair<std::string, std::string> json_type{"Content-Type", "application/json"};

// GLPI shows a followup's content as HTML: the text escaped (a file name or
// an agent's error is the client's text), its lines kept as line breaks.
std::string glpi_html(std::string_view text) {
  std::string out;
  for (char ch : text) {
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\n':
        out += "<br>\n";
        break;
      default:
        out += ch;
    }
  }
  return out;
}

}  // namespace

http_call glpi_init_session(const connector& c) {
  // GLPI's legacy REST API (apirest.md): initSession with
  // "Authorization: user_token TOKEN" and the API client's App-Token.
  return {"GET",
          c.api_url + "/initSession",
          {{"App-Token", c.app_token}, {"Authorization", "user_token " + c.api_token}},
          {}};
}

result note_request(const connector& c, const std::string& ticket_id, const std::string& text,
                    const std::string& session_token) {
  if (c.api_url.empty())
    return result{
        boost::system::in_place_error,
        fmt::format("helpdesk.{}.api_url is not set: notes need the helpdesk's API", c.name)};
  switch (c.kind) {
    case preset::glpi: {
      // POST apirest.php/ITILFollowup {"input": {itemtype, items_id,
      // content, is_private}}.
      auto id = number(ticket_id);
      if (!id)
        return result{boost::system::in_place_error,
                      fmt::format("GLPI ticket ids are numbers, not \"{}\"", ticket_id)};
      return http_call{"POST",
                       c.api_url + "/ITILFollowup",
                       {json_type, {"App-Token", c.app_token}, {"Session-Token", session_token}},
                       {{"input",
                         {{"itemtype", "Ticket"},
                          {"items_id", *id},
                          {"content", glpi_html(text)},
                          {"is_private", 1}}}}};
    }
    case preset::zammad: {
      // POST /api/v1/ticket_articles, an internal note.
      auto id = number(ticket_id);
      if (!id)
        return result{boost::system::in_place_error,
                      fmt::format("Zammad ticket ids are numbers, not \"{}\"", ticket_id)};
      return http_call{"POST",
                       c.api_url + "/api/v1/ticket_articles",
                       {json_type, {"Authorization", "Token token=" + c.api_token}},
                       {{"ticket_id", *id},
                        {"body", text},
                        {"content_type", "text/plain"},
                        {"type", "note"},
                        {"internal", true}}};
    }
    case preset::jira:
      // Jira Service Management REST API: POST
      // /rest/servicedeskapi/request/{issueIdOrKey}/comment, public false
      // for an internal comment; basic auth with email:API token.
      return http_call{
          "POST",
          c.api_url + "/rest/servicedeskapi/request/" + segment(ticket_id) + "/comment",
          {json_type,
           {"Accept", "application/json"},
           {"Authorization", basic(c.api_user, c.api_token)}},
          {{"body", text}, {"public", false}}};
    case preset::zendesk:
      // Zendesk Tickets API: PUT /api/v2/tickets/{id} with a private
      // comment; basic auth with "email/token:API token".
      return http_call{"PUT",
                       c.api_url + "/api/v2/tickets/" + segment(ticket_id),
                       {json_type, {"Authorization", basic(c.api_user + "/token", c.api_token)}},
                       {{"ticket", {{"comment", {{"body", text}, {"public", false}}}}}}};
    case preset::custom:
      break;
  }
  return result{boost::system::in_place_error,
                fmt::format("helpdesk.{} is a custom connector: it has no note API (use a "
                            "[webhooks.NAME] target)",
                            c.name)};
}

}  // namespace valise::server::helpdesk
