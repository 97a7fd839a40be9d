// Fuzzes the PROXY protocol header parser (http/proxy_protocol), which reads
// what a trusted load balancer sends before the TLS bytes. A complete header
// lies within the input and within max_header; every shorter prefix of it
// asks for more (it is never refused nor taken early, however the bytes
// arrive); the bytes after it change nothing; a refusal says why.
#include <cstdint>
#include <cstdlib>

#include "http/proxy_protocol.hpp"

namespace {

using namespace valise::server::proxy_protocol;

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto whole = parse({data, size});
  switch (whole.outcome) {
    case state::complete: {
      check(whole.length > 0 && whole.length <= size && whole.length <= max_header);
      for (std::size_t n = 0; n < whole.length; ++n)
        check(parse({data, n}).outcome == state::need_more);
      const auto exact = parse({data, whole.length});
      check(exact.outcome == state::complete && exact.length == whole.length &&
            exact.source == whole.source);
      break;
    }
    case state::need_more:
      check(size < max_header);
      break;
    case state::invalid:
      check(!whole.problem.empty());
      break;
  }
  return 0;
}
