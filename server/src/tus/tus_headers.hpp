// tus 1.0.0 header values and the age-file check, as pure functions over
// strings: unit-tested and fuzzable apart from any socket or file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace valise::server::tus {

inline constexpr std::string_view version = "1.0.0";
inline constexpr std::string_view extensions =
    "creation,creation-with-upload,creation-defer-length,termination,expiration,checksum";
inline constexpr std::string_view checksum_algorithms = "sha1,sha256";
inline constexpr std::string_view offset_content_type = "application/offset+octet-stream";

// A non-negative decimal with no sign, spaces or leading '+': Upload-Offset,
// Upload-Length.
std::optional<std::uint64_t> parse_size(std::string_view text);

// Upload-Metadata: "key base64,key2 base64,key3" (values may be absent).
// Keys must be unique, non-empty, without spaces or commas.
using metadata = std::vector<std::pair<std::string, std::string>>;
std::optional<metadata> parse_metadata(std::string_view text);
std::string format_metadata(const metadata& m);
std::optional<std::string> find(const metadata& m, std::string_view key);

// Upload-Checksum: "sha256 base64digest".
enum class checksum_algorithm { sha1, sha256 };
struct checksum {
  checksum_algorithm algorithm;
  std::vector<std::uint8_t> digest;
};
enum class checksum_problem { malformed, unsupported_algorithm };
// Either the checksum or what is wrong with it.
std::pair<std::optional<checksum>, checksum_problem> parse_checksum(std::string_view text);

// Whether the first bytes of an upload can be an age file: binary
// ("age-encryption.org/v1\n") or armored ("-----BEGIN AGE ENCRYPTED FILE-----").
enum class age_prefix { undecided, age, not_age };
inline constexpr std::size_t age_prefix_length = 34;  // the longer of the two
age_prefix check_age_prefix(std::string_view first_bytes);

// "Wed, 25 Jun 2014 16:00:00 GMT" (RFC 9110 IMF-fixdate), for Upload-Expires.
std::string http_date(std::int64_t unix_seconds);

}  // namespace valise::server::tus
