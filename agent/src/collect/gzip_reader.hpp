// The decompressed bytes of a .gz file, through ISA-L's inflate (igzip):
// rotated logs are stored decompressed so that redaction sees them, and on
// the benchmark corpus igzip inflates at ~2.7 GB/s where zlib (libarchive's
// gzip filter) does ~1 GB/s. Every member of a multi-member file is read, as
// gzip -d does; bytes after the last member that do not start another are
// ignored.
#pragma once

#include <boost/system/result.hpp>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace valise::agent::detail {

class gzip_reader {
 public:
  // Reads `fd` (not owned) from its current offset.
  explicit gzip_reader(int fd);
  ~gzip_reader();
  gzip_reader(const gzip_reader&) = delete;
  gzip_reader& operator=(const gzip_reader&) = delete;

  // Fills the start of `out`: how many bytes (0 at the end of the data), or
  // what is wrong with the file ("invalid deflate data", "truncated"...).
  boost::system::result<std::size_t, std::string> read(std::span<std::uint8_t> out);

 private:
  // More compressed bytes behind those not yet used; false at the end of the file.
  boost::system::result<bool, std::string> refill();

  int fd_;
  struct state;
  std::unique_ptr<state> s_;
  std::vector<std::uint8_t> input_;
  bool eof_ = false;   // the file has no more bytes
  bool done_ = false;  // the last member ended, or an error
  std::string error_;  // returned once the bytes before it are
};

}  // namespace valise::agent::detail
