#include "user_command.hpp"

#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "accounts/credentials.hpp"
#include "api/json_views.hpp"
#include "valise/common/terminal.hpp"

namespace valise::server {
namespace {

// One line of standard input (a script's `echo PASSWORD |`, a file).
crypto::secret_string read_password_line() {
  std::string line;
  line.reserve(max_password_bytes + 2);  // no reallocation leaving copies behind
  for (int c; (c = std::getchar()) != EOF && c != '\n';) {
    if (line.size() == max_password_bytes + 1) continue;  // too long: refused below
    line.push_back(static_cast<char>(c));
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return crypto::secret_string(std::move(line));
}

// The new password: from standard input when it is not a terminal, else
// typed twice without echo.
crypto::secret_string read_new_password(const std::string& user) {
  crypto::secret_string password;
  if (!common::is_terminal(STDIN_FILENO)) {
    password = read_password_line();
    if (password.empty()) fail("no password on standard input", "send it as one line");
  } else {
    auto first = common::read_secret_from_terminal("Password for " + user + ": ");
    if (!first) fail("cannot read a password from the terminal: " + first.error().message());
    auto again = common::read_secret_from_terminal("Same password again: ");
    if (!again) fail("cannot read a password from the terminal: " + again.error().message());
    if (first->view() != again->view()) fail("the two passwords differ", "type the same twice");
    password = std::move(*first);
  }
  if (auto why = password_problem(password.view())) fail(*why);
  return password;
}

std::string hashed(const crypto::secret_string& password) {
  auto hash = hash_password(password);
  if (!hash) fail("argon2id could not get its memory (64 MiB)");
  return std::move(*hash);
}

void check_name(const std::string& name) {
  if (!valid_user_name(name))
    fail("\"" + name + "\" is not a user name",
         "use 1 to 64 of the letters A-Z a-z, digits and . _ - @");
}

}  // namespace

void fail(std::string message, std::string hint) {
  throw usage_error{std::move(message), std::move(hint)};
}

void add_user_command(CLI::App& app, config_location& where,
                      std::function<std::unique_ptr<store>()> open) {
  auto* user_cmd = app.add_subcommand("user", "Technician accounts (the console's sign-in)");
  user_cmd->require_subcommand(1);
  // Owned by the callbacks, which run after parsing, while `app` lives.
  struct options {
    std::string name;
    std::string role = "technician";
  };
  auto o = std::make_shared<options>();
  auto named = [&](const char* command, const char* help) {
    auto* sub = user_cmd->add_subcommand(command, help);
    add_location_options(*sub, where);
    sub->add_option("name", o->name, "User name")->required();
    return sub;
  };

  auto* add = named("add",
                    "Create a user; the password is read from standard input, or typed "
                    "twice on a terminal");
  add->add_option("--role", o->role, "admin or technician")
      ->capture_default_str()
      ->check(CLI::IsMember({"admin", "technician"}));
  add->callback([o, open] {
    check_name(o->name);
    auto kind = parse_role(o->role);
    if (!kind) fail("--role must be admin or technician");
    auto db = open();
    // Before the password is asked for: an existing name fails at once.
    if (auto found = db->get_user_credentials(o->name); found)
      fail("user \"" + found->user.name + "\" exists",
           "change their password with `valise-server user passwd`");
    auto password = read_new_password(o->name);
    user_info u;
    u.name = o->name;
    u.kind = *kind;
    auto made = db->create_user(actor::system(), u, hashed(password));
    if (!made && made.error() == store_errc::already_exists)
      fail("user \"" + o->name + "\" exists",
           "change their password with `valise-server user passwd`");
    if (!made) fail("cannot create user \"" + o->name + "\": " + made.error().message());
    std::printf("created %s %s\n", std::string(to_string(made->kind)).c_str(), made->name.c_str());
  });

  auto unknown = [&where](const std::string& name) {
    fail("no user named \"" + name + "\"",
         "list users with `valise-server user list" + where.arguments() + "`");
  };
  auto* passwd = named("passwd", "Set a user's password (ends their sessions)");
  passwd->callback([o, open, unknown] {
    check_name(o->name);
    auto db = open();
    if (auto found = db->get_user_credentials(o->name); !found) unknown(o->name);
    auto password = read_new_password(o->name);
    auto r = db->set_user_password(actor::system(), o->name, hashed(password));
    if (!r && r.error() == store_errc::not_found) unknown(o->name);
    if (!r) fail("cannot set the password: " + r.error().message());
    std::printf("password changed for %s\n", o->name.c_str());
  });

  for (bool disable : {true, false}) {
    auto* sub =
        named(disable ? "disable" : "enable",
              disable ? "Disable a user: no sign-in, sessions ended" : "Enable a disabled user");
    sub->callback([o, open, unknown, disable] {
      check_name(o->name);
      auto db = open();
      auto u = db->set_user_disabled(actor::system(), o->name, disable);
      if (!u && u.error() == store_errc::not_found) unknown(o->name);
      if (!u) fail("cannot change user \"" + o->name + "\": " + u.error().message());
      std::printf("%s %s\n", disable ? "disabled" : "enabled", u->name.c_str());
    });
  }

  auto* list = user_cmd->add_subcommand("list", "List users (never their password hashes)");
  add_location_options(*list, where);
  list->callback([o, open] {
    auto db = open();
    auto users = db->list_users();
    if (!users) fail("cannot list users: " + users.error().message());
    for (const auto& u : *users)
      std::printf("%-24s  %-10s  created %s  last sign-in %s%s\n", u.name.c_str(),
                  std::string(to_string(u.kind)).c_str(), format_rfc3339(u.created_at).c_str(),
                  u.last_sign_in ? format_rfc3339(*u.last_sign_in).c_str() : "never",
                  u.disabled ? "  disabled" : "");
  });
}

}  // namespace valise::server
