#include "service/job_report.hpp"

#include "valise/common/https_client.hpp"
#include "valise/common/printable_text.hpp"

namespace valise::agent {

std::string report_error(std::string_view text) {
  return common::printable_text(text, max_report_error_bytes);
}

bool report_refused_for_good(std::error_code ec) {
  for (unsigned status : {400u, 404u, 409u, 410u, 413u, 422u})
    if (ec == common::make_status_error(status)) return true;
  return false;
}

}  // namespace valise::agent
