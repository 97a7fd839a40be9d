// The one error style at valise's module boundaries: a value or an error code.
// Each module defines an `errc` enum with its own category; callers branch on the
// kind and add context (which file, what to do) where they know it.
#pragma once

#include <boost/system/result.hpp>
#include <system_error>

namespace valise {

template <class T>
using result = boost::system::result<T, std::error_code>;

}  // namespace valise
