#include "helpdesk/connector_config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "valise/common/secret_file.hpp"
#include "valise/common/units.hpp"

namespace valise::server::helpdesk {
namespace {

using parsed = boost::system::result<std::vector<connector>, std::string>;

constexpr const char* preset_names[] = {"glpi", "zammad", "jira", "zendesk", "custom"};

std::string where(const std::filesystem::path& file, const toml::node& at) {
  return fmt::format("{}:{}", file.string(), at.source().begin.line);
}

// A JSON pointer (RFC 6901): empty (the whole document) is of no use here.
bool valid_pointer(std::string_view p) {
  if (p.empty() || p.front() != '/') return false;
  for (std::size_t i = 0; i < p.size(); ++i)
    if (p[i] == '~' && (i + 1 == p.size() || (p[i + 1] != '0' && p[i + 1] != '1'))) return false;
  return true;
}

bool valid_name(std::string_view name) {
  return !name.empty() && name.size() <= 32 &&
         name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") == std::string_view::npos;
}

// An HTTP header name (RFC 9110 token).
bool valid_header(std::string_view h) {
  return !h.empty() && h.size() <= 64 &&
         h.find_first_not_of(
             "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-"
             ".^_`|~") == std::string_view::npos;
}

// Where each preset's defaults come from is cited in docs/helpdesk/*.md.
connector glpi() {
  // GLPI 10/11, src/Webhook.php: X-GLPI-signature = hash_hmac('sha256',
  // $body . $timestamp, $secret) in hex, X-GLPI-timestamp = time(). No
  // delivery id: the signature stands for it. The default payload is
  // {"event", "item"} with the item as the high-level API (v2) shows it
  // (src/Glpi/Api/HL/Controller/ITILController.php): "status" an object
  // {"id", "name"}, "priority" 1 to 5. Ticket statuses: 1 new,
  // 2 processing (assigned), 3 processing (planned), 4 pending, 5 solved,
  // 6 closed; priorities 1 very low to 5 very high, 6 major.
  connector c;
  c.kind = preset::glpi;
  c.signed_payload = "{body}{timestamp}";
  c.signature_header = "X-GLPI-signature";
  c.timestamp_header = "X-GLPI-timestamp";
  c.ticket_id_pointer = "/item/id";
  c.title_pointer = "/item/name";
  c.priority_pointer = "/item/priority";
  c.status_pointer = "/item/status/id";
  c.solved_statuses = {"5"};
  c.closed_statuses = {"6"};
  c.reopened_statuses = {"1", "2", "3", "4"};
  c.priorities = {{"6", severity::blocking},      {"5", severity::blocking},
                  {"4", severity::semi_blocking}, {"3", severity::non_blocking},
                  {"2", severity::non_blocking},  {"1", severity::non_blocking}};
  return c;
}

connector zammad() {
  // Zammad admin documentation, Manage > Webhook > Payload: X-Hub-Signature
  // "sha1=" + hex HMAC-SHA1 of the body with the webhook's HMAC SHA1
  // signature token, X-Zammad-Delivery a unique id per delivery, no
  // timestamp; the default payload has the ticket with state and priority
  // by name.
  connector c;
  c.kind = preset::zammad;
  c.algorithm = digest::sha1;
  c.signature_header = "X-Hub-Signature";
  c.signature_prefix = "sha1=";
  c.delivery_id_header = "X-Zammad-Delivery";
  c.ticket_id_pointer = "/ticket/id";
  c.title_pointer = "/ticket/title";
  c.priority_pointer = "/ticket/priority";
  c.status_pointer = "/ticket/state";
  c.closed_statuses = {"closed", "merged"};
  c.reopened_statuses = {"new", "open", "pending reminder", "pending close"};
  c.priorities = {{"3 high", severity::blocking},
                  {"2 normal", severity::semi_blocking},
                  {"1 low", severity::non_blocking}};
  return c;
}

connector jira() {
  // Atlassian, "Webhooks" (Jira Cloud platform): with a secret, X-Hub-Signature
  // "sha256=" + hex HMAC-SHA256 of the body; X-Atlassian-Webhook-Identifier
  // is the same for a delivery's retries. Jira Service Management's default
  // statuses and priorities.
  connector c;
  c.kind = preset::jira;
  c.signature_header = "X-Hub-Signature";
  c.signature_prefix = "sha256=";
  c.delivery_id_header = "X-Atlassian-Webhook-Identifier";
  c.ticket_id_pointer = "/issue/key";
  c.title_pointer = "/issue/fields/summary";
  c.priority_pointer = "/issue/fields/priority/name";
  c.status_pointer = "/issue/fields/status/name";
  c.solved_statuses = {"Resolved", "Done"};
  c.closed_statuses = {"Closed", "Canceled"};
  c.reopened_statuses = {
      "Reopened", "Open",     "Waiting for support", "Waiting for customer", "In Progress",
      "Pending",  "Escalated"};
  c.priorities = {{"Highest", severity::blocking},
                  {"High", severity::blocking},
                  {"Medium", severity::semi_blocking},
                  {"Low", severity::non_blocking},
                  {"Lowest", severity::non_blocking}};
  return c;
}

connector zendesk() {
  // Zendesk developer documentation, "Verifying webhook authenticity":
  // X-Zendesk-Webhook-Signature = base64(HMAC-SHA256(timestamp + body)),
  // X-Zendesk-Webhook-Signature-Timestamp; X-Zendesk-Webhook-Invocation-Id
  // names the invocation. The body is the trigger's JSON (docs/helpdesk/
  // zendesk.md gives the one these pointers expect).
  connector c;
  c.kind = preset::zendesk;
  c.signed_payload = "{timestamp}{body}";
  c.signature_header = "X-Zendesk-Webhook-Signature";
  c.signature_encoding = encoding::base64;
  c.timestamp_header = "X-Zendesk-Webhook-Signature-Timestamp";
  c.delivery_id_header = "X-Zendesk-Webhook-Invocation-Id";
  c.ticket_id_pointer = "/ticket/id";
  c.title_pointer = "/ticket/title";
  c.priority_pointer = "/ticket/priority";
  c.status_pointer = "/ticket/status";
  c.solved_statuses = {"solved"};
  c.closed_statuses = {"closed"};
  c.reopened_statuses = {"new", "open", "pending", "hold"};
  c.priorities = {{"urgent", severity::blocking},
                  {"high", severity::semi_blocking},
                  {"normal", severity::non_blocking},
                  {"low", severity::non_blocking}};
  return c;
}

}  // namespace

std::optional<preset> parse_preset(std::string_view name) {
  for (std::size_t i = 0; i < std::size(preset_names); ++i)
    if (name == preset_names[i]) return static_cast<preset>(i);
  return std::nullopt;
}

std::string_view to_string(preset p) {
  return preset_names[static_cast<std::size_t>(p)];
}

connector preset_defaults(preset p) {
  switch (p) {
    case preset::glpi:
      return glpi();
    case preset::zammad:
      return zammad();
    case preset::jira:
      return jira();
    case preset::zendesk:
      return zendesk();
    case preset::custom:
      break;
  }
  return {};
}

namespace {

// One [helpdesk.NAME] table.
boost::system::result<connector, std::string> parse_one(const std::string& name,
                                                        const toml::table& table,
                                                        const std::filesystem::path& file,
                                                        const file_reader& read_file) {
  using result = boost::system::result<connector, std::string>;
  auto fail = [&](const toml::node& at, std::string_view key, std::string what) -> result {
    return {boost::system::in_place_error,
            fmt::format("{}: helpdesk.{}.{}: {}", where(file, at), name, key, what)};
  };
  const auto* preset_node = table.get("preset");
  if (!preset_node)
    return result{boost::system::in_place_error,
                  fmt::format("{}: helpdesk.{}: preset is missing: write preset = \"glpi\", "
                              "\"zammad\", \"jira\", \"zendesk\" or \"custom\"",
                              where(file, table), name)};
  auto preset_name = preset_node->value<std::string>();
  auto kind = preset_name ? parse_preset(*preset_name) : std::nullopt;
  if (!kind)
    return fail(*preset_node, "preset",
                "must be \"glpi\", \"zammad\", \"jira\", \"zendesk\" or \"custom\"");
  connector c = preset_defaults(*kind);
  c.name = name;
  c.kind = *kind;

  const auto base = std::filesystem::absolute(file).parent_path();
  // A secret from the file, or the key itself; never both.
  auto secret = [&](const toml::node& node, std::string& out,
                    bool from_file) -> std::optional<std::string> {
    auto text = node.value<std::string>();
    if (!text || text->empty()) return "must be a non-empty string";
    if (!from_file) {
      out = *text;
      return std::nullopt;
    }
    auto read = read_file(base / *text);
    if (!read) return fmt::format("cannot read {}: {}", *text, read.error());
    auto value = common::secret_from_text(std::move(*read), *text);
    if (!value) return value.error();
    out = std::exchange(value->value, {});
    return std::nullopt;
  };
  auto strings = [](const toml::node& node) -> std::optional<std::vector<std::string>> {
    const auto* list = node.as_array();
    if (!list) return std::nullopt;
    std::vector<std::string> out;
    for (const auto& item : *list) {
      if (auto s = item.value<std::string>())
        out.push_back(*s);
      else if (auto n = item.value<std::int64_t>(); n && item.is_integer())
        out.push_back(std::to_string(*n));
      else
        return std::nullopt;
    }
    return out;
  };
  auto duration = [](const toml::node& node) -> std::optional<std::chrono::seconds> {
    auto text = node.value<std::string>();
    if (!text || text->empty() || std::string_view("smhd").find(text->back()) == std::string::npos)
      return std::nullopt;
    auto s = common::parse_duration(*text);
    if (!s || *s == 0) return std::nullopt;
    return std::chrono::seconds(*s);
  };

  std::vector<std::string> seen;
  for (auto&& [key_name, node] : table) {
    const std::string key(key_name.str());
    seen.push_back(key);
    auto text = node.value<std::string>();
    auto need_text = [&]() { return !text.has_value(); };
    if (key == "preset") continue;
    if (key == "verify") {
      if (!text || (*text != "hmac" && *text != "token"))
        return fail(node, key, "must be \"hmac\" (a signature) or \"token\" (a static token)");
      c.verify = *text == "hmac" ? check::hmac : check::token;
    } else if (key == "algorithm") {
      if (!text || (*text != "sha256" && *text != "sha1"))
        return fail(node, key, "must be \"sha256\" or \"sha1\"");
      c.algorithm = *text == "sha256" ? digest::sha256 : digest::sha1;
    } else if (key == "signed_payload") {
      if (need_text() || text->find("{body}") == std::string::npos)
        return fail(node, key,
                    "must contain {body}, and {timestamp} where the helpdesk signs it: "
                    "\"{body}\", \"{timestamp}{body}\", \"{timestamp}.{body}\"");
      c.signed_payload = *text;
    } else if (key == "signature_header" || key == "timestamp_header" ||
               key == "delivery_id_header") {
      if (need_text() || (!text->empty() && !valid_header(*text)))
        return fail(node, key, "must be an HTTP header name such as \"X-Hub-Signature\"");
      (key == "signature_header"   ? c.signature_header
       : key == "timestamp_header" ? c.timestamp_header
                                   : c.delivery_id_header) = *text;
    } else if (key == "signature_prefix") {
      if (need_text()) return fail(node, key, "must be a string such as \"sha256=\" (or \"\")");
      c.signature_prefix = *text;
    } else if (key == "signature_encoding") {
      if (!text || (*text != "hex" && *text != "base64"))
        return fail(node, key, "must be \"hex\" or \"base64\"");
      c.signature_encoding = *text == "hex" ? encoding::hex : encoding::base64;
    } else if (key == "secret" || key == "secret_file") {
      if (auto wrong = secret(node, c.secret, key == "secret_file")) return fail(node, key, *wrong);
    } else if (key == "api_token" || key == "api_token_file") {
      if (auto wrong = secret(node, c.api_token, key == "api_token_file"))
        return fail(node, key, *wrong);
    } else if (key == "app_token" || key == "app_token_file") {
      if (auto wrong = secret(node, c.app_token, key == "app_token_file"))
        return fail(node, key, *wrong);
    } else if (key == "timestamp_window" || key == "grace_period") {
      auto d = duration(node);
      if (!d)
        return fail(node, key, "must be a duration such as \"90s\", \"5m\", \"1h\" or \"2d\"");
      (key == "grace_period" ? c.grace_period : c.timestamp_window) = *d;
    } else if (key == "delivery_id_pointer" || key == "ticket_id_pointer" ||
               key == "title_pointer" || key == "priority_pointer" || key == "status_pointer") {
      if (need_text() || (!text->empty() && !valid_pointer(*text)))
        return fail(node, key,
                    "must be a JSON pointer (RFC 6901) such as \"/ticket/id\", or \"\" for none");
      (key == "delivery_id_pointer" ? c.delivery_id_pointer
       : key == "ticket_id_pointer" ? c.ticket_id_pointer
       : key == "title_pointer"     ? c.title_pointer
       : key == "priority_pointer"  ? c.priority_pointer
                                    : c.status_pointer) = *text;
    } else if (key == "solved_statuses" || key == "closed_statuses" || key == "reopened_statuses") {
      auto list = strings(node);
      if (!list) return fail(node, key, "must be a list of status values such as [\"solved\"]");
      (key == "solved_statuses"   ? c.solved_statuses
       : key == "closed_statuses" ? c.closed_statuses
                                  : c.reopened_statuses) = std::move(*list);
    } else if (key == "priorities") {
      const auto* map = node.as_table();
      if (!map)
        return fail(node, key,
                    "must be a table of priority value = severity, such as { \"urgent\" = "
                    "\"blocking\", \"normal\" = \"non-blocking\" }");
      c.priorities.clear();
      for (auto&& [value, level] : *map) {
        auto s = level.value<std::string>();
        auto parsed_level = s ? parse_severity(*s) : std::nullopt;
        if (!parsed_level)
          return fail(level, key,
                      fmt::format("\"{}\" must map to \"blocking\", \"semi-blocking\" or "
                                  "\"non-blocking\"",
                                  value.str()));
        c.priorities.emplace_back(std::string(value.str()), *parsed_level);
      }
    } else if (key == "default_severity") {
      auto level = text ? parse_severity(*text) : std::nullopt;
      if (!level)
        return fail(node, key, "must be \"blocking\", \"semi-blocking\" or \"non-blocking\"");
      c.default_severity = *level;
    } else if (key == "api_url") {
      // https only: the API token travels with every note.
      if (!text || !text->starts_with("https://"))
        return fail(node, key, "must be an https URL such as \"https://helpdesk.example.com\"");
      c.api_url = *text;
      while (!c.api_url.empty() && c.api_url.back() == '/') c.api_url.pop_back();
    } else if (key == "api_ca_file") {
      if (need_text() || text->empty())
        return fail(node, key, "must be the path of a PEM file of CA certificates");
      c.api_ca_file = base / *text;
    } else if (key == "api_user") {
      if (need_text()) return fail(node, key, "must be a string (the API account's email)");
      c.api_user = *text;
    } else {
      return fail(node, key,
                  "unknown setting: docs/helpdesk/README.md lists the keys of a [helpdesk.NAME] "
                  "table");
    }
  }
  auto both = [&](const char* a, const char* b) {
    return std::count(seen.begin(), seen.end(), a) && std::count(seen.begin(), seen.end(), b);
  };
  for (auto [a, b] : {std::pair{"secret", "secret_file"}, std::pair{"api_token", "api_token_file"},
                      std::pair{"app_token", "app_token_file"}})
    if (both(a, b))
      return result{
          boost::system::in_place_error,
          fmt::format("{}: helpdesk.{}: set {} or {}, not both", where(file, table), name, a, b)};
  auto missing = [&](std::string what) -> result {
    return {boost::system::in_place_error,
            fmt::format("{}: helpdesk.{}: {}", where(file, table), name, what)};
  };
  if (c.secret.empty())
    return missing(
        "secret (or secret_file) is missing: the secret the helpdesk signs its webhooks with, "
        "or the token it sends");
  if (c.signature_header.empty())
    return missing(c.verify == check::hmac ? "signature_header is missing: the header that "
                                             "carries the signature"
                                           : "signature_header is missing: the header that "
                                             "carries the token");
  if (c.ticket_id_pointer.empty() || c.status_pointer.empty())
    return missing(
        "ticket_id_pointer and status_pointer are needed: JSON pointers such as \"/ticket/id\"");
  if (c.signed_payload.find("{timestamp}") != std::string::npos && c.timestamp_header.empty())
    return missing("signed_payload has {timestamp}: set timestamp_header");
  // A timestamp nobody signed is whatever a replayer writes: the window
  // would then only shorten how long valise remembers a delivery.
  if (!c.timestamp_header.empty() &&
      (c.verify == check::token || c.signed_payload.find("{timestamp}") == std::string::npos))
    return missing(
        "timestamp_header is set but the timestamp is not signed: put {timestamp} in "
        "signed_payload (with verify = \"hmac\"), or set timestamp_header = \"\"");
  return c;
}

}  // namespace

parsed parse_connectors(const toml::table& section, const std::filesystem::path& file,
                        const file_reader& read_file) {
  std::vector<connector> out;
  for (auto&& [name, node] : section) {
    const std::string text(name.str());
    const auto* table = node.as_table();
    if (!table)
      return parsed{boost::system::in_place_error,
                    fmt::format("{}: helpdesk.{}: write one table per helpdesk, "
                                "[helpdesk.NAME], with its preset and secret",
                                where(file, node), text)};
    if (!valid_name(text))
      return parsed{boost::system::in_place_error,
                    fmt::format("{}: [helpdesk.{}]: a connector's name is 1-32 characters of "
                                "a-z 0-9 _ - (it is in the URL /api/v1/hooks/NAME)",
                                where(file, node), text)};
    auto c = parse_one(text, *table, file, read_file);
    if (!c) return parsed{boost::system::in_place_error, c.error()};
    out.push_back(std::move(*c));
  }
  return out;
}

}  // namespace valise::server::helpdesk
