#include "collect/gzip_reader.hpp"

#include <isa-l/igzip_lib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "valise/crypto/secret.hpp"

namespace valise::agent::detail {
namespace {

constexpr std::size_t input_size = 256 * 1024;

std::string error_text(int rc) {
  switch (rc) {
    case ISAL_INVALID_WRAPPER:
      return "invalid gzip header";
    case ISAL_UNSUPPORTED_METHOD:
      return "unsupported compression method";
    case ISAL_INCORRECT_CHECKSUM:
      return "CRC or length mismatch at the end of a member";
    default:
      return "invalid deflate data";
  }
}

}  // namespace

struct gzip_reader::state {
  inflate_state inflate;  // ~45 KiB with its window: on the heap
};

gzip_reader::gzip_reader(int fd) : fd_(fd), s_(std::make_unique<state>()), input_(input_size) {
  isal_inflate_init(&s_->inflate);
  s_->inflate.crc_flag = ISAL_GZIP;  // parse the header, check CRC-32 and length
}

gzip_reader::~gzip_reader() {
  // The window holds the last 32 KiB of plaintext.
  crypto::secure_zero(s_.get(), sizeof(state));
  crypto::secure_zero(input_.data(), input_.size());
}

boost::system::result<bool, std::string> gzip_reader::refill() {
  auto& st = s_->inflate;
  // What inflate has not used yet moves to the front.
  const std::size_t kept = st.avail_in;
  if (kept > 0 && st.next_in != input_.data()) std::memmove(input_.data(), st.next_in, kept);
  for (;;) {
    const ssize_t n = ::read(fd_, input_.data() + kept, input_.size() - kept);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::string("read failed (") + std::strerror(errno) + ")";
    eof_ = n == 0;
    st.next_in = input_.data();
    st.avail_in = static_cast<std::uint32_t>(kept + static_cast<std::size_t>(n));
    return n > 0;
  }
}

boost::system::result<std::size_t, std::string> gzip_reader::read(std::span<std::uint8_t> out) {
  if (!error_.empty()) return error_;
  auto& st = s_->inflate;
  while (!done_ && !out.empty()) {
    if (st.avail_in == 0 && !eof_) {
      if (auto r = refill(); !r) return r.error();
    }
    st.next_out = out.data();
    st.avail_out = static_cast<std::uint32_t>(out.size());
    const int rc = isal_inflate(&st);
    const std::size_t produced = out.size() - st.avail_out;
    if (rc < 0) {
      // What was inflated before the error (all of it, for a bad CRC) is
      // returned first; the error with the next call.
      error_ = error_text(rc);
      done_ = true;
      if (produced > 0) return produced;
      return error_;
    }
    if (st.block_state == ISAL_BLOCK_FINISH) {
      // The member ended (its CRC and length checked): another may follow.
      while (st.avail_in < 2 && !eof_) {
        if (auto r = refill(); !r) return r.error();
      }
      if (st.avail_in >= 2 && st.next_in[0] == 0x1f && st.next_in[1] == 0x8b) {
        auto* next = st.next_in;
        const auto avail = st.avail_in;
        isal_inflate_reset(&st);
        st.crc_flag = ISAL_GZIP;
        st.next_in = next;
        st.avail_in = avail;
      } else {
        done_ = true;
      }
    } else if (produced == 0 && st.avail_in == 0 && eof_) {
      return std::string("truncated: the file ends inside a member");
    }
    if (produced > 0) return produced;
  }
  return 0;
}

}  // namespace valise::agent::detail
