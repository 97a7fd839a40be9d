#include "outbox/outbox_config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "outbox/standard_webhook.hpp"
#include "valise/common/secret_file.hpp"
#include "valise/common/units.hpp"

namespace valise::server::outbox {
namespace {

using parsed = boost::system::result<outbox_config, std::string>;

std::string at(const std::filesystem::path& file, const toml::node& node) {
  return fmt::format("{}:{}", file.string(), node.source().begin.line);
}

parsed fail(std::string text) {
  return {boost::system::in_place_error, std::move(text)};
}

// The events valise enqueues (store: complete_upload, requests, destroy).
constexpr std::string_view known_events[] = {"bundle.arrived", "request.failed", "bundles.purged"};

bool valid_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 &&
         name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") == std::string_view::npos;
}

std::string duration_text(std::chrono::seconds d) {
  const auto s = d.count();
  for (auto [unit, letter] : {std::pair{86400, 'd'}, {3600, 'h'}, {60, 'm'}})
    if (s != 0 && s % unit == 0) return fmt::format("\"{}{}\"", s / unit, letter);
  return fmt::format("\"{}s\"", s);
}

}  // namespace

std::string format_outbox_config(const outbox_config& c) {
  const outbox_config d;
  std::string out = "\n[outbox]\n";
  auto key = [&](const char* name, const char* doc, std::string dflt, std::string value) {
    out += fmt::format("# {} Default: {}.\n{} = {}\n", doc, dflt, name, value);
  };
  key("min_backoff",
      "Wait before the first retry of a delivery to a webhook; it doubles at each attempt.",
      duration_text(d.min_backoff), duration_text(c.min_backoff));
  key("max_backoff", "Longest wait between two attempts.", duration_text(d.max_backoff),
      duration_text(c.max_backoff));
  key("give_up_after",
      "A delivery not made this long after it was enqueued fails for good (`valise outbox "
      "retry` tries it again).",
      duration_text(d.give_up_after), duration_text(c.give_up_after));
  key("max_pending_per_target",
      "Deliveries one target may have waiting; past it, new events for it are dropped (audited).",
      std::to_string(d.max_pending_per_target), std::to_string(c.max_pending_per_target));
  out +=
      "# Webhooks: one [webhooks.NAME] table each (url, secret or secret_file, ca_file,\n"
      "# events), see server.toml(5).";
  for (const auto& w : c.webhooks) out += " Configured: " + w.name + ".";
  return out + "\n";
}

parsed parse_outbox_config(const toml::table& root, const std::filesystem::path& file) {
  outbox_config out;
  const auto base = std::filesystem::absolute(file).parent_path();
  if (const auto* node = root.get("outbox")) {
    for (auto&& [key, value] : *node->as_table()) {
      const auto name = key.str();
      std::chrono::seconds* duration = name == "min_backoff"     ? &out.min_backoff
                                       : name == "max_backoff"   ? &out.max_backoff
                                       : name == "give_up_after" ? &out.give_up_after
                                                                 : nullptr;
      if (duration) {
        auto text = value.value<std::string>();
        auto seconds =
            text && !text->empty() && std::isalpha(static_cast<unsigned char>(text->back()))
                ? common::parse_duration(*text)
                : std::nullopt;
        if (!seconds)
          return fail(
              fmt::format("{}: outbox.{}: expected a duration such as \"1s\", \"1h\" "
                          "or \"3d\"",
                          at(file, value), name));
        *duration = std::chrono::seconds(*seconds);
      } else if (name == "max_pending_per_target") {
        auto n = value.is_integer() ? value.value<std::int64_t>() : std::nullopt;
        if (!n || *n < 1 || *n > 1000000)
          return fail(fmt::format("{}: outbox.max_pending_per_target: expected 1 to 1000000",
                                  at(file, value)));
        out.max_pending_per_target = static_cast<unsigned>(*n);
      } else {
        return fail(fmt::format(
            "{}: unknown setting outbox.{}: min_backoff, max_backoff, give_up_after and "
            "max_pending_per_target are the outbox's settings",
            at(file, value), name));
      }
    }
  }
  if (out.min_backoff > out.max_backoff)
    return fail(fmt::format("{}: outbox.min_backoff must not be more than outbox.max_backoff",
                            file.string()));
  const auto* hooks = root.get("webhooks");
  if (!hooks) return out;
  for (auto&& [hook_name, hook_node] : *hooks->as_table()) {
    const std::string name(hook_name.str());
    const auto* table = hook_node.as_table();
    if (!table || !valid_name(name))
      return fail(fmt::format(
          "{}: [webhooks.{}] must be a table named with 1-64 lowercase letters, digits, '_' or "
          "'-'",
          at(file, hook_node), name));
    webhook_config hook{.name = name};
    std::string secret;
    for (auto&& [key, value] : *table) {
      const auto k = key.str();
      const auto where = fmt::format("{}: webhooks.{}.{}", at(file, value), name, k);
      if (k == "events") {
        const auto* list = value.as_array();
        if (!list) return fail(where + ": expected a list of event names");
        for (const auto& item : *list) {
          auto event = item.value<std::string>();
          if (!event || std::find(std::begin(known_events), std::end(known_events), *event) ==
                            std::end(known_events))
            return fail(where +
                        ": events are \"bundle.arrived\", \"request.failed\" and "
                        "\"bundles.purged\"");
          hook.events.push_back(*event);
        }
        continue;
      }
      auto text = value.value<std::string>();
      if (!text) return fail(where + ": expected a string");
      if (k == "url") {
        hook.url = *text;
      } else if (k == "secret") {
        secret = *text;
      } else if (k == "secret_file") {
        auto read = common::read_secret_file(base / *text, {.limit = 4096});
        if (!read) return fail(where + ": " + read.error());
        secret = std::exchange(read->value, {});
      } else if (k == "ca_file") {
        hook.ca_file = (base / *text).lexically_normal();
      } else {
        return fail(fmt::format(
            "{}: unknown setting webhooks.{}.{}: url, secret or secret_file, ca_file and events "
            "are a webhook's settings",
            at(file, value), name, k));
      }
    }
    const auto where = fmt::format("{}: webhooks.{}", at(file, hook_node), name);
    if (!hook.url.starts_with("https://") || hook.url.size() <= 8)
      return fail(where +
                  ": url must be an https:// URL, such as \"https://hooks.example.com/valise\"");
    auto key = parse_webhook_secret(secret);
    // The secret itself is never repeated in a message.
    if (!key)
      return fail(where +
                  ": secret (or secret_file) must be \"whsec_\" and the base64 of at least 16 "
                  "random bytes: `echo whsec_$(head -c 32 /dev/urandom | base64)` makes one");
    hook.key = std::move(*key);
    out.webhooks.push_back(std::move(hook));
  }
  return out;
}

}  // namespace valise::server::outbox
