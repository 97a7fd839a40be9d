#include "service/job_report.hpp"

#include <gtest/gtest.h>

#include "valise/common/https_client.hpp"

namespace valise::agent {
namespace {

TEST(job_report, an_operators_reason_is_sent_printable) {
  EXPECT_EQ(report_error("not now:\tthe audit\nruns \x1b[31muntil Friday"),
            "not now: the audit runs \\x1b[31muntil Friday");
  EXPECT_EQ(report_error("caf\xc3"), "caf\\xc3");
}

TEST(job_report, long_text_is_cut_between_characters) {
  // One byte, then two-byte characters: a byte count alone cut the last in half.
  const auto cut = report_error("x" + std::string(600, 'a') + std::string(300, '\xc3') + "\xa9");
  EXPECT_LE(cut.size(), max_report_error_bytes);
  std::string e_acute;
  for (int i = 0; i < 1000; ++i) e_acute += "\u00e9";
  const auto text = report_error("x" + e_acute);
  EXPECT_EQ(text, "x" + e_acute.substr(0, 998));
  EXPECT_EQ(text.size(), 999u);
}

TEST(job_report, a_refused_report_is_final_and_an_unreachable_server_is_not) {
  for (unsigned status : {400u, 404u, 409u, 410u, 413u, 422u})
    EXPECT_TRUE(report_refused_for_good(common::make_status_error(status))) << status;
  for (unsigned status : {401u, 403u, 408u, 429u, 500u, 502u, 503u, 507u})
    EXPECT_FALSE(report_refused_for_good(common::make_status_error(status))) << status;
  EXPECT_FALSE(report_refused_for_good(std::make_error_code(std::errc::connection_refused)));
  EXPECT_FALSE(report_refused_for_good(std::make_error_code(std::errc::timed_out)));
}

}  // namespace
}  // namespace valise::agent
