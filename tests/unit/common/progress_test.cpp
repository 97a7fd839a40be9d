// The progress bar's drawing: what it writes to stderr, how often, and that it
// erases itself; sizes as people read them.
#include "valise/common/progress.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace valise::common {
namespace {

using namespace std::chrono_literals;

TEST(progress, sizes_read_as_binary_units) {
  EXPECT_EQ(human_size(0), "0 B");
  EXPECT_EQ(human_size(1023), "1023 B");
  EXPECT_EQ(human_size(1536), "1.5 KiB");
  EXPECT_EQ(human_size(5ull << 30), "5.0 GiB");
}

TEST(progress, a_bar_of_known_total_draws_at_most_ten_times_a_second_then_erases_itself) {
  testing::internal::CaptureStderr();
  {
    progress_bar bar("packing", 4ull << 20, true);
    bar.update(1ull << 20);  // too soon after the start: not drawn
    std::this_thread::sleep_for(120ms);
    bar.update(2ull << 20);
    bar.update(3ull << 20);  // too soon after the last draw
  }                          // the destructor erases it
  const auto out = testing::internal::GetCapturedStderr();
  EXPECT_EQ(out.find("1.0 MiB"), std::string::npos) << out;
  EXPECT_NE(out.find("\rpacking [###############...............]  50% 2.0 MiB / 4.0 MiB"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("3.0 MiB"), std::string::npos) << out;
  EXPECT_TRUE(out.ends_with("\r\033[K")) << out;
}

TEST(progress, an_unknown_total_shows_bytes_and_rate) {
  testing::internal::CaptureStderr();
  progress_bar bar("collecting", 0, true);
  std::this_thread::sleep_for(120ms);
  bar.update(3ull << 20);
  bar.finish();
  bar.update(4ull << 20);  // after finish: nothing more
  const auto out = testing::internal::GetCapturedStderr();
  EXPECT_TRUE(out.starts_with("\rcollecting 3.0 MiB  ")) << out;
  EXPECT_NE(out.find("/s"), std::string::npos) << out;
  // The rate may read "24.0 MiB/s" (3 MiB in 125 ms): look for the amount only.
  EXPECT_EQ(out.find("collecting 4.0 MiB"), std::string::npos) << out;
}

TEST(progress, a_disabled_bar_writes_nothing) {
  testing::internal::CaptureStderr();
  {
    progress_bar bar("opening", 100, false);
    std::this_thread::sleep_for(120ms);
    bar.update(50);
  }
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

}  // namespace
}  // namespace valise::common
