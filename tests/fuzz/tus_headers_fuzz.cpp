// Fuzzes the server's tus header codecs (tus/tus_headers.hpp) with the input
// as a header value: Upload-Offset/Upload-Length, Upload-Metadata,
// Upload-Checksum, and the age prefix check of an upload's first bytes. What
// parses encodes back to the same value, with the server's encoder and with
// the client's (common's tus_client.hpp), which must agree on sizes too.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "tus/tus_headers.hpp"
#include "valise/common/tus_client.hpp"

namespace {

namespace tus = valise::server::tus;
namespace client = valise::common::tus;

void check(bool ok) {
  if (!ok) std::abort();
}

void sizes(std::string_view text) {
  const auto value = tus::parse_size(text);
  check(value == client::parse_size(text));
  if (!value) return;
  check(!text.empty() && text.size() <= 19 &&
        text.find_first_not_of("0123456789") == std::string_view::npos);
  check(tus::parse_size(std::to_string(*value)) == value);
}

void metadata(std::string_view text) {
  const auto parsed = tus::parse_metadata(text);
  if (!parsed) return;
  for (const auto& [key, value] : *parsed) {
    check(!key.empty() && key.find_first_of(" ,") == std::string::npos);
    check(tus::find(*parsed, key) == value);  // keys are unique
  }
  const auto encoded = tus::format_metadata(*parsed);
  check(encoded == client::encode_metadata(*parsed));
  check(tus::parse_metadata(encoded) == parsed);
}

void checksum(std::string_view text) {
  const auto [parsed, problem] = tus::parse_checksum(text);
  if (!parsed) return;
  const bool sha256 = parsed->algorithm == tus::checksum_algorithm::sha256;
  check(parsed->digest.size() == (sha256 ? 32u : 20u));
  // The server's base64 encoder is the metadata one: "k " + base64(digest).
  const std::string digest(parsed->digest.begin(), parsed->digest.end());
  const auto base64 = tus::format_metadata({{"k", digest}}).substr(2);
  const auto again = tus::parse_checksum((sha256 ? "sha256 " : "sha1 ") + base64).first;
  check(again && again->algorithm == parsed->algorithm && again->digest == parsed->digest);
}

// Once a prefix decides (age or not), every longer prefix decides the same.
void age_prefix(std::string_view bytes) {
  bytes = bytes.substr(0, 2 * tus::age_prefix_length);
  auto decided = tus::age_prefix::undecided;
  for (std::size_t n = 0; n <= bytes.size(); ++n) {
    const auto verdict = tus::check_age_prefix(bytes.substr(0, n));
    if (decided != tus::age_prefix::undecided) check(verdict == decided);
    decided = verdict;
    if (n >= tus::age_prefix_length) check(verdict != tus::age_prefix::undecided);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  sizes(text);
  metadata(text);
  checksum(text);
  age_prefix(text);
  return 0;
}
