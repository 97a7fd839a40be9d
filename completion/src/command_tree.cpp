#include "command_tree.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <string_view>

namespace valise::completion {
namespace {

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// The three programs name their path options and arguments alike; an option
// that says so itself (type_name("FILE"), ExistingFile) needs no entry here.
value_kind kind_by_name(std::string_view name) {
  constexpr std::array<std::string_view, 2> directories{"data", "directory"};
  constexpr std::array<std::string_view, 8> files{"config", "output", "ca",    "identity",
                                                  "input",  "file",   "paths", "bundle"};
  if (std::find(directories.begin(), directories.end(), name) != directories.end() ||
      ends_with(name, "-dir"))
    return value_kind::directory;
  if (std::find(files.begin(), files.end(), name) != files.end() || ends_with(name, "-file") ||
      ends_with(name, "-files") || ends_with(name, "-out"))
    return value_kind::file;
  return value_kind::none;
}

// "{a,b,c}", CLI11's description of an IsMember set; not a map ("a->1").
bool parse_choices(std::string_view text, std::vector<std::string>& choices) {
  if (text.size() < 2 || text.front() != '{' || text.back() != '}') return false;
  if (text.find("->") != std::string_view::npos) return false;
  text = text.substr(1, text.size() - 2);
  std::vector<std::string> found;
  while (!text.empty()) {
    auto comma = text.find(',');
    auto item = text.substr(0, comma);
    if (!item.empty()) found.emplace_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  if (found.empty()) return false;
  choices = std::move(found);
  return true;
}

// The type name, then each validator's description, joined by ':'
// ("TEXT:{open,resolved}", "TEXT:FILE").
value_kind kind_by_type(std::string_view type_name, std::vector<std::string>& choices) {
  auto kind = value_kind::none;
  while (!type_name.empty()) {
    auto colon = type_name.find(':');
    auto part = type_name.substr(0, colon);
    if (parse_choices(part, choices)) return value_kind::choices;
    if (part == "DIR") kind = value_kind::directory;
    if (kind == value_kind::none && (part == "FILE" || part.substr(0, 4) == "PATH"))
      kind = value_kind::file;
    if (colon == std::string_view::npos) break;
    type_name.remove_prefix(colon + 1);
  }
  return kind;
}

bool shown(const CLI::Option& option) {
  return !option.get_group().empty();
}

// An option group is a nameless subcommand whose options belong to its parent.
void collect_options(const CLI::App& app, std::vector<const CLI::Option*>& out) {
  for (const auto* option : app.get_options()) out.push_back(option);
  for (const auto* group :
       app.get_subcommands([](const CLI::App* sub) { return sub->get_name().empty(); }))
    collect_options(*group, out);
}

bool has_name(const std::vector<option_info>& options, const std::string& name) {
  return std::any_of(options.begin(), options.end(), [&](const option_info& o) {
    return std::find(o.names.begin(), o.names.end(), name) != o.names.end();
  });
}

void walk(const CLI::App& app, const std::string& path, std::vector<command_info>& out) {
  command_info command{.path = path};
  auto subcommands = app.get_subcommands([](const CLI::App* sub) {
    return !sub->get_name().empty() && !sub->get_disabled() && !sub->get_group().empty();
  });
  for (const auto* sub : subcommands) {
    command.subcommands.push_back(sub->get_name());
    for (const auto& alias : sub->get_aliases()) command.subcommands.push_back(alias);
  }
  // Options this command does not know go to its parent when it falls through
  // (the agent's -c/--config after a subcommand); its own come first.
  for (const auto* level = &app; level != nullptr; level = level->get_parent()) {
    std::vector<const CLI::Option*> options;
    collect_options(*level, options);
    for (const auto* option : options) {
      if (!shown(*option)) continue;
      auto info = describe_option(*option);
      if (info.names.empty()) {
        if (level == &app && command.positional == value_kind::none &&
            (info.kind == value_kind::file || info.kind == value_kind::directory))
          command.positional = info.kind;
        continue;
      }
      if (level != &app && has_name(command.options, info.names.front())) continue;
      command.options.push_back(std::move(info));
    }
    if (!level->get_fallthrough()) break;
  }
  out.push_back(std::move(command));
  for (const auto* sub : subcommands)
    walk(*sub, path.empty() ? sub->get_name() : path + " " + sub->get_name(), out);
}

}  // namespace

option_info describe_option(const CLI::Option& option) {
  option_info info;
  for (const auto& name : option.get_snames()) info.names.push_back("-" + name);
  for (const auto& name : option.get_lnames()) info.names.push_back("--" + name);
  info.takes_value = option.get_items_expected_max() > 0;
  if (!info.takes_value) return info;
  info.kind = kind_by_type(option.get_type_name(), info.choices);
  if (info.kind == value_kind::none) info.kind = kind_by_name(option.get_single_name());
  return info;
}

std::vector<command_info> command_tree(const CLI::App& app) {
  std::vector<command_info> out;
  walk(app, "", out);
  return out;
}

}  // namespace valise::completion
