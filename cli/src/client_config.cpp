#include "client_config.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <toml++/toml.h>

#include <cstdlib>

#include "failure.hpp"
#include "valise/crypto/secret.hpp"

namespace valise::cli {

std::filesystem::path client_config_file() {
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg == '/') {
    return std::filesystem::path(xdg) / "valise" / "client.toml";
  }
  const char* home = std::getenv("HOME");
  if (!home || !*home) return {};
  return std::filesystem::path(home) / ".config" / "valise" / "client.toml";
}

client_config load_client_config() {
  client_config out;
  const auto file = client_config_file();
  struct stat st {};
  if (file.empty() || ::stat(file.c_str(), &st) != 0) return out;
  const std::string name = file.string();
  toml::table root;
  try {
    root = toml::parse_file(name);
  } catch (const toml::parse_error& e) {
    fail(fmt::format("{}:{}: {}", name, e.source().begin.line, e.description()),
         "fix the file: it holds `server`, `token` and `ca` as quoted strings");
  }
  for (auto&& [key, node] : root) {
    std::string* target = key.str() == "server"  ? &out.server
                          : key.str() == "token" ? &out.token
                          : key.str() == "ca"    ? &out.ca
                                                 : nullptr;
    if (!target) {
      fail(fmt::format("{}:{}: unknown setting \"{}\"", name, node.source().begin.line, key.str()),
           "the client config knows only `server`, `token` and `ca`");
    }
    auto value = node.value<std::string>();
    if (!value) {
      fail(fmt::format("{}:{}: {} must be a string", name, node.source().begin.line, key.str()),
           "quote the value");
    }
    *target = std::move(*value);
  }
  // Like ssh with a private key: a token others can read is a leaked token.
  if (!out.token.empty() && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    crypto::secure_zero(out.token.data(), out.token.size());
    fail(fmt::format("{}: holds a token but other users may read it", name),
         fmt::format("chmod 600 {}", name));
  }
  return out;
}

}  // namespace valise::cli
