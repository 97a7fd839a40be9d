// zstd compression as a byte sink, parallel at the frame level: the input is
// cut into chunks of job_size, each compressed into a zstd frame of its own by
// a worker thread, and the frames written out in order (decoders read
// concatenated frames as one stream). libzstd's own workers share one frame
// instead, so that ending one (the bundle writer does at each long entry of
// unknown size) waits for them all to go idle, and they stay idle until the
// next frame's first job is filled: 6% of the agent's collect time on the
// benchmark (docs/performance.md). Here a frame's end costs nothing.
#pragma once

#include <functional>
#include <memory>

#include "valise/crypto/io.hpp"

namespace valise::common::detail {

struct zstd_options {
  int level = 3;
  int threads = 2;  // 0: compress in the calling thread
  // Bytes per frame. Frames share no history: on the benchmark corpus 2 MiB
  // frames make the bundle 0.7% larger than one frame cut into 2 MiB jobs
  // reloading 64 KiB of history each (libzstd's multi-threading). Memory is
  // about 2 x job_size per job in flight (3 x threads of them), all of it
  // from the start: RSS does not depend on the input.
  std::size_t job_size = 2 << 20;
  // How much lower the workers' scheduling priority is than the calling
  // thread's (nice, per thread on Linux). The calling thread makes every
  // chunk: while it waits for a core behind a worker, the other worker runs
  // out of work. 1 GiB collect 2.07 s against 2.19 s at the same priority,
  // pack 1.39 s against 1.45 s. On a client's host the workers also yield to
  // the site's own programs.
  int worker_nice = 10;
};

class zstd_sink final : public crypto::byte_sink {
 public:
  static result<std::unique_ptr<zstd_sink>> create(crypto::byte_sink& out, zstd_options options);
  ~zstd_sink() override;

  result<void> write(crypto::bytes data) override;
  // Ends the current frame; what is written from now on goes, compressed, to
  // `next`, after everything before has gone to its own sink. The bundle
  // writer holds an entry of unknown size aside this way until its tar
  // header (which needs the size) is out.
  result<void> end_frame(crypto::byte_sink& next);
  // Runs `action` (on the calling thread, during a later call) once everything
  // written before has reached its sink, and before anything written after.
  result<void> then(std::function<result<void>()> action);
  // Ends the frame and writes everything out: the sink is done.
  result<void> finish();

 private:
  struct pipeline;
  explicit zstd_sink(std::unique_ptr<pipeline> p);
  std::unique_ptr<pipeline> p_;
};

}  // namespace valise::common::detail
