// The command line's sizes and durations are common/'s (the agent config
// reads the same forms).
#pragma once

#include "valise/common/units.hpp"

namespace valise::cli {
using common::parse_duration;
using common::parse_size;
}  // namespace valise::cli
