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

// The zstd frame header (RFC 8878, 3.1.1.1) at r.at: a window descriptor
// and, if present, the content size; a single-segment frame has only the
// content size, which is then the window.
std::optional<declared_window> zstd_window(reader r) {
  r.at += 4;
  const std::uint8_t descriptor = r.byte();
  const unsigned size_flag = descriptor >> 6;
  const bool single_segment = (descriptor >> 5) & 1;
  declared_window w{"zstd", "window"};
  if (!single_segment) {
    const std::uint8_t d = r.byte();
    const std::uint64_t base = std::uint64_t{1} << (10 + (d >> 3));
    w.bytes = base + base / 8 * (d & 7);
  }
  static constexpr std::size_t dictionary_id_bytes[] = {0, 1, 2, 4};
  r.at += dictionary_id_bytes[descriptor & 3];
  if (single_segment || size_flag > 0) {
    static constexpr std::size_t content_size_bytes[] = {1, 2, 4, 8};
    std::uint64_t content = r.little_endian(content_size_bytes[size_flag]);
    if (size_flag == 1) content += 256;
    w.content_bytes = content;
    if (single_segment) w.bytes = content;
  }
  if (!r.ok) return std::nullopt;
  return w;
}

// Skippable frames (pzstd starts with one) hold no data: the first real
// frame comes after them.
std::optional<declared_window> zstd_after_skippable(reader r) {
  while (r.bytes.size() - r.at >= 8 && (r.bytes[r.at] & 0xF0) == 0x50 &&
         r.bytes[r.at + 1] == 0x2A && r.bytes[r.at + 2] == 0x4D && r.bytes[r.at + 3] == 0x18) {
    r.at += 4;
    const std::uint64_t size = r.little_endian(4);
    if (size > r.bytes.size() - r.at) return std::nullopt;
    r.at += static_cast<std::size_t>(size);
  }
  if (!starts_with(r.bytes.subspan(r.at), {0x28, 0xB5, 0x2F, 0xFD})) return std::nullopt;
  return zstd_window(r);
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
  if (starts_with(head, {0xFD, '7', 'z', 'X', 'Z', 0x00})) {
    if (const auto bytes = xz_dictionary(r)) return declared_window{"xz", "dictionary", *bytes};
  } else if (starts_with(head, {'L', 'Z', 'I', 'P'})) {
    if (const auto bytes = lzip_dictionary(r)) return declared_window{"lzip", "dictionary", *bytes};
  } else {
    return zstd_after_skippable(r);
  }
  return std::nullopt;
}

std::optional<std::uint64_t> xz_content_size(std::span<const std::uint8_t> tail,
                                             std::uint64_t file_size) {
  // Stream footer (xz file format 1.1.0, 2.1.2): CRC32, backward size, flags, "YZ".
  constexpr std::size_t header_size = 12, footer_size = 12;
  if (tail.size() < footer_size || tail.size() > file_size) return std::nullopt;
  const auto footer = tail.last(footer_size);
  if (footer[10] != 'Y' || footer[11] != 'Z') return std::nullopt;  // stream padding, or not xz
  reader f{footer, 4};
  const std::uint64_t index_size = (f.little_endian(4) + 1) * 4;
  if (index_size > tail.size() - footer_size) return std::nullopt;
  // Index (4): indicator 0, record count, then per block its unpadded and
  // uncompressed sizes.
  reader index{tail.subspan(tail.size() - footer_size - index_size, index_size)};
  if (index.byte() != 0) return std::nullopt;
  const std::uint64_t records = index.varint();
  std::uint64_t blocks = 0, content = 0;
  for (std::uint64_t i = 0; i < records && index.ok; ++i) {
    const std::uint64_t unpadded = index.varint();
    const std::uint64_t uncompressed = index.varint();
    if (unpadded > file_size || uncompressed > (std::uint64_t{1} << 62)) return std::nullopt;
    blocks += (unpadded + 3) / 4 * 4;
    content += uncompressed;
    if (blocks > file_size || content > (std::uint64_t{1} << 62)) return std::nullopt;
  }
  // One stream exactly: its header, blocks, index and footer fill the file.
  if (!index.ok || header_size + blocks + index_size + footer_size != file_size)
    return std::nullopt;
  return content;
}

}  // namespace valise::agent::detail
