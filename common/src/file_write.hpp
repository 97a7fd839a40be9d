// Writing a whole buffer to a descriptor, through short writes and EINTR.
#pragma once

#include "valise/crypto/io.hpp"

namespace valise::common::detail {

result<void> write_all(int fd, crypto::bytes data);

}  // namespace valise::common::detail
