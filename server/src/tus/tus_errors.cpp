#include "tus/tus_errors.hpp"

namespace valise::server::tus {
namespace {

class error_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "tus"; }
  std::string message(int value) const override {
    switch (static_cast<error>(value)) {
      case error::bad_request:
        return "bad request";
      case error::version:
        return "unsupported Tus-Resumable";
      case error::wrong_content_type:
        return "wrong Content-Type";
      case error::not_found:
        return "no such upload";
      case error::gone:
        return "upload gone";
      case error::locked:
        return "upload locked";
      case error::offset_mismatch:
        return "offset mismatch";
      case error::too_large:
        return "too large";
      case error::checksum_mismatch:
        return "checksum mismatch";
      case error::unsupported_checksum:
        return "unsupported checksum";
      case error::budget_exceeded:
        return "budget exceeded";
      case error::storage_full:
        return "storage full";
      case error::forbidden:
        return "forbidden";
      case error::internal:
        return "internal error";
    }
    return "unknown tus error";
  }
};

}  // namespace

const std::error_category& error_category() {
  static const error_category_impl category;
  return category;
}

std::error_code make_error_code(error e) {
  return {static_cast<int>(e), error_category()};
}

}  // namespace valise::server::tus
