// Finds the first place where any of a few short words starts, ignoring ASCII
// case: the prefilter that lets the default redaction rules skip lines that
// cannot match. AVX2 when the CPU has it (about 32 bytes per step, checking
// each word's first and last byte at once), a byte loop otherwise.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace valise::agent::redact::detail {

class trigger_scan {
 public:
  // Words in lower case, 1 to 32 bytes each, at most 32 of them.
  explicit trigger_scan(std::vector<std::string> words);
  bool empty() const { return words_.empty(); }
  std::size_t word_size(std::size_t word) const { return words_[word].size(); }
  struct hit {
    const char* at;    // end: none
    std::size_t word;  // index in the constructor's list
  };
  // The first position in [begin, end) where a word starts.
  hit find(const char* begin, const char* end) const;

 private:
  hit find_scalar(const char* begin, const char* end) const;
  hit find_avx2(const char* begin, const char* end) const;
  bool word_at(std::size_t w, const char* p, const char* end) const;

  std::vector<std::string> words_;
  std::size_t longest_ = 0;
  bool first_byte_[256] = {};  // folded first bytes of the words
  bool avx2_ = false;
};

}  // namespace valise::agent::redact::detail
