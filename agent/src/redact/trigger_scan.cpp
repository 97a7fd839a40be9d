#include "redact/trigger_scan.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

#include "valise/common/ascii.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace valise::agent::redact::detail {
namespace {

// ASCII letters to lower case; other bytes as they are (word_at and
// candidate_is compare exactly; the vector lookup folds every byte with | 0x20
// and lets candidate_is sort out the few that it folds wrongly, such as '\r'
// to '-').
inline unsigned char lower(unsigned char c) {
  return static_cast<unsigned char>(common::ascii_lower(static_cast<char>(c)));
}

// The nibbles a bucket's words can have at each fingerprint position.
struct nibble_sets {
  std::uint16_t low[trigger_scan::fingerprint] = {};
  std::uint16_t high[trigger_scan::fingerprint] = {};

  void add(const std::string& word) {
    for (std::size_t j = 0; j < trigger_scan::fingerprint; ++j) {
      if (j >= word.size()) {  // a shorter word: any byte there
        low[j] = high[j] = 0xffff;
        continue;
      }
      const auto c = static_cast<unsigned char>(word[j] | 0x20);
      low[j] |= static_cast<std::uint16_t>(1u << (c & 15));
      high[j] |= static_cast<std::uint16_t>(1u << (c >> 4));
    }
  }
  // How many byte triples the bucket lets through: its false candidates
  // grow with it.
  double accepted() const {
    double n = 1;
    for (std::size_t j = 0; j < trigger_scan::fingerprint; ++j)
      n *= std::popcount(low[j]) * std::popcount(high[j]);
    return n;
  }
  nibble_sets merged(const nibble_sets& o) const {
    nibble_sets m = *this;
    for (std::size_t j = 0; j < trigger_scan::fingerprint; ++j) {
      m.low[j] |= o.low[j];
      m.high[j] |= o.high[j];
    }
    return m;
  }
};

}  // namespace

trigger_scan::trigger_scan(std::vector<std::string> words) : words_(std::move(words)) {
  if (words_.size() > 32) words_.resize(32);
  for (auto& w : words_) {
    if (w.empty()) w = "\n";  // never a trigger: the scan runs within lines
    w.resize(std::min<std::size_t>(w.size(), 32));
    for (auto& c : w) c = static_cast<char>(lower(static_cast<unsigned char>(c)));
    first_byte_[static_cast<unsigned char>(w[0])] = true;
    if (w[0] >= 'a' && w[0] <= 'z') first_byte_[static_cast<unsigned char>(w[0] - 32)] = true;
    head h;
    for (std::size_t i = 0; i < std::min<std::size_t>(w.size(), 8); ++i) {
      const auto c = static_cast<std::uint64_t>(static_cast<unsigned char>(w[i]));
      h.bytes |= c << (8 * i);
      h.mask |= std::uint64_t{0xff} << (8 * i);
      if (c >= 'a' && c <= 'z') h.fold |= std::uint64_t{0x20} << (8 * i);
    }
    heads_.push_back(h);
  }
  word_count_ = static_cast<std::uint8_t>(words_.size());
  assign_buckets();
#if defined(__x86_64__)
  avx2_ = __builtin_cpu_supports("avx2");
#endif
}

// One bucket per word while there are 8 or fewer; else the two buckets
// whose union lets the fewest extra triples through are merged, until 8 are
// left (the defaults: pass+pwd, bearer+authorization).
void trigger_scan::assign_buckets() {
  struct group {
    std::vector<std::uint8_t> words;
    nibble_sets sets;
  };
  std::vector<group> groups;
  for (std::size_t w = 0; w < words_.size(); ++w) {
    groups.push_back({{static_cast<std::uint8_t>(w)}, {}});
    groups.back().sets.add(words_[w]);
  }
  while (groups.size() > buckets) {
    std::size_t best_a = 0, best_b = 1;
    double best = -1;
    for (std::size_t a = 0; a < groups.size(); ++a) {
      for (std::size_t b = a + 1; b < groups.size(); ++b) {
        const double extra = groups[a].sets.merged(groups[b].sets).accepted() -
                             groups[a].sets.accepted() - groups[b].sets.accepted();
        if (best < 0 || extra < best) {
          best = extra;
          best_a = a;
          best_b = b;
        }
      }
    }
    auto& into = groups[best_a];
    into.sets = into.sets.merged(groups[best_b].sets);
    into.words.insert(into.words.end(), groups[best_b].words.begin(), groups[best_b].words.end());
    std::sort(into.words.begin(), into.words.end());
    groups.erase(groups.begin() + static_cast<std::ptrdiff_t>(best_b));
  }
  for (auto& m : members_) std::ranges::fill(m, word_count_);
  for (std::size_t b = 0; b < groups.size(); ++b) {
    std::ranges::copy(groups[b].words, members_[b].begin());
    const auto bit = static_cast<std::uint8_t>(1u << b);
    for (std::size_t j = 0; j < fingerprint; ++j) {
      for (unsigned n = 0; n < 16; ++n) {
        if (groups[b].sets.low[j] >> n & 1) {
          low_[j][n] |= bit;
          low_[j][n + 16] |= bit;
        }
        if (groups[b].sets.high[j] >> n & 1) {
          high_[j][n] |= bit;
          high_[j][n + 16] |= bit;
        }
      }
    }
  }
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

bool trigger_scan::candidate_is(std::size_t w, const char* p, const char* end) const {
  // heads_ hold p[0] in the low byte.
  if (std::endian::native != std::endian::little || end - p < 8) return word_at(w, p, end);
  std::uint64_t text;
  std::memcpy(&text, p, 8);
  const auto& h = heads_[w];
  if (((text | h.fold) & h.mask) != h.bytes) return false;
  return words_[w].size() <= 8 || word_at(w, p, end);
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
namespace {

// The tables of one fingerprint position, in registers.
struct lookup_tables {
  __m256i low, high;
};

// Byte i: a bit for each bucket whose words may have the byte at at + j as
// their byte j.
__attribute__((target("avx2"), always_inline)) inline __m256i lookup(const char* at, int j,
                                                                     lookup_tables t) {
  const __m256i nibble = _mm256_set1_epi8(0x0f);
  const __m256i v = _mm256_or_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(at + j)),
                                    _mm256_set1_epi8(0x20));
  return _mm256_and_si256(
      _mm256_shuffle_epi8(t.low, _mm256_and_si256(v, nibble)),
      _mm256_shuffle_epi8(t.high, _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble)));
}

// Bit i: some bucket is in byte i.
__attribute__((target("avx2"), always_inline)) inline std::uint32_t nonzero(__m256i v) {
  return ~static_cast<std::uint32_t>(
      _mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_setzero_si256())));
}

}  // namespace

__attribute__((target("avx2"))) trigger_scan::hit trigger_scan::find_avx2(const char* p,
                                                                          const char* end) const {
  static_assert(fingerprint == 3);
  lookup_tables t[fingerprint];
  for (std::size_t j = 0; j < fingerprint; ++j) {
    t[j] = {_mm256_load_si256(reinterpret_cast<const __m256i*>(low_[j])),
            _mm256_load_si256(reinterpret_cast<const __m256i*>(high_[j]))};
  }
  // Byte i: the buckets whose words may start at at + i.
  const auto in_buckets = [&](const char* at) __attribute__((target("avx2"), always_inline)) {
    return _mm256_and_si256(_mm256_and_si256(lookup(at, 0, t[0]), lookup(at, 1, t[1])),
                            lookup(at, 2, t[2]));
  };
  alignas(32) std::uint8_t found[64];
  // 64 positions per round, as two independent halves (more work in flight);
  // loads reach fingerprint - 1 bytes past them.
  while (end - p >= static_cast<std::ptrdiff_t>(64 + fingerprint - 1)) {
    const __m256i first = in_buckets(p), second = in_buckets(p + 32);
    auto candidates = std::uint64_t{nonzero(second)} << 32 | nonzero(first);
    if (candidates != 0) {
      _mm256_store_si256(reinterpret_cast<__m256i*>(found), first);
      _mm256_store_si256(reinterpret_cast<__m256i*>(found + 32), second);
      do {
        const int i = std::countr_zero(candidates);
        std::uint8_t best = word_count_;
        for (unsigned b = found[i]; b != 0; b &= b - 1) {
          for (const std::uint8_t* w =
                   members_[static_cast<std::size_t>(std::countr_zero(b))].data();
               *w < best; ++w) {
            if (candidate_is(*w, p + i, end)) best = *w;
          }
        }
        if (best < word_count_) return {p + i, best};
        candidates &= candidates - 1;
      } while (candidates != 0);
    }
    p += 64;
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
