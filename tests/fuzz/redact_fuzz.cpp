// Fuzzes the agent's redactor (agent/src/redact): a secret planted in a line
// that a default rule covers ("password=SECRET") never reaches the output,
// whatever text surrounds it, whichever rules are on, however the input is
// cut into writes, and with lines cut short (redactor_limits). The oracle:
// the output does not depend on the secret at all, so it is the same when
// every byte of the secret is changed (then no byte of it leaks), and it does
// not contain the secret unless the surrounding text alone puts it there.
//
// Input: 4 bytes of settings, a secret of settings[1] bytes, then the text,
// split by settings[2] into what comes before the planted line and after.
// The secret is a value as docs/agent.md defines one: no spaces, quotes,
// ',', ';', '&', NUL or line ends (those end it). A secret holding "-----"
// is skipped: after an unterminated private-key block earlier in the text,
// an END marker inside the value ends the dropped block, and what follows it
// is text again, as documented.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "redact/redactor.hpp"

namespace {

using namespace valise::agent::redact;
using valise::agent::redaction_rule;

void check(bool ok) {
  if (!ok) std::abort();
}

// Lines that the secret-assignment rule covers, the value last.
constexpr std::array<std::string_view, 4> keys = {
    "password=", "DB_PASSWORD: ", "api_key = ", "client_secret:"};
// Write sizes, from one byte to all at once.
constexpr std::array<std::size_t, 8> pieces = {1, 2, 3, 7, 16, 61, 4096, std::size_t(-1)};

// Every combination of the optional rules: e-mail, IP addresses, a profile's own.
const rule_set& rules(unsigned which) {
  static const auto sets = [] {
    std::vector<rule_set> out;
    for (unsigned i = 0; i < 8; ++i) {
      std::vector<redaction_rule> own;
      if (i & 4) own.push_back({"card", R"(\b\d{16}\b)", "[CARD]"});
      auto set = rule_set::compile(own, true, i & 1, i & 2);
      check(set.has_value());
      out.push_back(std::move(*set));
    }
    return out;
  }();
  return sets[which % 8];
}

struct run {
  std::string output;
  std::map<std::string, std::uint64_t> counts;
};

run redact_in_pieces(const rule_set& set, std::string_view text, std::size_t piece,
                     redactor_limits limits) {
  valise::crypto::memory_sink sink;
  redactor r(set, sink, limits);
  for (std::size_t at = 0; at < text.size(); at += piece) {
    const auto part = text.substr(at, piece);
    check(r.write({reinterpret_cast<const std::uint8_t*>(part.data()), part.size()}).has_value());
  }
  check(r.finish().has_value());
  return {{sink.data().begin(), sink.data().end()}, r.counts()};
}

bool ends_value(char c) {
  return std::string_view(" \t\r\n\v\f\"',;&\0", 13).find(c) != std::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  const std::array<std::uint8_t, 4> settings = {data[0], data[1], data[2], data[3]};
  const std::size_t secret_size = std::max<std::size_t>(1, settings[1]);
  if (size < 4 + secret_size) return 0;
  std::string secret(reinterpret_cast<const char*>(data) + 4, secret_size);
  std::replace_if(secret.begin(), secret.end(), ends_value, 'x');
  if (secret.find("-----") != std::string::npos) return 0;
  std::string other = secret;  // differs from the secret in every byte
  for (char& c : other) c = c == 'x' ? 'y' : 'x';

  const std::string_view text(reinterpret_cast<const char*>(data) + 4 + secret_size,
                              size - 4 - secret_size);
  const std::size_t split = text.size() * settings[2] / 255;
  const auto key = keys[settings[0] % keys.size()];
  const auto input = [&](const std::string& value) {
    std::string s(text.substr(0, split));
    s += '\n';
    s += key;
    s += value;
    s += '\n';
    s += text.substr(split);
    return s;
  };
  redactor_limits limits;
  limits.flush_at = settings[3] & 1 ? 1 : limits.flush_at;
  // Lines are cut past max_line; the planted line must not be, or a piece
  // of the secret would stand alone.
  if (settings[3] & 2) limits.max_line = key.size() + secret.size() + (settings[3] >> 2);
  const auto& set = rules(settings[0] >> 2);
  const auto piece = pieces[(settings[0] >> 5) % pieces.size()];

  const auto with_secret = redact_in_pieces(set, input(secret), piece, limits);
  const auto with_other = redact_in_pieces(set, input(other), piece, limits);
  check(with_secret.output == with_other.output && with_secret.counts == with_other.counts);
  check(with_secret.output.find(secret) == std::string::npos ||
        with_other.output.find(secret) != std::string::npos);
  return 0;
}
