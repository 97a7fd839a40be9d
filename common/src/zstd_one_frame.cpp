// One frame, libzstd's workers: see zstd_sink.hpp.
#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

#include "zstd_sink.hpp"

// ZSTD_customMem: in zstd's "experimental" section, but unchanged since 1.3 and
// exported by Debian's libzstd1.
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

namespace valise::common::detail {
namespace {

// zstd's memory, made to cost its bound from the start. zstd fills its buffer
// pools lazily, as jobs happen to overlap (so a long input reaches a higher
// peak than a short one), and touches only the pages the data needs (text
// leaves output buffers mostly untouched, rotated .gz logs fill them). This
// allocator hands out blocks already in memory and keeps freed ones for
// reuse, and start() stocks it with the output buffers of a full pool: RSS
// is then the worst case from the start, the same for 100 MiB and 1 GiB.
class block_cache {
 public:
  block_cache() = default;
  block_cache(const block_cache&) = delete;
  block_cache& operator=(const block_cache&) = delete;
  ~block_cache() {
    for (const auto& [size, block] : free_) dispose(block);
  }

  ZSTD_customMem allocator() { return {&allocate, &release, this}; }

  void stock(std::size_t size, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
      if (void* block = fresh(size)) release(this, block);
    }
  }

 private:
  // Before each block: its size, and whether it was mapped (16 bytes keep
  // malloc's alignment).
  struct header {
    std::size_t size;
    std::size_t mapped;
  };
  static_assert(sizeof(header) == 16);
  static constexpr std::size_t map_threshold = 64 * 1024;

  static header* header_of(void* block) { return static_cast<header*>(block) - 1; }

  static void* fresh(std::size_t size) {
    const std::size_t total = sizeof(header) + size;
    void* base = nullptr;
    if (size >= map_threshold) {
      // Populated in one call: faulting pages in one by one costs more
      // (~70 ms per bundle on the benchmark machine).
      base = ::mmap(nullptr, total, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
      if (base == MAP_FAILED) return nullptr;
    } else {
      base = std::malloc(total);
      if (!base) return nullptr;
      // One write per page, volatile: GCC turns malloc + memset(0) into calloc,
      // which leaves fresh pages untouched.
      for (std::size_t i = 0; i < total; i += 4096) static_cast<volatile char*>(base)[i] = 0;
    }
    auto* h = static_cast<header*>(base);
    *h = {size, size >= map_threshold};
    return h + 1;
  }

  static void dispose(void* block) {
    header* h = header_of(block);
    if (h->mapped) {
      ::munmap(h, sizeof(header) + h->size);
    } else {
      std::free(h);
    }
  }

  static void* allocate(void* self, std::size_t size) {
    auto* cache = static_cast<block_cache*>(self);
    {
      std::lock_guard lock(cache->mutex_);
      if (const auto it = cache->free_.find(size); it != cache->free_.end()) {
        void* block = it->second;
        cache->free_.erase(it);
        return block;
      }
    }
    return fresh(size);
  }

  static void release(void* self, void* block) {
    if (!block) return;
    auto* cache = static_cast<block_cache*>(self);
    std::lock_guard lock(cache->mutex_);
    cache->free_.emplace(header_of(block)->size, block);
  }

  std::mutex mutex_;
  std::multimap<std::size_t, void*> free_;  // by size
};

class one_frame_sink final : public zstd_sink {
 public:
  explicit one_frame_sink(crypto::byte_sink& out) : out_(&out), buffer_(ZSTD_CStreamOutSize()) {}
  ~one_frame_sink() override { ZSTD_freeCCtx(cctx_); }
  result<void> start(const zstd_options& options);

  result<void> write(crypto::bytes data) override {
    in_frame_ = in_frame_ || !data.empty();
    return compress(data, false);
  }
  result<void> end_frame(crypto::byte_sink& next) override {
    if (error_) return error_;
    result<void> r;
    if (in_frame_) r = compress({}, true);  // no empty frames
    in_frame_ = false;
    out_ = &next;
    return r;
  }
  result<void> then(std::function<result<void>()> action) override {
    if (auto r = end_frame(*out_); !r) return r;
    auto r = action();  // everything before is out already
    if (!r) error_ = r.error();
    return r;
  }
  result<void> finish() override {
    if (error_) return error_;
    if (!in_frame_) return {};  // no empty frames
    in_frame_ = false;
    return compress({}, true);
  }

 private:
  // Fails with the first error from then on.
  result<void> compress(crypto::bytes data, bool end);
  result<void> compress_unchecked(crypto::bytes data, bool end);

  crypto::byte_sink* out_;
  bool in_frame_ = false;  // bytes went in since the last frame ended
  std::error_code error_;
  block_cache memory_;  // outlives the context that allocates from it
  ZSTD_CCtx* cctx_ = ZSTD_createCCtx_advanced(memory_.allocator());
  std::vector<std::uint8_t> buffer_;
};

result<void> one_frame_sink::start(const zstd_options& options) {
  ZSTD_CCtx* c = cctx_;
  // No zstd checksum: every file carries a SHA-256 and every chunk an AEAD tag.
  if (!c || ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, options.level))) {
    return zstd_error();
  }
  if (options.threads <= 0) return {};
  // Without multi-threading support in libzstd this fails; compress inline then.
  if (ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_nbWorkers, options.threads))) return {};
  if (options.overlap_log > 0) ZSTD_CCtx_setParameter(c, ZSTD_c_overlapLog, options.overlap_log);
  if (options.job_size > 0) {
    ZSTD_CCtx_setParameter(c, ZSTD_c_jobSize, static_cast<int>(options.job_size));
    // libzstd's pool of job outputs: 2 per worker + 3, compressBound(job) each.
    const auto outputs = 2 * static_cast<std::size_t>(options.threads) + 3;
    memory_.stock(ZSTD_compressBound(options.job_size), outputs);
  }
  return {};
}

result<void> one_frame_sink::compress(crypto::bytes data, bool end) {
  if (error_) return error_;
  auto r = compress_unchecked(data, end);
  if (!r) error_ = r.error();
  return r;
}

result<void> one_frame_sink::compress_unchecked(crypto::bytes data, bool end) {
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  const auto mode = end ? ZSTD_e_end : ZSTD_e_continue;
  for (;;) {
    ZSTD_outBuffer out{buffer_.data(), buffer_.size(), 0};
    const std::size_t remaining = ZSTD_compressStream2(cctx_, &out, &in, mode);
    if (ZSTD_isError(remaining)) return zstd_error();
    if (out.pos > 0) {
      if (auto r = out_->write({buffer_.data(), out.pos}); !r) return r;
    }
    const bool done = end ? remaining == 0 : in.pos == in.size;
    if (done) return {};
  }
}

}  // namespace

result<std::unique_ptr<zstd_sink>> make_one_frame_sink(crypto::byte_sink& out,
                                                       const zstd_options& options) {
  auto sink = std::make_unique<one_frame_sink>(out);
  if (auto r = sink->start(options); !r) return r.error();
  return std::unique_ptr<zstd_sink>(std::move(sink));
}

}  // namespace valise::common::detail
