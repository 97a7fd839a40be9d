// Collection: everything a profile names (files and globs, journald units,
// command outputs, system facts), within one time window, redacted before any
// byte reaches the bundle writer. Problems with one item (permission denied,
// vanished file, command timed out, caps) go into the manifest; only failures
// of the output are errors.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>

#include "config/agent_config.hpp"
#include "valise/common/bundle.hpp"

namespace valise::agent {

struct collection_window {
  std::optional<std::chrono::system_clock::time_point> since, until;
};

struct collect_options {
  // Unused by collect() itself: the writer spills long entries to its own
  // writer_options::scratch_dir, which should be the same directory.
  std::filesystem::path scratch_dir;
  std::function<void(std::uint64_t bytes)> progress;  // cumulative collected bytes
};

// Archive layout: files/<absolute path without '/'> (compressed rotated logs
// without their .gz/.xz/.bz2/.zst suffix, decompressed), journal/<unit>.log
// (or journal/all.log), commands/<name>.txt, facts.json.
result<void> collect(const profile& p, const collection_window& w, common::bundle_writer& writer,
                     const collect_options& o);

}  // namespace valise::agent
