// zstd compression as a byte sink, with libzstd's worker threads. The bundle
// writer uses it instead of libarchive's zstd filter to set the job size, which
// bounds memory (RSS stays flat whatever the input size).
#pragma once

#include <memory>
#include <vector>

#include "valise/crypto/io.hpp"

namespace valise::common::detail {

struct zstd_options {
  int level = 3;
  int threads = 2;                 // 0: compress in the calling thread
  std::size_t job_size = 512 << 10;  // per worker job, with threads > 0
};

class zstd_sink final : public crypto::byte_sink {
 public:
  static result<std::unique_ptr<zstd_sink>> create(crypto::byte_sink& out, zstd_options options);
  ~zstd_sink() override;

  result<void> write(crypto::bytes data) override;
  // Ends the zstd frame and flushes everything to `out`.
  result<void> finish();

 private:
  explicit zstd_sink(crypto::byte_sink& out);
  result<void> compress(crypto::bytes data, bool end);
  crypto::byte_sink& out_;
  struct context;
  std::unique_ptr<context> ctx_;
  std::vector<std::uint8_t> buffer_;
};

}  // namespace valise::common::detail
