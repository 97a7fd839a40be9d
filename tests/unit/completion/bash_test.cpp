#include "valise/completion/bash.hpp"

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>

using valise::completion::bash_script;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(bash_script, registers_a_function_named_after_the_program) {
  CLI::App app{"test", "my-tool"};
  auto script = bash_script(app);
  EXPECT_TRUE(contains(script, "\n_my_tool() {\n")) << script;
  EXPECT_TRUE(contains(script, "\ncomplete -F _my_tool my-tool\n")) << script;
}

TEST(bash_script, lists_each_command_path_with_its_words) {
  CLI::App app{"test", "tool"};
  std::string data, role, name;
  auto* token = app.add_subcommand("token", "tokens");
  auto* create = token->add_subcommand("create", "create one");
  create->add_option("--data", data, "data directory");
  create->add_option("--role", role)->check(CLI::IsMember({"admin", "technician"}));
  create->add_option("--name", name, "who");
  auto script = bash_script(app);
  EXPECT_TRUE(contains(script, "    '')\n      subcommands='token'\n")) << script;
  EXPECT_TRUE(contains(script, "    'token')\n      subcommands='create'\n")) << script;
  EXPECT_TRUE(contains(script,
                       "    'token create')\n      subcommands=''\n"
                       "      options='-h --help --data --role --name'\n"
                       "      valued='--data --role --name'\n"))
      << script;
  EXPECT_TRUE(contains(script,
                       "    'token create:--role')\n"
                       "      mapfile -t COMPREPLY < <(compgen -W 'admin technician' -- "
                       "\"$3\")\n"))
      << script;
  EXPECT_TRUE(contains(script, "    'token create:--data')\n      _tool_paths -d \"$3\"\n"))
      << script;
  // A name completes nothing: no case arm for it.
  EXPECT_FALSE(contains(script, "'token create:--name')")) << script;
}

TEST(bash_script, quotes_what_bash_would_read) {
  CLI::App app{"test", "tool"};
  std::string value;
  app.add_option("--mode", value)->check(CLI::IsMember({"it's", "b"}));
  auto script = bash_script(app);
  EXPECT_TRUE(contains(script, "compgen -W 'it'\\''s b'")) << script;
}

}  // namespace
