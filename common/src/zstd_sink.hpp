// zstd compression as a byte sink, on worker threads, in one of two ways:
//
// - one frame (zstd_one_frame.cpp): libzstd's workers compress 2 MiB jobs of
//   one frame, each job reloading the end of the one before. The best ratio
//   (`valise pack` writes no more than `tar | zstd -3`), but ending a frame
//   waits for both workers to go idle, and they stay idle until the next
//   frame's first job is filled; libzstd queues no job beyond its workers.
// - a frame per chunk (zstd_frame_per_chunk.cpp): each 2 MiB is a frame of
//   its own, compressed by a worker while the next fills, the frames written
//   out in order (decoders read concatenated frames as one stream). Ending a
//   frame costs nothing; frames share no history, so the output is 0.4-0.6%
//   larger. The agent takes it: most of what it collects is streamed entries
//   of unknown size, each ending a frame (docs/performance.md: collect 12%
//   faster).
//
// Both bound memory: RSS is the same whatever the input size.
#pragma once

#include <functional>
#include <memory>

#include "valise/crypto/io.hpp"

namespace valise::common::detail {

struct zstd_options {
  int level = 3;
  int threads = 2;  // 0: compress in the calling thread
  bool frame_per_chunk = false;
  // Per job (one frame: with threads > 0), or per frame. One frame: each job
  // resets the match tables and reloads the end of the job before
  // (overlap_log); on the 1 GiB benchmark, 512 KiB jobs make `valise pack`
  // 1.9 s, 1 MiB 1.6 s, 2 and 4 MiB 1.4 s (with 256 KiB of history). Memory
  // with two workers is about 12 x job_size either way (one frame: 7 job
  // outputs and a 5-job input ring; a frame per chunk: input and output of 3
  // jobs per worker). libzstd raises jobs under 512 KiB to 512 KiB; 0 is its
  // default for one frame, and refused for a frame per chunk.
  std::size_t job_size = 2 << 20;
  // One frame: the history each job reloads, as libzstd's ZSTD_c_overlapLog:
  // the window (2 MiB at level 3) >> (9 - overlap_log), so 4 is 64 KiB where
  // libzstd's default (6) is 256 KiB. On the benchmark corpus 64 KiB
  // compresses best (1 GiB: 113.15 MB, against 113.21 MB with 256 KiB and
  // 113.19 MB with 32 KiB; 100 MiB: 12.31 MB, 12.32 MB) and spares each 2 MiB
  // job hashing 192 KiB of history into its tables (about 2-4% of zstd's CPU
  // time). 0: libzstd's default.
  int overlap_log = 4;
  // A frame per chunk: how much lower the workers' scheduling priority is
  // than that of the thread creating the sink (nice, per thread on Linux),
  // which is the one feeding it in valise. The feeding thread
  // makes every chunk: while it waits for a core behind a worker, the other
  // worker runs out of work. 1 GiB collect: 2.07 s against 2.19 s at the same
  // priority. On a client's host the workers also yield to the site's own
  // programs. (libzstd's own workers, one frame, gained nothing from it in
  // `valise pack`: 1.68-1.73 s against 1.72-1.74 s, four pairs.)
  int worker_nice = 10;
};

class zstd_sink : public crypto::byte_sink {
 public:
  static result<std::unique_ptr<zstd_sink>> create(crypto::byte_sink& out, zstd_options options);

  // Ends the current frame; what is written from now on goes, compressed, to
  // `next`, after everything before has gone to its own sink. The bundle
  // writer holds an entry of unknown size aside this way until its tar
  // header (which needs the size) is out.
  virtual result<void> end_frame(crypto::byte_sink& next) = 0;
  // Ends the frame and runs `action` (on the calling thread, now or during a
  // later call) once everything written before has reached its sink, and
  // before anything written after. The action must not call this sink; its
  // error is returned by the call that runs it, and by every call after.
  virtual result<void> then(std::function<result<void>()> action) = 0;
  // Ends the frame and writes everything out: the sink is done.
  virtual result<void> finish() = 0;
};

result<std::unique_ptr<zstd_sink>> make_one_frame_sink(crypto::byte_sink& out,
                                                       const zstd_options& options);
result<std::unique_ptr<zstd_sink>> make_frame_per_chunk_sink(crypto::byte_sink& out,
                                                             const zstd_options& options);

// For both: the error of a failed zstd call.
inline std::error_code zstd_error() {
  return std::make_error_code(std::errc::io_error);
}

inline result<std::unique_ptr<zstd_sink>> zstd_sink::create(crypto::byte_sink& out,
                                                            zstd_options options) {
  return options.frame_per_chunk ? make_frame_per_chunk_sink(out, options)
                                 : make_one_frame_sink(out, options);
}

}  // namespace valise::common::detail
