// Gives memory the idle service does not need back to the kernel: freed heap
// (malloc_trim), and the pages of code and read-only data that start-up or
// the last job touched (libraries' initialisers, TLS set-up, collection,
// compression). Those are clean file pages, still in the page cache; the
// service faults back in the few it uses, so it idles with a small resident
// set instead of everything it ever ran.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace valise::agent {

struct clean_mapping {
  std::uintptr_t begin = 0, end = 0;
  std::uint64_t resident_bytes = 0;
};

// Of /proc/self/smaps, the mappings that can be dropped without losing a
// byte: private, read-only, file-backed, resident, with no anonymous
// (copied-on-write) page, not locked.
std::vector<clean_mapping> clean_file_mappings(std::string_view smaps);

// Returns the resident bytes of the mappings dropped (from smaps).
std::uint64_t release_idle_memory();

}  // namespace valise::agent
