#include "uploads/refusal.hpp"

#include <string>

namespace valise::server::uploads {
namespace {

class refusal_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "uploads.refusal"; }
  std::string message(int value) const override {
    switch (static_cast<refusal>(value)) {
      case refusal::bad_request:
        return "bad request";
      case refusal::no_recipients:
        return "no recipients";
      case refusal::request_finished:
        return "the request is over";
      case refusal::request_has_bundle:
        return "the request has its bundle";
      case refusal::quota_exceeded:
        return "over the owner's upload budget";
      case refusal::ticket_not_found:
        return "no such ticket";
      case refusal::not_age_encrypted:
        return "not an age file";
    }
    return "unknown refusal";
  }
};

}  // namespace

const std::error_category& refusal_category() {
  static const refusal_category_impl category;
  return category;
}

std::error_code make_error_code(refusal r) {
  return {static_cast<int>(r), refusal_category()};
}

}  // namespace valise::server::uploads
