// UTC instants written out in tests, so that each case states its offset.
#pragma once

#include <chrono>

#include "calendar/calendar.hpp"

namespace valise::server::calendar::test {

// utc(2026, 1, 12, 9, 0): 2026-01-12T09:00:00Z.
inline instant utc(int y, unsigned m, unsigned d, int hour, int minute = 0) {
  using namespace std::chrono;
  return instant{sys_days{year{y} / month{m} / day{d}}} + hours{hour} + minutes{minute};
}

}  // namespace valise::server::calendar::test
