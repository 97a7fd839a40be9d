#include "zstd_sink.hpp"

#include <zstd.h>

namespace valise::common::detail {
namespace {

std::error_code zstd_error() {
  return std::make_error_code(std::errc::io_error);
}

}  // namespace

struct zstd_sink::context {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ~context() { ZSTD_freeCCtx(cctx); }
};

zstd_sink::zstd_sink(crypto::byte_sink& out)
    : out_(out), ctx_(std::make_unique<context>()), buffer_(ZSTD_CStreamOutSize()) {}

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
      ZSTD_CCtx_setParameter(c, ZSTD_c_jobSize, static_cast<int>(options.job_size));
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
      if (auto r = out_.write({buffer_.data(), out.pos}); !r) return r;
    }
    const bool done = end ? remaining == 0 : in.pos == in.size;
    if (done) return {};
  }
}

result<void> zstd_sink::write(crypto::bytes data) {
  return compress(data, false);
}

result<void> zstd_sink::finish() {
  return compress({}, true);
}

}  // namespace valise::common::detail
