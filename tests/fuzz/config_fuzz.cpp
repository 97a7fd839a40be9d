// Fuzzes both configuration readers with the input as the file's text:
// agent.toml (agent/src/config) and server.toml (server/src/config.cpp). Any
// text is a configuration or one message naming the file. A server.toml that
// loads writes back (format_config, as `valise-server init` does) to a file
// that loads to the same settings; an agent.toml that loads has profiles whose
// redaction rules compile, since the agent compiles them only when it collects.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "config/agent_config.hpp"
#include "redact/redactor.hpp"
#include "valise/server/config.hpp"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

void agent_toml(std::string_view text) {
  using namespace valise::agent;
  const auto config = parse_config(text, "/etc/valise/agent.toml");
  if (!config) {
    check(config.error().starts_with("/etc/valise/agent.toml"));
    return;
  }
  check(config->server.empty() || config->server.starts_with("https://"));
  for (const auto& [name, p] : config->profiles) {
    check(!name.empty() && p.name == name);
    check(redact::rule_set::compile(p).has_value());
  }
}

void server_toml(std::string_view text) {
  using namespace valise::server;
  const std::string_view file = "/var/lib/valise-server/server.toml";
  const auto config = parse_config(text, file);
  if (!config) {
    check(config.error().starts_with(file));
    return;
  }
  check(config->data_dir == "/var/lib/valise-server" && config->threads > 0);
  const auto written = format_config(*config);
  const auto again = parse_config(written, file);
  check(again && format_config(*again) == written);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  agent_toml(text);
  server_toml(text);
  return 0;
}
