#include "collect/decoder_window.hpp"

#include <algorithm>

namespace valise::agent::detail {
namespace {

// A cursor over `head` that reports running past its end instead of reading there.
struct reader {
  std::span<const std::uint8_t> bytes;
  std::size_t at = 0;
  bool ok = true;

  std::uint8_t byte() {
    if (at >= bytes.size()) {
      ok = false;
      return 0;
    }
    return bytes[at++];
  }
  std::uint64_t little_endian(std::size_t n) {
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < n; ++i) value |= std::uint64_t{byte()} << (8 * i);
    return value;
  }
  // xz's variable-length integer: 7 bits per byte, at most 9 bytes.
  std::uint64_t varint() {
    std::uint64_t value = 0;
    for (int i = 0; i < 9 && ok; ++i) {
      const std::uint8_t b = byte();
      value |= std::uint64_t{b & 0x7Fu} << (7 * i);
      if ((b & 0x80) == 0) return value;
    }
    ok = false;
    return 0;
  }
};

bool starts_with(std::span<const std::uint8_t> head, std::initializer_list<std::uint8_t> magic) {
  return head.size() >= magic.size() && std::equal(magic.begin(), magic.end(), head.begin());
}

// The zstd frame header (RFC 8878, 3.1.1.1): a window descriptor, or for a
// single-segment frame the content size, which is then the window.
std::optional<std::uint64_t> zstd_window(reader r) {
  r.at = 4;
  const std::uint8_t descriptor = r.byte();
  const unsigned size_flag = descriptor >> 6;
  const bool single_segment = (descriptor >> 5) & 1;
  static constexpr std::size_t dictionary_id_bytes[] = {0, 1, 2, 4};
  if (!single_segment) {
    const std::uint8_t w = r.byte();
    const std::uint64_t base = std::uint64_t{1} << (10 + (w >> 3));
    return r.ok ? std::optional(base + base / 8 * (w & 7)) : std::nullopt;
  }
  r.at += dictionary_id_bytes[descriptor & 3];
  static constexpr std::size_t content_size_bytes[] = {1, 2, 4, 8};
  std::uint64_t content = r.little_endian(content_size_bytes[size_flag]);
  if (size_flag == 1) content += 256;
  return r.ok ? std::optional(content) : std::nullopt;
}

// The first block header after the xz stream header (xz file format 1.1.0,
// 3.1): its filter chain ends with LZMA2, whose one property byte codes the
// dictionary size.
std::optional<std::uint64_t> xz_dictionary(reader r) {
  r.at = 12;
  const std::uint8_t header_size = r.byte();
  if (header_size == 0) return std::nullopt;  // no block: the index of an empty stream
  const std::uint8_t flags = r.byte();
  if (flags & 0x40) r.varint();  // compressed size
  if (flags & 0x80) r.varint();  // uncompressed size
  const int filters = (flags & 3) + 1;
  for (int i = 0; i < filters && r.ok; ++i) {
    const std::uint64_t id = r.varint();
    const std::uint64_t properties = r.varint();
    if (id == 0x21 && properties == 1) {
      const std::uint8_t p = r.byte();
      if (!r.ok || p > 40) return std::nullopt;
      if (p == 40) return std::uint64_t{0xFFFFFFFF};
      return std::uint64_t{2u | (p & 1u)} << (p / 2 + 11);
    }
    r.at += properties;
  }
  return std::nullopt;
}

// lzip: "LZIP", a version byte, then the coded dictionary size.
std::optional<std::uint64_t> lzip_dictionary(reader r) {
  r.at = 5;
  const std::uint8_t coded = r.byte();
  if (!r.ok) return std::nullopt;
  const std::uint64_t size = std::uint64_t{1} << (coded & 0x1F);
  return size - size / 16 * ((coded >> 5) & 7);
}

}  // namespace

std::optional<declared_window> decoder_window(std::span<const std::uint8_t> head) {
  const reader r{head};
  std::optional<std::uint64_t> bytes;
  std::string_view format, kind = "dictionary";
  if (starts_with(head, {0x28, 0xB5, 0x2F, 0xFD})) {
    format = "zstd";
    kind = "window";
    bytes = zstd_window(r);
  } else if (starts_with(head, {0xFD, '7', 'z', 'X', 'Z', 0x00})) {
    format = "xz";
    bytes = xz_dictionary(r);
  } else if (starts_with(head, {'L', 'Z', 'I', 'P'})) {
    format = "lzip";
    bytes = lzip_dictionary(r);
  }
  if (!bytes) return std::nullopt;
  return declared_window{format, kind, *bytes};
}

}  // namespace valise::agent::detail
