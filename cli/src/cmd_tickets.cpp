// valise ticket create | list | show | comment | resolve | reopen | pending |
// resume: the server's tickets, their deadlines and what was said on them.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>

#include "commands.hpp"
#include "failure.hpp"
#include "progress.hpp"
#include "server_options.hpp"
#include "table.hpp"

namespace valise::cli {
namespace {

namespace json = boost::json;

const std::vector<std::string> severities = {"blocking", "semi-blocking", "non-blocking"};

struct ticket_options {
  server_options server;
  std::string ref;
  std::string title;
  std::string severity;
  std::string status;
  unsigned limit = 0;
  bool overdue = false;    // list --overdue
  std::string sort;        // list --sort
  std::string text;        // comment
  std::string file;        // comment --file ("-": standard input)
  std::string resolution;  // resolve --resolution
};

// Comments and resolutions the server takes (16 KiB); checked here too, so
// that a long file fails before it is sent.
constexpr std::size_t max_note_bytes = 16 * 1024;
constexpr std::size_t wrap_columns = 100;

std::string ticket_path(const std::string& ref) {
  check_ticket_ref(ref);
  return "/api/v1/tickets/" + path_segment(ref);
}

bool field_flag(const json::value& v, const char* key) {
  const auto* o = v.if_object();
  const auto* f = o ? o->if_contains(key) : nullptr;
  return f && f->is_bool() && f->as_bool();
}

// The DUE column: the resolution due date in UTC, like every time the
// command prints (a technician compares it with the other columns and with
// colleagues elsewhere), to the minute; "pending" while the clock is stopped.
std::string due_column(const json::value& t) {
  if (field_flag(t, "pending")) return "pending";
  auto due = field_text(t, "due_at");
  if (due.size() == 20 && due[10] == 'T') due = due.substr(0, 10) + " " + due.substr(11, 5) + "Z";
  return field_flag(t, "overdue") ? due + " overdue" : due;
}

// The deadlines of `valise ticket show`, in RFC 3339 UTC.
void print_deadlines(const json::value& t) {
  if (field_flag(t, "pending"))
    std::printf("pending   since %s\n", field_text(t, "pending_since").c_str());
  const auto answered = field_text(t, "first_response_at");
  if (answered != "-")
    std::printf("response  answered %s\n", answered.c_str());
  else if (field_text(t, "response_due_at") != "-")
    std::printf("response  due %s, not answered yet%s\n", field_text(t, "response_due_at").c_str(),
                field_flag(t, "response_overdue") ? " (overdue)" : "");
  if (field_text(t, "due_at") != "-")
    std::printf("due       %s%s\n", field_text(t, "due_at").c_str(),
                field_flag(t, "overdue") ? " (overdue)" : "");
}

void print_ticket(const json::value& t) {
  std::printf("ticket    %s\n", field_text(t, "ref").c_str());
  std::printf("title     %s\n", field_text(t, "title").c_str());
  std::printf("severity  %s\n", field_text(t, "severity").c_str());
  std::printf("status    %s\n", field_text(t, "status").c_str());
  std::printf("created   %s\n", field_text(t, "created_at").c_str());
  if (field_text(t, "connector") != "-")  // followed from a helpdesk ([helpdesk.NAME])
    std::printf("helpdesk  %s\n", field_text(t, "connector").c_str());
  print_deadlines(t);
  if (field_text(t, "resolved_at") != "-") {
    std::printf("resolved  %s\n", field_text(t, "resolved_at").c_str());
  }
  std::printf("bundles   %llu\n", static_cast<unsigned long long>(field_size(t, "bundles")));
  const auto* o = t.if_object();
  if (const auto* r = o ? o->if_contains("resolution") : nullptr; r && r->is_string()) {
    std::printf("resolution\n");
    std::string text(r->as_string());
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);)
      std::printf("  %s\n", terminal_text(line).c_str());
  }
}

// Code points, for wrapping (terminals show most as one column).
std::size_t columns(std::string_view text) {
  std::size_t n = 0;
  for (const unsigned char c : text) n += (c & 0xc0) != 0x80;
  return n;
}

// `text` cut into lines of at most `width` columns at spaces (a longer word
// stays whole), its own line breaks kept.
std::vector<std::string> wrapped(const std::string& text, std::size_t width) {
  std::vector<std::string> out;
  std::istringstream paragraphs(text);
  for (std::string paragraph; std::getline(paragraphs, paragraph);) {
    std::string line;
    std::istringstream words(paragraph);
    for (std::string word; words >> word;) {
      if (!line.empty() && columns(line) + 1 + columns(word) > width) {
        out.push_back(std::move(line));
        line.clear();
      }
      line += (line.empty() ? "" : " ") + word;
    }
    out.push_back(std::move(line));
  }
  return out;
}

// One event a line: its time (RFC 3339, UTC) and its sentence, continued
// under the sentence when it is long or has lines of its own.
void print_timeline(const json::value& ticket) {
  const auto* o = ticket.if_object();
  const json::value none;
  const auto& events = elements(o && o->contains("timeline") ? o->at("timeline") : none);
  std::printf("\ntimeline\n");
  for (const auto& e : events) {
    const auto at = field_text(e, "at");
    const auto* text = e.is_object() ? e.as_object().if_contains("text") : nullptr;
    const std::string words = text && text->is_string() ? std::string(text->as_string()) : "";
    const std::string indent(columns(at) + 2, ' ');
    bool first = true;
    for (const auto& line : wrapped(words, wrap_columns)) {
      std::printf("%s  %s\n", first ? at.c_str() : indent.c_str() + 2, terminal_text(line).c_str());
      first = false;
    }
    if (first) std::printf("%s\n", at.c_str());
  }
  if (o && o->contains("timeline_next") && !o->at("timeline_next").is_null())
    std::printf("(more events: the server sends %zu at a time; --json shows timeline_next)\n",
                events.size());
}

std::string read_note(const std::string& file) {
  std::string text;
  if (file == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), {});
  } else {
    std::ifstream in(file, std::ios::binary);
    if (!in)
      fail(fmt::format("--file {}: cannot be read", terminal_text(file)),
           "give a readable file, or - for standard input");
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  return text;
}

void check_note(const std::string& text, std::string_view what) {
  if (text.find_first_not_of(" \t\r\n") == std::string::npos)
    fail(fmt::format("{} is empty", what), "write what you want to say");
  if (text.size() > max_note_bytes)
    fail(fmt::format("{} is {} bytes; the server takes at most {}", what, text.size(),
                     max_note_bytes),
         "shorten it, or attach the long text to the ticket as a bundle (valise send)");
}

void run_create(ticket_options& o) {
  check_ticket_ref(o.ref);
  api_client api(o.server);
  json::object body{{"ref", o.ref}, {"title", o.title}};
  if (!o.severity.empty()) body["severity"] = o.severity;
  const json::value request = body;
  const auto ticket = api.call("POST", "/api/v1/tickets", &request, 201,
                               fmt::format("creating ticket {}", terminal_text(o.ref)));
  if (o.server.json) return print_json(ticket);
  std::printf("created ticket %s (%s): %s\n", field_text(ticket, "ref").c_str(),
              field_text(ticket, "severity").c_str(), field_text(ticket, "title").c_str());
}

void run_list(ticket_options& o) {
  api_client api(o.server);
  std::string query;
  const auto add = [&query](std::string_view key, const std::string& value) {
    query += (query.empty() ? "?" : "&") + std::string(key) + "=" + path_segment(value);
  };
  if (!o.status.empty()) add("status", o.status);
  if (!o.severity.empty()) add("severity", o.severity);
  if (o.limit > 0) add("limit", std::to_string(o.limit));
  if (o.overdue) add("overdue", "true");
  if (!o.sort.empty()) add("sort", o.sort);
  const auto tickets = api.call("GET", "/api/v1/tickets" + query, nullptr, 200, "listing tickets");
  if (o.server.json) return print_json(tickets);
  if (elements(tickets).empty()) {
    std::printf("no tickets\n");
    return;
  }
  table out{{"REF", "STATUS", "SEVERITY", "BUNDLES", "CREATED", "DUE", "TITLE"},
            {false, false, false, true},
            {}};
  for (const auto& t : elements(tickets)) {
    out.rows.push_back({field_text(t, "ref"), field_text(t, "status"), field_text(t, "severity"),
                        std::to_string(field_size(t, "bundles")), field_text(t, "created_at"),
                        due_column(t), field_text(t, "title")});
  }
  out.print();
}

void run_show(ticket_options& o) {
  api_client api(o.server);
  const auto ticket = api.call("GET", ticket_path(o.ref), nullptr, 200,
                               fmt::format("ticket {}", terminal_text(o.ref)));
  if (o.server.json) return print_json(ticket);
  print_ticket(ticket);
  print_timeline(ticket);
}

void run_comment(ticket_options& o) {
  if (!o.text.empty() && !o.file.empty())
    fail("give the comment as TEXT or with --file, not both", "use one of them");
  if (o.text.empty() && o.file.empty())
    fail("no comment given", "give it as TEXT, or --file FILE (- for standard input)");
  const auto text = o.file.empty() ? o.text : read_note(o.file);
  check_note(text, "the comment");
  check_ticket_ref(o.ref);
  api_client api(o.server);
  const json::value request = json::object{{"text", text}};
  const auto comment = api.call("POST", ticket_path(o.ref) + "/comments", &request, 201,
                                fmt::format("commenting on ticket {}", terminal_text(o.ref)));
  if (o.server.json) return print_json(comment);
  std::printf("commented on ticket %s (%s)\n", terminal_text(o.ref).c_str(),
              field_text(comment, "id").c_str());
}

void run_resolve(ticket_options& o) {
  json::object body;
  if (!o.resolution.empty()) {
    check_note(o.resolution, "the resolution");
    body["resolution"] = o.resolution;
  }
  check_ticket_ref(o.ref);
  api_client api(o.server);
  const json::value request = body;
  const auto out = api.call("POST", ticket_path(o.ref) + "/resolve", &request, 200,
                            fmt::format("resolving ticket {}", terminal_text(o.ref)));
  if (o.server.json) return print_json(out);
  const json::value none;
  const auto* object = out.if_object();
  const auto& purged = elements(object && object->contains("purged") ? object->at("purged") : none);
  const auto& cancelled = elements(
      object && object->contains("cancelled_uploads") ? object->at("cancelled_uploads") : none);
  std::printf("resolved ticket %s\n", terminal_text(o.ref).c_str());
  if (purged.empty() && cancelled.empty()) {
    std::printf("nothing was stored for it\n");
    return;
  }
  if (!purged.empty()) {
    std::uint64_t bytes = 0;
    table list{{"BUNDLE", "SIZE", "SHA256"}, {false, true}, {}};
    for (const auto& b : purged) {
      bytes += field_size(b, "size");
      list.rows.push_back(
          {field_text(b, "id"), human_size(field_size(b, "size")), field_text(b, "sha256")});
    }
    std::printf("destroyed %zu bundle(s), %s:\n", purged.size(), human_size(bytes).c_str());
    list.print();
  }
  if (!cancelled.empty()) {
    table list{{"UPLOAD", "RECEIVED"}, {false, true}, {}};
    for (const auto& u : cancelled) {
      list.rows.push_back({field_text(u, "id"), human_size(field_size(u, "offset"))});
    }
    std::printf("cancelled %zu partial upload(s):\n", cancelled.size());
    list.print();
  }
}

void run_reopen(ticket_options& o) {
  api_client api(o.server);
  const auto ticket = api.call("POST", ticket_path(o.ref) + "/reopen", nullptr, 200,
                               fmt::format("reopening ticket {}", terminal_text(o.ref)));
  if (o.server.json) return print_json(ticket);
  std::printf("reopened ticket %s (its purged bundles stay destroyed)\n",
              field_text(ticket, "ref").c_str());
}

void run_pending(ticket_options& o) {
  api_client api(o.server);
  const auto ticket = api.call("POST", ticket_path(o.ref) + "/pending", nullptr, 200,
                               fmt::format("setting ticket {} pending", terminal_text(o.ref)));
  if (o.server.json) return print_json(ticket);
  std::printf("ticket %s is pending: its deadlines wait until `valise ticket resume %s`\n",
              field_text(ticket, "ref").c_str(), field_text(ticket, "ref").c_str());
}

void run_resume(ticket_options& o) {
  api_client api(o.server);
  const auto ticket = api.call("POST", ticket_path(o.ref) + "/resume", nullptr, 200,
                               fmt::format("resuming ticket {}", terminal_text(o.ref)));
  if (o.server.json) return print_json(ticket);
  std::printf("ticket %s resumed: due %s\n", field_text(ticket, "ref").c_str(),
              field_text(ticket, "due_at").c_str());
}

CLI::App* leaf(CLI::App& group, const char* name, const char* description,
               const std::shared_ptr<ticket_options>& options, void (*run)(ticket_options&)) {
  auto* command = group.add_subcommand(name, description);
  add_server_options(*command, options->server);
  command->callback([options, run] { run(*options); });
  return command;
}

}  // namespace

void add_ticket_commands(CLI::App& app) {
  auto* group = app.add_subcommand("ticket", "Support tickets on the server");
  group->require_subcommand(1);
  auto options = std::make_shared<ticket_options>();

  auto* create = leaf(*group, "create", "Create a ticket", options, run_create);
  create->add_option("ref", options->ref, "the ticket's reference (e.g. the helpdesk's id)")
      ->required();
  create->add_option("--title", options->title, "one line saying what is wrong")->required();
  create->add_option("--severity", options->severity, "blocking, semi-blocking or non-blocking")
      ->check(CLI::IsMember(severities));

  auto* list = leaf(*group, "list", "List tickets, newest first", options, run_list);
  list->add_option("--status", options->status, "open or resolved")
      ->check(CLI::IsMember({"open", "resolved"}));
  list->add_option("--severity", options->severity, "blocking, semi-blocking or non-blocking")
      ->check(CLI::IsMember(severities));
  list->add_option("--limit", options->limit, "at most N tickets");
  list->add_flag("--overdue", options->overdue,
                 "only open tickets past their due date (not pending)");
  list->add_option("--sort", options->sort, "created (newest first) or due (soonest due first)")
      ->check(CLI::IsMember({"created", "due"}));

  auto* show = leaf(*group, "show", "Show one ticket and its timeline", options, run_show);
  show->add_option("ref", options->ref, "ticket reference")->required();

  auto* comment =
      leaf(*group, "comment", "Add a comment to a ticket (open or resolved)", options, run_comment);
  comment->add_option("ref", options->ref, "ticket reference")->required();
  comment->add_option("text", options->text, "the comment (up to 16 KiB of UTF-8)");
  comment->add_option("--file", options->file, "read the comment from FILE (- for standard input)");

  auto* resolve = leaf(*group, "resolve",
                       "Resolve a ticket: the server destroys its bundles and partial uploads",
                       options, run_resolve);
  resolve->add_option("ref", options->ref, "ticket reference")->required();
  resolve->add_option("--resolution", options->resolution,
                      "what fixed it, kept with the ticket (up to 16 KiB)");

  auto* reopen = leaf(*group, "reopen", "Reopen a resolved ticket (destroyed data stays gone)",
                      options, run_reopen);
  reopen->add_option("ref", options->ref, "ticket reference")->required();

  auto* pending =
      leaf(*group, "pending", "Set a ticket pending (waiting on the client): its deadlines stop",
           options, run_pending);
  pending->add_option("ref", options->ref, "ticket reference")->required();
  auto* resume = leaf(*group, "resume", "Resume a pending ticket: its deadlines run again", options,
                      run_resume);
  resume->add_option("ref", options->ref, "ticket reference")->required();
}

}  // namespace valise::cli
