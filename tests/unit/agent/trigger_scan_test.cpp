// The trigger-word scan: the vector path (Teddy) against the byte loop, each
// default word in any case at every offset of a 64-byte round and at the end
// of the buffer, words sharing buckets, and bytes that the vector lookup
// folds wrongly.
#include "redact/trigger_scan.hpp"

#include <gtest/gtest.h>

#include <random>

#include "redact/default_rules.hpp"

namespace valise::agent::redact::detail {
namespace {

std::vector<std::string> default_words() {
  std::vector<std::string> words;
  for (const auto& t : builtin_triggers(true, true)) words.push_back(t.word);
  return words;
}

std::string random_case(std::string word, std::mt19937& rng) {
  for (auto& c : word) {
    if (c >= 'a' && c <= 'z' && rng() % 2) c = static_cast<char>(c - 32);
  }
  return word;
}

// Every hit of `scan` in `text`, by the vector path and by the byte loop.
std::vector<std::pair<std::size_t, std::size_t>> hits(const trigger_scan& scan,
                                                      std::string_view text, bool scalar) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  const char* p = text.data();
  const char* end = text.data() + text.size();
  for (;;) {
    const auto h = scalar ? scan.find_scalar(p, end) : scan.find(p, end);
    if (h.at == end) return out;
    out.emplace_back(static_cast<std::size_t>(h.at - text.data()), h.word);
    p = h.at + 1;
  }
}

TEST(trigger_scan, finds_each_word_in_any_case_at_every_offset) {
  const auto words = default_words();
  const trigger_scan scan(words);
  std::mt19937 rng(3);
  for (std::size_t w = 0; w < words.size(); ++w) {
    for (std::size_t offset = 0; offset < 140; ++offset) {  // two rounds and more
      for (const std::size_t tail :
           {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{40}}) {
        const auto word = random_case(words[w], rng);
        const std::string text = std::string(offset, 'x') + word + std::string(tail, 'x');
        const auto h = scan.find(text.data(), text.data() + text.size());
        ASSERT_EQ(h.at - text.data(), static_cast<std::ptrdiff_t>(offset)) << word << " " << tail;
        EXPECT_EQ(h.word, w) << word;
        // Cut one byte short, it is not there.
        const char* short_end = text.data() + offset + word.size() - 1;
        EXPECT_EQ(scan.find(text.data(), short_end).at, short_end) << word;
      }
    }
  }
}

TEST(trigger_scan, agrees_with_the_byte_loop_on_random_text) {
  const auto words = default_words();
  const trigger_scan scan(words);
  std::mt19937 rng(5);
  // Letters of the words, their neighbours in the nibble tables, and some
  // bytes that fold to them (\r to '-', \x1a to ':').
  const std::string alphabet = "pasword:/-begnkyhtcrdilzPASWORDKEY \t\r\n\x1a\x0f@=_x\x80\xff";
  for (int round = 0; round < 200; ++round) {
    std::string text;
    const std::size_t size = rng() % 3000;
    while (text.size() < size) {
      if (rng() % 8 == 0) {
        text += random_case(words[rng() % words.size()], rng);
      } else {
        text += alphabet[rng() % alphabet.size()];
      }
    }
    EXPECT_EQ(hits(scan, text, false), hits(scan, text, true)) << round;
  }
}

TEST(trigger_scan, more_words_than_buckets_and_the_lowest_index_first) {
  std::vector<std::string> words;
  for (int i = 0; i < 20; ++i) words.push_back("w" + std::to_string(i * 7) + "z");
  words.push_back("passwd");
  words.push_back("pass");  // starts where "passwd" does: the lower index wins
  const trigger_scan scan(words);
  for (std::size_t w = 0; w < words.size(); ++w) {
    const std::string text = std::string(37, '.') + words[w] + std::string(37, '.');
    const auto h = scan.find(text.data(), text.data() + text.size());
    EXPECT_EQ(h.at - text.data(), 37) << words[w];
    EXPECT_EQ(h.word, w) << words[w];
  }
  const std::string text = std::string(40, '.') + "PASSword" + std::string(40, '.');
  EXPECT_EQ(scan.find(text.data(), text.data() + text.size()).word, words.size() - 1);
}

TEST(trigger_scan, bytes_folded_into_a_word_are_not_hits) {
  const trigger_scan scan(default_words());
  // | 0x20 makes "\r\r\r\r\r" look like "-----" and "\x1a\x0f\x0f" like "://".
  const std::string text =
      std::string(64, '\r') + "BEGIN" + std::string(64, '\x1a') + "\x0f\x0f" + std::string(64, '`');
  EXPECT_EQ(scan.find(text.data(), text.data() + text.size()).at, text.data() + text.size());
}

}  // namespace
}  // namespace valise::agent::redact::detail
