// The memory a rotated log's decompressor will need, read from the file's
// first bytes before any is allocated: xz and lzip declare their dictionary,
// zstd its window. gzip (32 KiB), bzip2 (under 4 MiB) and lz4 need little
// and fixed memory, so they declare nothing that matters here. Pure format
// code: decoder.cpp reads the bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace valise::agent::detail {

struct declared_window {
  std::string_view format;  // "xz", "zstd", "lzip"
  std::string_view kind;    // "dictionary" or "window", as the format calls it
  std::uint64_t bytes = 0;
};

// The first dictionary or window declared at the start of `head` (64 bytes
// are plenty), or nullopt when `head` starts no such stream or is cut short.
std::optional<declared_window> decoder_window(std::span<const std::uint8_t> head);

}  // namespace valise::agent::detail
