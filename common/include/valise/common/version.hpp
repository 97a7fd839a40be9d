#pragma once

#include <string>

namespace valise::common {

// What `--version` prints after the program's name: git describe's, or the
// Debian package's (cmake/version.cmake). Defined in a source CMake writes, so
// a new commit recompiles one file.
extern const char* const version;

// "valise-agent/0.1.0+232.ge2ca5c7", the User-Agent of a program's requests.
inline std::string user_agent(const std::string& program) {
  return program + "/" + version;
}

}  // namespace valise::common
