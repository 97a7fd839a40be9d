#include "http/body_receiver.hpp"

#include <algorithm>
#include <cstring>

namespace valise::server {

boost::asio::awaitable<void> body_receiver::ready() {
  co_return;
}

std::optional<response> body_receiver::write(crypto::bytes data) {
  while (!data.empty()) {
    auto space = buffer();
    const std::size_t n = std::min(space.size(), data.size());
    std::memcpy(space.data(), data.data(), n);
    if (auto stop = commit(n)) return stop;
    data = data.subspan(n);
  }
  return std::nullopt;
}

}  // namespace valise::server
