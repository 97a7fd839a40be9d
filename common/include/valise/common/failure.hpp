// How commands stop (valise, valise-agent): a `failure` carries one line
// saying what failed on which input and one saying what to do; each program's
// main prints them as `valise: ...` and `valise: hint: ...`. Lower layers return error codes; only
// here do they become sentences, because only the command knows which file it was working on.
#pragma once

#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

#include "valise/crypto/result.hpp"

namespace valise::common {

struct failure {
  std::string message;
  std::string hint;  // may be empty
};

// What to do about an error of any module's kind; empty if nothing useful to say.
std::string hint_for(std::error_code ec);

[[noreturn]] inline void fail(std::string message, std::string hint = {}) {
  throw failure{std::move(message), std::move(hint)};
}

// "<subject>: <error message>", with the hint of the error's kind.
[[noreturn]] void fail(std::string_view subject, std::error_code ec);

template <class T>
T check(result<T> r, std::string_view subject) {
  if (!r) fail(subject, r.error());
  if constexpr (!std::is_void_v<T>) return std::move(*r);
}

}  // namespace valise::common
