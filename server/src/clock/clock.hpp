// The server's wall clock, for every time it records (tickets, links,
// sessions, audit) and every deadline it checks. Real time, unless the
// environment variable VALISE_TEST_CLOCK names a file holding one RFC 3339
// instant: a test hook (docs/development.md), re-read on each call so that a
// test moves time by rewriting the file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace valise::server::clock {

// Seconds since the epoch, UTC.
std::int64_t now();

// The file VALISE_TEST_CLOCK names; nullopt when the clock is real.
const std::optional<std::string>& fake_clock_file();

// At start-up: nullopt if the clock is real or its file reads as an instant,
// else one line saying what is wrong.
std::optional<std::string> check_fake_clock();

}  // namespace valise::server::clock
