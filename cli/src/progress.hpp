// The command line's progress bar and sizes are common/'s (valise-agent
// collect draws the same bar).
#pragma once

#include "valise/common/progress.hpp"

namespace valise::cli {
using common::counting_sink;
using common::counting_source;
using common::human_size;
using common::progress_allowed;
using common::progress_bar;
using common::want_progress;
}  // namespace valise::cli
