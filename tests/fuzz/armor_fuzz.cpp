// Fuzzes the ASCII armor decoder: any input must end in data or a clean error,
// and whatever it accepts must re-encode to the same bytes.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "armor.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace valise::crypto;
  memory_source in({data, size});
  detail::armor_reader reader(in);
  std::vector<std::uint8_t> decoded, buf(1000);
  for (;;) {
    auto n = reader.read(buf);
    if (!n) return 0;
    if (*n == 0) break;
    decoded.insert(decoded.end(), buf.begin(), buf.begin() + static_cast<long>(*n));
  }
  // Accepted input decodes to bytes that our encoder turns back into armor
  // which the decoder accepts again, to the same bytes.
  memory_sink out;
  detail::armor_writer writer(out);
  if (!writer.write(decoded) || !writer.finish()) std::abort();
  memory_source again(out.data());
  detail::armor_reader reader2(again);
  std::vector<std::uint8_t> decoded2;
  for (;;) {
    auto n = reader2.read(buf);
    if (!n) std::abort();
    if (*n == 0) break;
    decoded2.insert(decoded2.end(), buf.begin(), buf.begin() + static_cast<long>(*n));
  }
  if (decoded2 != decoded) std::abort();
  return 0;
}
