// Generated passphrases: enough entropy, readable aloud, unambiguous to type.
#include <cmath>
#include <map>
#include <set>

#include "test_util.hpp"

namespace valise::crypto::test {
namespace {

const std::string alphabet = "abcdefghjkmnpqrstuvwxyz23456789";

TEST(passphrase, six_groups_of_four_from_an_unambiguous_alphabet) {
  for (int i = 0; i < 100; ++i) {
    const auto p = generate_passphrase();
    const auto text = p.view();
    ASSERT_EQ(text.size(), 6u * 4 + 5) << text;
    for (std::size_t j = 0; j < text.size(); ++j) {
      if (j % 5 == 4) {
        EXPECT_EQ(text[j], '-') << text;
      } else {
        EXPECT_NE(alphabet.find(text[j]), std::string::npos) << text;
      }
    }
    for (char look_alike : std::string("0o1liIO")) {
      EXPECT_EQ(text.find(look_alike), std::string_view::npos) << text;
    }
  }
}

TEST(passphrase, carries_at_least_100_bits) {
  // Symbols are independent and uniform over the alphabet (checked below).
  const auto p = generate_passphrase();
  const auto symbols = static_cast<double>(p.view().size() - 5);
  const double bits = symbols * std::log2(static_cast<double>(alphabet.size()));
  EXPECT_GE(bits, 100.0);
  EXPECT_NEAR(bits, 118.9, 0.05);
}

TEST(passphrase, uses_every_symbol_about_equally_and_never_repeats) {
  std::map<char, int> counts;
  std::set<std::string> seen;
  constexpr int samples = 2000;
  for (int i = 0; i < samples; ++i) {
    const auto p = generate_passphrase();
    for (char c : p.view()) {
      if (c != '-') ++counts[c];
    }
    seen.insert(std::string(p.view()));
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(samples));
  ASSERT_EQ(counts.size(), alphabet.size());
  const double expected = samples * 24.0 / static_cast<double>(alphabet.size());  // ~1548
  for (const auto& [c, n] : counts) {
    EXPECT_NEAR(n, expected, expected * 0.2) << c;  // 0.2 is about 8 standard deviations
  }
}

}  // namespace
}  // namespace valise::crypto::test
