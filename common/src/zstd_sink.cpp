#include "zstd_sink.hpp"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

// ZSTD_customMem: in zstd's "experimental" section, but unchanged since 1.3 and
// exported by Debian's libzstd1.
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

namespace valise::common::detail {
namespace {

std::error_code zstd_error() {
  return std::make_error_code(std::errc::io_error);
}

// zstd's memory, made to cost its bound from the start. zstd fills its buffer
// pools lazily, as jobs happen to overlap (so a long input reaches a higher
// peak than a short one), and touches only the pages the data needs (text
// leaves output buffers mostly untouched, rotated .gz logs fill them). This
// allocator hands out blocks already in memory and keeps freed ones for
// reuse, and create() stocks it with the output buffers of a full pool: RSS
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

}  // namespace

struct zstd_sink::context {
  block_cache memory;  // outlives the context that allocates from it
  ZSTD_CCtx* cctx = ZSTD_createCCtx_advanced(memory.allocator());
  ~context() { ZSTD_freeCCtx(cctx); }
};

zstd_sink::zstd_sink(crypto::byte_sink& out)
    : out_(&out), ctx_(std::make_unique<context>()), buffer_(ZSTD_CStreamOutSize()) {}

zstd_sink::~zstd_sink() = default;

result<std::unique_ptr<zstd_sink>> zstd_sink::create(crypto::byte_sink& out, zstd_options options) {
  std::unique_ptr<zstd_sink> sink(new zstd_sink(out));
  ZSTD_CCtx* c = sink->ctx_->cctx;
  // No zstd checksum: every file carries a SHA-256 and every chunk an AEAD tag.
  if (!c || ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, options.level))) {
    return zstd_error();
  }
  if (options.threads > 0) {
    // Without multi-threading support in libzstd this fails; compress inline then.
    if (!ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_nbWorkers, options.threads))) {
      if (options.overlap_log > 0) {
        ZSTD_CCtx_setParameter(c, ZSTD_c_overlapLog, options.overlap_log);
      }
      if (options.job_size > 0) {
        ZSTD_CCtx_setParameter(c, ZSTD_c_jobSize, static_cast<int>(options.job_size));
        // libzstd's pool of job outputs: 2 per worker + 3, compressBound(job) each.
        const auto outputs = 2 * static_cast<std::size_t>(options.threads) + 3;
        sink->ctx_->memory.stock(ZSTD_compressBound(options.job_size), outputs);
      }
    }
  }
  return sink;
}

result<void> zstd_sink::compress(crypto::bytes data, bool end) {
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  const auto mode = end ? ZSTD_e_end : ZSTD_e_continue;
  for (;;) {
    ZSTD_outBuffer out{buffer_.data(), buffer_.size(), 0};
    const std::size_t remaining = ZSTD_compressStream2(ctx_->cctx, &out, &in, mode);
    if (ZSTD_isError(remaining)) return zstd_error();
    if (out.pos > 0) {
      if (auto r = out_->write({buffer_.data(), out.pos}); !r) return r;
    }
    const bool done = end ? remaining == 0 : in.pos == in.size;
    if (done) return {};
  }
}

result<void> zstd_sink::write(crypto::bytes data) {
  in_frame_ = in_frame_ || !data.empty();
  return compress(data, false);
}

result<void> zstd_sink::finish() {
  return compress({}, true);
}

result<void> zstd_sink::end_frame(crypto::byte_sink& next) {
  result<void> r;
  if (in_frame_) r = compress({}, true);  // no empty frames
  in_frame_ = false;
  out_ = &next;
  return r;
}

}  // namespace valise::common::detail
