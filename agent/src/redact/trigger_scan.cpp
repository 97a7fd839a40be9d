#include "redact/trigger_scan.hpp"

#include <algorithm>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace valise::agent::redact::detail {
namespace {

// ASCII letters to lower case; other bytes as they are (word_at compares
// exactly; the vector test folds everything with | 0x20 and lets word_at
// sort out the few bytes that folds wrongly).
inline unsigned char lower(unsigned char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<unsigned char>(c | 0x20) : c;
}

}  // namespace

trigger_scan::trigger_scan(std::vector<std::string> words) : words_(std::move(words)) {
  if (words_.size() > 32) words_.resize(32);
  for (auto& w : words_) {
    if (w.empty()) w = "\n";  // never a trigger: the scan runs within lines
    w.resize(std::min<std::size_t>(w.size(), 32));
    for (auto& c : w) c = static_cast<char>(lower(static_cast<unsigned char>(c)));
    longest_ = std::max(longest_, w.size());
    first_byte_[static_cast<unsigned char>(w[0])] = true;
    if (w[0] >= 'a' && w[0] <= 'z') first_byte_[static_cast<unsigned char>(w[0] - 32)] = true;
  }
#if defined(__x86_64__)
  avx2_ = __builtin_cpu_supports("avx2");
#endif
}

bool trigger_scan::word_at(std::size_t w, const char* p, const char* end) const {
  const auto& word = words_[w];
  if (static_cast<std::size_t>(end - p) < word.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    if (lower(static_cast<unsigned char>(p[i])) != static_cast<unsigned char>(word[i]))
      return false;
  }
  return true;
}

trigger_scan::hit trigger_scan::find_scalar(const char* p, const char* end) const {
  for (; p < end; ++p) {
    if (!first_byte_[static_cast<unsigned char>(*p)]) continue;
    for (std::size_t w = 0; w < words_.size(); ++w) {
      if (word_at(w, p, end)) return {p, w};
    }
  }
  return {end, 0};
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) trigger_scan::hit trigger_scan::find_avx2(const char* p,
                                                                          const char* end) const {
  const __m256i fold = _mm256_set1_epi8(0x20);
  std::uint32_t masks[32];
  // Loads reach up to longest_ - 1 bytes past the 32 being tested.
  while (end - p >= static_cast<std::ptrdiff_t>(32 + longest_)) {
    const __m256i head =
        _mm256_or_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)), fold);
    std::uint32_t any = 0;
    for (std::size_t w = 0; w < words_.size(); ++w) {
      const auto& word = words_[w];
      __m256i eq = _mm256_cmpeq_epi8(head, _mm256_set1_epi8(static_cast<char>(word[0] | 0x20)));
      if (word.size() > 1) {
        const __m256i tail = _mm256_or_si256(
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + word.size() - 1)), fold);
        eq = _mm256_and_si256(
            eq, _mm256_cmpeq_epi8(tail, _mm256_set1_epi8(static_cast<char>(word.back() | 0x20))));
      }
      masks[w] = static_cast<std::uint32_t>(_mm256_movemask_epi8(eq));
      any |= masks[w];
    }
    while (any != 0) {
      const int i = __builtin_ctz(any);
      for (std::size_t w = 0; w < words_.size(); ++w) {
        if ((masks[w] >> i & 1) && word_at(w, p + i, end)) return {p + i, w};
      }
      any &= any - 1;
    }
    p += 32;
  }
  return find_scalar(p, end);
}
#else
trigger_scan::hit trigger_scan::find_avx2(const char* p, const char* end) const {
  return find_scalar(p, end);
}
#endif

trigger_scan::hit trigger_scan::find(const char* begin, const char* end) const {
  if (words_.empty()) return {end, 0};
  return avx2_ ? find_avx2(begin, end) : find_scalar(begin, end);
}

}  // namespace valise::agent::redact::detail
