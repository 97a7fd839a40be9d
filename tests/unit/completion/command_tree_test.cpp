#include "command_tree.hpp"

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>

using namespace valise::completion;

namespace {

// A program shaped like the three: a global option that falls through,
// nested subcommands, choices, paths declared and paths by name.
struct sample {
  CLI::App app{"sample", "sample"};
  std::string config, role, name, output, kind;
  std::filesystem::path data, key;
  bool force = false;
  std::vector<std::string> paths;

  sample() {
    app.add_option("-c,--config", config, "configuration file");
    app.fallthrough();
    auto* token = app.add_subcommand("token", "tokens");
    auto* create = token->add_subcommand("create", "create one");
    create->add_option("--data", data, "data directory")->required();
    create->add_option("--role", role, "admin or technician")
        ->check(CLI::IsMember({"admin", "technician"}));
    create->add_option("--name", name, "who holds it");
    create->add_flag("-f,--force", force, "replace");
    token->add_subcommand("list", "list them")->alias("ls");
    auto* pack = app.add_subcommand("pack", "pack files");
    pack->add_option("paths", paths, "files to pack");
    pack->add_option("-o,--output", output, "bundle file");
    pack->add_option("--key", key, "a key file")->check(CLI::ExistingFile);
    pack->add_option("--kind", kind, "hidden")->group("");
    app.add_subcommand("secret", "not offered")->group("");
  }

  std::vector<command_info> tree;

  const command_info& command(const std::string& path) {
    if (tree.empty()) tree = command_tree(app);
    auto it = std::find_if(tree.begin(), tree.end(),
                           [&](const command_info& c) { return c.path == path; });
    if (it == tree.end()) throw std::runtime_error("no command " + path);
    return *it;
  }
};

const option_info* find(const command_info& command, const std::string& name) {
  for (const auto& option : command.options)
    if (std::find(option.names.begin(), option.names.end(), name) != option.names.end())
      return &option;
  return nullptr;
}

TEST(command_tree, walks_every_level_depth_first) {
  sample s;
  auto tree = command_tree(s.app);
  std::vector<std::string> paths;
  for (const auto& c : tree) paths.push_back(c.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"", "token", "token create", "token list", "pack"}));
  EXPECT_EQ(tree[0].subcommands, (std::vector<std::string>{"token", "pack"}));
  EXPECT_EQ(tree[1].subcommands, (std::vector<std::string>{"create", "list", "ls"}));
}

TEST(command_tree, flags_take_no_value_and_options_do) {
  sample s;
  const auto& create = s.command("token create");
  ASSERT_NE(find(create, "--force"), nullptr);
  EXPECT_FALSE(find(create, "--force")->takes_value);
  EXPECT_EQ(find(create, "-f"), find(create, "--force"));
  EXPECT_FALSE(find(create, "--help")->takes_value);
  EXPECT_TRUE(find(create, "--name")->takes_value);
  EXPECT_EQ(find(create, "--name")->kind, value_kind::none);
}

TEST(command_tree, fallthrough_brings_the_parents_options) {
  sample s;
  for (auto path : {"", "token", "token create", "pack"}) {
    const auto* config = find(s.command(path), "--config");
    ASSERT_NE(config, nullptr) << path;
    EXPECT_EQ(config->names, (std::vector<std::string>{"-c", "--config"}));
    EXPECT_EQ(config->kind, value_kind::file);
  }
  // Each level's own --help, once.
  const auto& create = s.command("token create");
  EXPECT_EQ(std::count_if(create.options.begin(), create.options.end(),
                          [](const option_info& o) { return o.names.back() == "--help"; }),
            1);
}

TEST(command_tree, without_fallthrough_only_its_own) {
  CLI::App app{"plain", "plain"};
  std::string config;
  app.add_option("--config", config, "file");
  app.add_subcommand("run", "run");
  auto tree = command_tree(app);
  ASSERT_EQ(tree.size(), 2u);
  EXPECT_EQ(find(tree[1], "--config"), nullptr);
}

TEST(command_tree, choices_come_from_is_member) {
  sample s;
  const auto* role = find(s.command("token create"), "--role");
  ASSERT_NE(role, nullptr);
  EXPECT_EQ(role->kind, value_kind::choices);
  EXPECT_EQ(role->choices, (std::vector<std::string>{"admin", "technician"}));
}

TEST(command_tree, paths_by_validator_and_by_name) {
  sample s;
  EXPECT_EQ(find(s.command("token create"), "--data")->kind, value_kind::directory);
  const auto& pack = s.command("pack");
  EXPECT_EQ(find(pack, "--output")->kind, value_kind::file);
  EXPECT_EQ(find(pack, "--key")->kind, value_kind::file);  // ExistingFile says FILE
  EXPECT_EQ(pack.positional, value_kind::file);            // "paths"
  EXPECT_EQ(s.command("token").positional, value_kind::none);
}

TEST(command_tree, hidden_options_and_subcommands_are_not_offered) {
  sample s;
  EXPECT_EQ(find(s.command("pack"), "--kind"), nullptr);
  const auto& root = s.command("");
  EXPECT_EQ(std::count(root.subcommands.begin(), root.subcommands.end(), "secret"), 0);
}

TEST(describe_option, declared_type_names_win_over_names) {
  CLI::App app;
  std::string a, b, c;
  auto* dir = app.add_option("--output", a)->type_name("DIR");
  auto* file = app.add_option("--where", b)->type_name("FILE");
  auto* map = app.add_option("--level", c)->check(CLI::IsMember({"debug", "info"}));
  EXPECT_EQ(describe_option(*dir).kind, value_kind::directory);
  EXPECT_EQ(describe_option(*file).kind, value_kind::file);
  EXPECT_EQ(describe_option(*map).choices, (std::vector<std::string>{"debug", "info"}));
}

TEST(describe_option, names_that_are_paths) {
  CLI::App app;
  std::string v;
  auto kind = [&](const std::string& names) {
    return describe_option(*app.add_option(names, v)).kind;
  };
  EXPECT_EQ(kind("--recipients-file"), value_kind::file);
  EXPECT_EQ(kind("--passphrase-out"), value_kind::file);
  EXPECT_EQ(kind("--ca"), value_kind::file);
  EXPECT_EQ(kind("-d,--directory"), value_kind::directory);
  EXPECT_EQ(kind("--ca-fingerprint"), value_kind::none);
  EXPECT_EQ(kind("--ticket"), value_kind::none);
  EXPECT_EQ(kind("--expires-in"), value_kind::none);
}

}  // namespace
