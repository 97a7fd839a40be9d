// A webhook delivery from a helpdesk: whether it is genuine (signature or
// token, timestamp window) and what it says about which ticket. Pure: the
// caller reads the request and refuses replays with the store.
#pragma once

#include <boost/json/value.hpp>
#include <boost/system/result.hpp>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "valise/server/helpdesk_connector.hpp"

namespace valise::server::helpdesk {

// Request headers by lowercase name.
using header_map = std::map<std::string, std::string, std::less<>>;

struct accepted {
  // What identifies the delivery for refusing replays: the delivery id
  // header or pointer, or the signature; at most 128 printable characters
  // (longer ids are replaced by their SHA-256).
  std::string delivery_id;
  // What identifies the signed content ("signature:…", or for a token the
  // body's hash): refused as a replay too, because an id header is not
  // signed and a replayed body could come with a new one.
  std::string content_id;
  std::optional<unix_time> timestamp;
};

struct refused {
  enum class why { missing, bad_signature, bad_timestamp, stale };
  why what;
  std::string reason;  // one sentence, safe to answer and audit: no secret
};

std::variant<accepted, refused> verify_delivery(const header_map& headers, std::string_view body,
                                                unix_time now, const connector& c);

// The signature header's value a helpdesk would send for `body` (tests and
// the stand-ins use it to sign like the helpdesk does).
std::string sign(std::string_view body, std::string_view timestamp, const connector& c);

// What a delivery says, by its status: the route decides, from the ticket
// valise has, whether that creates, updates, schedules or cancels.
enum class ticket_event { updated, solved, closed, reopened };
std::string_view to_string(ticket_event e);

struct ticket_news {
  std::string id;  // the helpdesk's ticket id, as text: valise's ref
  std::string title;
  severity level = severity::non_blocking;
  std::string status;    // as the helpdesk wrote it
  std::string priority;  // as the helpdesk wrote it (empty: none)
  ticket_event event = ticket_event::updated;
};

// The ticket in `body`, or why not ("ticket id not found at /ticket/id").
boost::system::result<ticket_news, std::string> read_ticket(const boost::json::value& body,
                                                            const connector& c);

// A scalar at `pointer` as text (numbers in decimal), if there is one.
std::optional<std::string> text_at(const boost::json::value& body, std::string_view pointer);

}  // namespace valise::server::helpdesk
