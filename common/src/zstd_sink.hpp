// zstd compression as a byte sink, with libzstd's worker threads. The bundle
// writer uses it instead of libarchive's zstd filter to choose the job size and
// the allocator, which bound memory (RSS stays flat whatever the input size).
#pragma once

#include <memory>
#include <vector>

#include "valise/crypto/io.hpp"

namespace valise::common::detail {

struct zstd_options {
  int level = 3;
  int threads = 2;  // 0: compress in the calling thread
  // Per worker job, with threads > 0. Each job resets the match tables and
  // reloads the end of the job before (overlap_log): on the 1 GiB benchmark,
  // 512 KiB jobs make `valise pack` 1.9 s, 1 MiB 1.6 s, 2 and 4 MiB 1.4 s
  // (with 256 KiB of history). Memory is about 12 x job_size (7 job outputs,
  // a 5-job input ring), all of it from the start (see zstd_sink.cpp): 44 MiB
  // peak RSS for `valise pack`. Larger jobs compress the corpus a little worse.
  std::size_t job_size = 2 << 20;
  // History each job reloads, as libzstd's ZSTD_c_overlapLog: the window
  // (2 MiB at level 3) >> (9 - overlap_log), so 4 is 64 KiB where libzstd's
  // default (6) is 256 KiB. On the benchmark corpus 64 KiB compresses best
  // (1 GiB: 113.15 MB, against 113.21 MB with 256 KiB and 113.19 MB with
  // 32 KiB; 100 MiB: 12.31 MB, 12.32 MB) and spares each 2 MiB job hashing
  // 192 KiB of history into its tables (about 2-4% of zstd's CPU time).
  // 0: libzstd's default.
  int overlap_log = 4;
};

class zstd_sink final : public crypto::byte_sink {
 public:
  static result<std::unique_ptr<zstd_sink>> create(crypto::byte_sink& out, zstd_options options);
  ~zstd_sink() override;

  result<void> write(crypto::bytes data) override;
  // Ends the zstd frame and flushes everything to `out`.
  result<void> finish();
  // The same, for a stream of several frames (decoders read concatenated
  // frames as one stream): the next write starts a new frame, into `next`.
  // The bundle writer compresses an entry of unknown size into a frame of
  // its own, kept aside until its tar header (which needs the size) is out.
  result<void> end_frame(crypto::byte_sink& next);

 private:
  explicit zstd_sink(crypto::byte_sink& out);
  result<void> compress(crypto::bytes data, bool end);
  crypto::byte_sink* out_;
  bool in_frame_ = false;  // bytes went in since the last frame ended
  struct context;
  std::unique_ptr<context> ctx_;
  std::vector<std::uint8_t> buffer_;
};

}  // namespace valise::common::detail
