// The command line's failures are common/'s (valise-agent stops the same way).
#pragma once

#include "valise/common/failure.hpp"

namespace valise::cli {
using common::check;
using common::fail;
using common::failure;
using common::hint_for;
}  // namespace valise::cli
