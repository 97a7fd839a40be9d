// Finds the first place where any of a few short words starts, ignoring ASCII
// case: the prefilter that lets the default redaction rules skip lines that
// cannot match. With AVX2, Teddy (Hyperscan's literal matcher): each of 64
// positions per round is looked up by the nibbles of its first three bytes in
// tables that say which of 8 buckets of words could start there; only the
// candidates are compared with the words. A byte loop otherwise.
#pragma once

#include <array>
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
  // The first position in [begin, end) where a word starts (the lowest
  // index if several do).
  hit find(const char* begin, const char* end) const;
  // The byte loop alone, whatever the CPU (tests compare the two).
  hit find_scalar(const char* begin, const char* end) const;

  static constexpr std::size_t buckets = 8;
  static constexpr std::size_t fingerprint = 3;  // bytes looked up per position

 private:
  hit find_avx2(const char* begin, const char* end) const;
  bool word_at(std::size_t w, const char* p, const char* end) const;
  // The same for a candidate of the vector loop: its first 8 bytes at once.
  bool candidate_is(std::size_t w, const char* p, const char* end) const;
  void assign_buckets();

  std::vector<std::string> words_;
  // Word indexes by bucket, ascending, then word_count_ to the end (no
  // vectors: the scan looks them up for every candidate).
  std::array<std::array<std::uint8_t, 33>, buckets> members_{};
  std::uint8_t word_count_ = 0;
  // By fingerprint position: bucket bits for the low and the high nibble of
  // the byte there (folded with | 0x20), the 16 entries twice (one per lane).
  alignas(32) std::uint8_t low_[fingerprint][32] = {};
  alignas(32) std::uint8_t high_[fingerprint][32] = {};
  bool first_byte_[256] = {};  // folded first bytes of the words
  // By word, its first 8 bytes as one word of memory: what (text | fold) &
  // mask must equal (fold: 0x20 where the word has a letter).
  struct head {
    std::uint64_t bytes = 0, fold = 0, mask = 0;
  };
  std::vector<head> heads_;
  bool avx2_ = false;
};

}  // namespace valise::agent::redact::detail
