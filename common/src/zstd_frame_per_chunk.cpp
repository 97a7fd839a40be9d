// A frame per chunk: see zstd_sink.hpp.
#include <sys/resource.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "valise/crypto/secret.hpp"
#include "zstd_sink.hpp"

namespace valise::common::detail {
namespace {

// One chunk: its input, then its frame. Jobs are made once and reused; their
// buffers are touched when made (std::vector fills them), so RSS is flat.
struct job {
  explicit job(std::size_t size) : in(size), out(ZSTD_compressBound(size)) {}
  std::vector<std::uint8_t> in;
  std::size_t filled = 0;
  std::vector<std::uint8_t> out;
  std::size_t frame = 0;  // bytes of `out`, once compressed
  crypto::byte_sink* sink = nullptr;
  bool done = false;  // under the sink's mutex while workers run
  bool failed = false;

  void compress(ZSTD_CCtx* cctx) {
    const std::size_t n = ZSTD_compress2(cctx, out.data(), out.size(), in.data(), filled);
    failed = ZSTD_isError(n);
    frame = failed ? 0 : n;
  }
};

// No zstd checksum: every file carries a SHA-256 and every chunk an AEAD tag.
ZSTD_CCtx* new_context(int level) {
  ZSTD_CCtx* c = ZSTD_createCCtx();
  if (c && ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level))) {
    ZSTD_freeCCtx(c);
    return nullptr;
  }
  return c;
}

// Threads have their own nice value on Linux: this lowers the calling one's.
void lower_own_priority(int nice) {
  if (nice <= 0) return;
  errno = 0;
  const int now = ::getpriority(PRIO_PROCESS, 0);  // -1 is a valid value
  if (errno == 0) (void)::setpriority(PRIO_PROCESS, 0, std::min(now + nice, 19));
}

class frame_per_chunk_sink final : public zstd_sink {
 public:
  frame_per_chunk_sink(crypto::byte_sink& out, const zstd_options& o) : options(o), sink(&out) {}
  ~frame_per_chunk_sink() override;
  result<void> start();

  result<void> write(crypto::bytes data) override;
  result<void> end_frame(crypto::byte_sink& next) override;
  result<void> then(std::function<result<void>()> action) override;
  result<void> finish() override;

 private:
  const zstd_options options;
  crypto::byte_sink* sink;  // where the next chunk submitted goes
  std::vector<std::unique_ptr<job>> jobs;
  std::vector<job*> idle;
  job* filling = nullptr;
  // What is to go out, in order: a job's frame, or an action.
  struct step {
    job* chunk = nullptr;  // its frame, once compressed
    std::function<result<void>()> action;
  };
  std::deque<step> steps;
  std::error_code error;             // the first one; every later call returns it
  std::vector<ZSTD_CCtx*> contexts;  // one per worker, or the calling thread's

  std::mutex mutex;  // guards the queue, stopping and each job's `done`
  std::condition_variable queued;
  std::condition_variable compressed;
  std::deque<job*> queue;
  bool stopping = false;
  std::vector<std::thread> workers;

  void work(ZSTD_CCtx* cctx) {
    lower_own_priority(options.worker_nice);
    for (;;) {
      job* j = nullptr;
      {
        std::unique_lock lock(mutex);
        queued.wait(lock, [&] { return stopping || !queue.empty(); });
        if (stopping) return;
        j = queue.front();
        queue.pop_front();
      }
      j->compress(cctx);
      {
        std::lock_guard lock(mutex);
        j->done = true;
      }
      compressed.notify_one();  // only the calling thread waits
    }
  }

  result<void> fail(std::error_code e) {
    if (!error) error = e;
    return error;
  }

  result<void> submit() {
    job* j = filling;
    j->sink = sink;
    j->done = workers.empty();  // no worker reads it before it is queued
    steps.push_back({j, {}});   // may throw: `filling` still owns the job
    filling = nullptr;
    if (workers.empty()) {
      j->compress(contexts.front());
    } else {
      {
        std::lock_guard lock(mutex);
        queue.push_back(j);
      }
      queued.notify_one();
    }
    return pump(until::no_wait);
  }

  enum class until { no_wait, a_job_is_idle, all_out };

  // Writes out, in order, the frames compressed and the actions between
  // them, waiting for the workers as `goal` needs.
  result<void> pump(until goal) {
    while (!steps.empty()) {
      if (goal == until::a_job_is_idle && !idle.empty()) return {};
      step& next = steps.front();
      if (job* j = next.chunk) {
        std::unique_lock lock(mutex);
        if (!j->done && goal == until::no_wait) return {};
        compressed.wait(lock, [&] { return j->done; });
        lock.unlock();
        steps.pop_front();
        idle.push_back(j);
        if (j->failed) return fail(zstd_error());
        if (auto r = j->sink->write({j->out.data(), j->frame}); !r) return fail(r.error());
      } else {
        const auto action = std::move(next.action);
        steps.pop_front();
        if (auto r = action(); !r) return fail(r.error());
      }
    }
    return {};
  }

  result<void> submit_filling() {
    if (filling && filling->filled > 0) return submit();
    return {};
  }
};

frame_per_chunk_sink::~frame_per_chunk_sink() {
  {
    std::lock_guard lock(mutex);
    stopping = true;
  }
  queued.notify_all();
  for (auto& t : workers) t.join();
  for (auto* c : contexts) ZSTD_freeCCtx(c);
  // The chunks held plaintext (redacted logs), their frames the same
  // compressed: readable without a key.
  for (auto& j : jobs) {
    crypto::secure_zero(j->in.data(), j->in.size());
    crypto::secure_zero(j->out.data(), j->out.size());
  }
}

result<void> frame_per_chunk_sink::start() {
  if (options.job_size == 0) return std::make_error_code(std::errc::invalid_argument);
  const auto threads = static_cast<std::size_t>(std::max(options.threads, 0));
  // Two chunks waiting per worker besides the one it compresses, so that a
  // worker finds the next at once when the calling thread is busy elsewhere.
  const std::size_t job_count = threads > 0 ? 3 * threads : 1;
  for (std::size_t i = 0; i < job_count; ++i) {
    jobs.push_back(std::make_unique<job>(options.job_size));
    idle.push_back(jobs.back().get());
  }
  for (std::size_t i = 0; i < std::max<std::size_t>(threads, 1); ++i) {
    ZSTD_CCtx* c = new_context(options.level);
    if (!c) return zstd_error();
    contexts.push_back(c);
  }
  if (threads > 0) {
    for (auto* c : contexts) workers.emplace_back([this, c] { work(c); });
  }
  return {};
}

result<void> frame_per_chunk_sink::write(crypto::bytes data) {
  if (error) return error;
  while (!data.empty()) {
    if (!filling) {
      if (auto r = pump(until::a_job_is_idle); !r) return r;
      filling = idle.back();
      idle.pop_back();
      filling->filled = 0;
    }
    job& j = *filling;
    const std::size_t n = std::min(data.size(), j.in.size() - j.filled);
    std::memcpy(j.in.data() + j.filled, data.data(), n);
    j.filled += n;
    data = data.subspan(n);
    if (j.filled == j.in.size()) {
      if (auto r = submit(); !r) return r;
    }
  }
  return {};
}

result<void> frame_per_chunk_sink::end_frame(crypto::byte_sink& next) {
  if (error) return error;
  auto r = submit_filling();
  sink = &next;
  return r;
}

result<void> frame_per_chunk_sink::then(std::function<result<void>()> action) {
  if (error) return error;
  if (auto r = submit_filling(); !r) return r;
  steps.push_back({nullptr, std::move(action)});
  return pump(until::no_wait);
}

result<void> frame_per_chunk_sink::finish() {
  if (error) return error;
  if (auto r = submit_filling(); !r) return r;
  return pump(until::all_out);
}

}  // namespace

result<std::unique_ptr<zstd_sink>> make_frame_per_chunk_sink(crypto::byte_sink& out,
                                                             const zstd_options& options) {
  auto sink = std::make_unique<frame_per_chunk_sink>(out, options);
  if (auto r = sink->start(); !r) return r.error();
  return std::unique_ptr<zstd_sink>(std::move(sink));
}

}  // namespace valise::common::detail
