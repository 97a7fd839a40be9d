// The memory a rotated log's decompressor will need, read from the file's
// first and last bytes before any is allocated: xz and lzip declare their
// dictionary, zstd its window. A decoder's buffer fills only as data comes
// out, so what counts is the smaller of that and the decompressed size,
// where the file says it (zstd's frame header, xz's index). gzip (32 KiB),
// bzip2 (under 4 MiB) and lz4 need little and fixed memory, so they declare
// nothing that matters here. Pure format code: decoder.cpp reads the bytes.
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
  std::optional<std::uint64_t> content_bytes;  // the decompressed size, if the header has it
};

// The dictionary or window declared by the first stream or frame at the start
// of `head` (past zstd's skippable frames), or nullopt when `head` starts no
// such stream or is cut short. 64 bytes are plenty but for skippable frames.
std::optional<declared_window> decoder_window(std::span<const std::uint8_t> head);

// The decompressed size of an xz file that is exactly one stream, from the
// index before its footer: `tail` is the file's last bytes, `file_size` its
// size. nullopt when the file is several streams, padded, or its index is not
// all in `tail`.
std::optional<std::uint64_t> xz_content_size(std::span<const std::uint8_t> tail,
                                             std::uint64_t file_size);

}  // namespace valise::agent::detail
