// Fuzzes the ASCII armor decoder: any input ends in data or a clean error, and
// what it accepts re-encodes (with our writer) to armor that decodes to the
// same bytes. Inputs are also fed a few bytes per read, which must not change
// the outcome.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "armor.hpp"
#include "valise/crypto/age.hpp"

namespace {

using namespace valise::crypto;

void check(bool ok) {
  if (!ok) std::abort();
}

// At most `step` bytes per read.
class trickle final : public byte_source {
 public:
  trickle(bytes data, std::size_t step) : data_(data), step_(step) {}
  valise::result<std::size_t> read(mutable_bytes out) override {
    const std::size_t n = std::min({out.size(), step_, data_.size() - pos_});
    if (n > 0) std::memcpy(out.data(), data_.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  bytes data_;
  std::size_t step_;
  std::size_t pos_ = 0;
};

struct outcome {
  std::vector<std::uint8_t> data;
  std::error_code error;
};

outcome decode(bytes input, std::size_t step, std::size_t read_size) {
  trickle in(input, step);
  detail::armor_reader reader(in);
  outcome o;
  std::vector<std::uint8_t> buf(read_size);
  for (;;) {
    auto n = reader.read(buf);
    if (!n) {
      o.error = n.error();
      check(o.error == errc::armor_invalid);
      return o;
    }
    if (*n == 0) return o;
    o.data.insert(o.data.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const bytes input(data, size);
  const auto whole = decode(input, size + 1, 1000);
  const auto trickled = decode(input, 3, 7);
  check(whole.error == trickled.error);
  if (whole.error) return 0;
  check(whole.data == trickled.data);

  memory_sink out;
  detail::armor_writer writer(out);
  check(writer.write(whole.data) && writer.finish());
  const auto again = decode(out.data(), out.data().size() + 1, 1000);
  check(!again.error && again.data == whole.data);
  return 0;
}
