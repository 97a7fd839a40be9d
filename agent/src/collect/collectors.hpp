// The collectors, one per kind of source, each in its own file. Each records
// its items' problems in the manifest and returns only output failures.
#pragma once

#include "collect/item_sink.hpp"

namespace valise::agent::detail {

result<void> collect_files(collection_run& run);     // files.cpp
result<void> collect_journal(collection_run& run);   // journal.cpp
result<void> collect_commands(collection_run& run);  // commands.cpp
result<void> collect_facts(collection_run& run);     // facts.cpp

}  // namespace valise::agent::detail
