#include "tus/tus_headers.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <sodium.h>

#include <ctime>

namespace valise::server::tus {
namespace {

constexpr std::string_view binary_magic = "age-encryption.org/v1\n";
constexpr std::string_view armor_magic = "-----BEGIN AGE ENCRYPTED FILE-----";

std::optional<std::string> base64_decode(std::string_view text) {
  std::string out(text.size(), '\0');
  std::size_t n = 0;
  // Standard alphabet; tus clients pad, but unpadded values are common too.
  for (int variant : {sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING}) {
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                          text.size(), nullptr, &n, nullptr, variant) == 0) {
      out.resize(n);
      return out;
    }
  }
  return std::nullopt;
}

std::string base64_encode(std::string_view data) {
  std::string out(sodium_base64_ENCODED_LEN(data.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(data.data()),
                    data.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(std::char_traits<char>::length(out.c_str()));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<std::uint64_t> parse_size(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;  // fits in 63 bits
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

std::optional<metadata> parse_metadata(std::string_view text) {
  metadata out;
  if (trim(text).empty()) return out;
  while (true) {
    auto comma = text.find(',');
    auto pair = trim(text.substr(0, comma));
    auto space = pair.find(' ');
    auto key = pair.substr(0, space);
    if (key.empty()) return std::nullopt;
    std::string value;
    if (space != std::string_view::npos) {
      auto encoded = trim(pair.substr(space + 1));
      if (encoded.find(' ') != std::string_view::npos) return std::nullopt;
      auto decoded = base64_decode(encoded);
      if (!decoded) return std::nullopt;
      value = std::move(*decoded);
    }
    if (find(out, key)) return std::nullopt;
    out.emplace_back(std::string(key), std::move(value));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

std::string format_metadata(const metadata& m) {
  std::string out;
  for (const auto& [key, value] : m) {
    if (!out.empty()) out += ',';
    out += key;
    out += ' ';
    out += base64_encode(value);
  }
  return out;
}

std::optional<std::string> find(const metadata& m, std::string_view key) {
  for (const auto& [k, v] : m)
    if (k == key) return v;
  return std::nullopt;
}

std::pair<std::optional<checksum>, checksum_problem> parse_checksum(std::string_view text) {
  text = trim(text);
  auto space = text.find(' ');
  if (space == std::string_view::npos) return {std::nullopt, checksum_problem::malformed};
  auto name = text.substr(0, space);
  checksum result;
  std::size_t digest_size = 0;
  if (name == "sha256") {
    result.algorithm = checksum_algorithm::sha256;
    digest_size = 32;
  } else if (name == "sha1") {
    result.algorithm = checksum_algorithm::sha1;
    digest_size = 20;
  } else {
    return {std::nullopt, checksum_problem::unsupported_algorithm};
  }
  auto digest = base64_decode(trim(text.substr(space + 1)));
  if (!digest || digest->size() != digest_size) return {std::nullopt, checksum_problem::malformed};
  result.digest.assign(digest->begin(), digest->end());
  return {std::move(result), checksum_problem::malformed};
}

age_prefix check_age_prefix(std::string_view first_bytes) {
  bool can_be_binary = true;
  bool can_be_armor = true;
  for (std::size_t i = 0; i < first_bytes.size(); ++i) {
    if (i < binary_magic.size() && first_bytes[i] != binary_magic[i]) can_be_binary = false;
    if (i < armor_magic.size() && first_bytes[i] != armor_magic[i]) can_be_armor = false;
  }
  if ((can_be_binary && first_bytes.size() >= binary_magic.size()) ||
      (can_be_armor && first_bytes.size() >= armor_magic.size()))
    return age_prefix::age;
  return can_be_binary || can_be_armor ? age_prefix::undecided : age_prefix::not_age;
}

std::string http_date(std::int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  static constexpr const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  return fmt::format("{}, {:02} {} {} {:02}:{:02}:{:02} GMT", days[tm.tm_wday], tm.tm_mday,
                     months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

}  // namespace valise::server::tus
