// The decompressed bytes of a rotated log: gzip through gzip_reader (ISA-L),
// the other formats (.xz, .bz2, .zst...) through libarchive, which also
// passes a file that is not compressed at all (a text file named .gz)
// through as it is. A stream whose decoder would fill more than
// max_decoder_window (see decoder_window.hpp) is refused before anything is
// allocated for it.
#pragma once

#include <boost/system/result.hpp>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "collect/gzip_reader.hpp"

struct archive;

namespace valise::agent::detail {

// Collection peaks near 60 MiB without a decoder (docs/performance.md); this
// keeps it under 96 MiB whatever it decompresses: xz -8 (32 MiB) is read,
// xz -9 (64 MiB) and zstd --long (128 MiB) over more data than this are not.
inline constexpr std::uint64_t max_decoder_window = std::uint64_t{32} << 20;

class decoder {
 public:
  using read_result = boost::system::result<std::size_t, std::string>;

  // Reads `fd` (not owned) from the start, `block` bytes at a time.
  static boost::system::result<std::unique_ptr<decoder>, std::string> open(int fd,
                                                                           std::size_t block);
  ~decoder();
  decoder(const decoder&) = delete;
  decoder& operator=(const decoder&) = delete;

  // Fills the start of `out`: how many bytes (0 at the end), or what is wrong.
  read_result read(std::span<std::uint8_t> out);

 private:
  decoder() = default;
  std::unique_ptr<gzip_reader> gzip_;
  archive* archive_ = nullptr;
};

}  // namespace valise::agent::detail
