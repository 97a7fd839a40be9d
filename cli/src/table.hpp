// Plain-text tables for the listing commands: a header row, columns padded to
// their widest cell, two spaces apart, the last column unpadded.
#pragma once

#include <string>
#include <vector>

namespace valise::cli {

struct table {
  std::vector<std::string> header;
  std::vector<bool> right_aligned;  // per column; missing entries are left-aligned
  std::vector<std::vector<std::string>> rows;
  void print() const;
};

}  // namespace valise::cli
