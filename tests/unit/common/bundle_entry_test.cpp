// Streamed entries (begin_entry .. end_entry): short ones held in memory, long
// ones in zstd frames of their own and an encrypted scratch file; all read
// back by the ordinary reader and by the stock tools' way (zstd frames in a row).
#include <zstd.h>

#include <map>

#include "bundle_fixture.hpp"

namespace valise::common::test {
namespace {

std::string noise(std::size_t n, unsigned seed) {
  std::string s(n, '\0');
  std::uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (auto& c : s) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    c = static_cast<char>(x);
  }
  return s;
}

// Log-like text: compresses, as a collected log does.
std::string text(std::size_t n) {
  std::string s;
  for (std::size_t i = 0; s.size() < n; ++i)
    s += "line " + std::to_string(i * 7919 % 100003) + "\n";
  s.resize(n);
  return s;
}

// Every other piece is handed over in a string, as the agent's redactor does:
// both ways must store the same bytes.
result<void> write_in_pieces(crypto::byte_sink& sink, std::string_view data, std::size_t piece) {
  std::string owned;
  for (std::size_t at = 0, i = 0; at < data.size(); at += piece, ++i) {
    const auto part = data.substr(at, piece);
    if (i % 2 == 0) {
      if (auto r = sink.write(as_bytes(part)); !r) return r;
      continue;
    }
    owned.assign(part);
    if (auto r = sink.write_owned(owned); !r) return r;
    EXPECT_TRUE(owned.empty()) << "write_owned leaves the string empty";
  }
  return {};
}

// Both ways of compressing (writer_options::frame_per_chunk).
class bundle_entry_test : public bundle_test, public testing::WithParamInterface<bool> {
 protected:
  // Writes `entries` (path -> content) as streamed entries with small buffers,
  // between two ordinary ones, and returns the bundle.
  std::vector<std::uint8_t> bundle(const std::map<std::string, std::string>& entries,
                                   manifest* written, writer_options options) {
    crypto::memory_sink sink;
    auto w = bundle_writer::create(sink, std::move(options));
    EXPECT_TRUE(w);
    EXPECT_TRUE(w->add_bytes("first", as_bytes("1"), "bytes"));
    for (const auto& [path, content] : entries) {
      auto entry = w->begin_entry(path, "source of " + path, 1700000000);
      EXPECT_TRUE(entry);
      EXPECT_TRUE(write_in_pieces(**entry, content, 100000));
      EXPECT_EQ(w->entry_size(), content.size());
      EXPECT_TRUE(w->end_entry({.error = path == "b" ? "grew" : "",
                                .truncated = path == "b",
                                .redactions_by_rule = {{"rule-1", 2}, {"rule-2", 3}}}));
    }
    EXPECT_TRUE(w->add_bytes("last", as_bytes("2"), "bytes"));
    auto m = w->finish({});
    EXPECT_TRUE(m);
    if (m) *written = *m;
    return sink.data();
  }

  writer_options small_buffers() {
    return {.frame_per_chunk = GetParam(),
            .scratch_dir = dir_ / "scratch",
            .entry_memory = 64 * 1024,
            .spill_memory = 32 * 1024};
  }
};

TEST_P(bundle_entry_test, short_and_long_entries_read_back_with_their_items) {
  fs::create_directories(dir_ / "scratch");
  // Empty, in memory, framed in memory, framed and spilled (noise does not
  // compress), and a size that is a multiple of the tar block.
  const std::map<std::string, std::string> entries{{"a", ""},
                                                   {"b", text(1000)},
                                                   {"c", text(3 << 20)},
                                                   {"d", noise(1 << 20, 1)},
                                                   {"e", noise(512 * 300, 2)}};
  manifest m;
  const auto data = bundle(entries, &m, small_buffers());
  crypto::memory_source in(data);
  auto extracted = extract_bundle(in, out());
  ASSERT_TRUE(extracted) << extracted.error().message();
  EXPECT_EQ(to_json(*extracted), to_json(m));
  for (const auto& [path, content] : entries) {
    EXPECT_EQ(read_file(out() / path), content) << path;
    const auto item = std::find_if(m.items.begin(), m.items.end(),
                                   [&](const manifest_item& i) { return i.path == path; });
    ASSERT_NE(item, m.items.end());
    EXPECT_EQ(item->size, content.size());
    EXPECT_EQ(item->sha256, sha256_hex(content));
    EXPECT_EQ(item->source, "source of " + path);
    EXPECT_EQ(item->redactions, 5u);
    EXPECT_EQ(item->redactions_by_rule.at("rule-2"), 3u);
  }
  EXPECT_EQ(m.redactions, 25u);
  EXPECT_EQ(m.items[2].error, "grew");
  EXPECT_TRUE(m.items[2].truncated);
  EXPECT_EQ(m.items.front().path, "first");
  EXPECT_EQ(m.items.back().path, "last");
  const auto mtime = std::chrono::file_clock::to_sys(fs::last_write_time(out() / "c"));
  EXPECT_EQ(std::chrono::floor<std::chrono::seconds>(mtime).time_since_epoch().count(), 1700000000)
      << "entries keep the mtime given";
  EXPECT_TRUE(fs::is_empty(dir_ / "scratch")) << "the scratch file has no name";
}

TEST_P(bundle_entry_test, plain_zstd_reads_the_frames_as_one_tar) {
  fs::create_directories(dir_ / "scratch");
  manifest m;
  const auto data = bundle({{"c", text(1 << 20)}}, &m, small_buffers());
  std::string tar(64 << 20, '\0');
  const auto n = ZSTD_decompress(tar.data(), tar.size(), data.data(), data.size());
  ASSERT_FALSE(ZSTD_isError(n)) << ZSTD_getErrorName(n);
  tar.resize(n);
  EXPECT_EQ(tar.size() % 512, 0u);
  EXPECT_NE(tar.find(text(1 << 20)), std::string::npos);
}

TEST_P(bundle_entry_test, spilled_bytes_are_ciphertext) {
  // Noise that cannot compress goes to the scratch file almost as it is, if
  // not encrypted: look for it there while the entry is open.
  const std::string secret = noise(4 << 20, 7);
  crypto::memory_sink sink;
  auto options = small_buffers();
  options.zstd_threads = 0;  // compressed output comes out as input goes in
  auto w = bundle_writer::create(sink, options);
  fs::create_directories(dir_ / "scratch");
  ASSERT_TRUE(w);
  auto entry = w->begin_entry("s", "src", 0);
  ASSERT_TRUE(entry);
  ASSERT_TRUE(write_in_pieces(**entry, secret, 1 << 20));
  bool looked = false;
  for (const auto& fd : fs::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    const auto target = fs::read_symlink(fd.path(), ec).string();
    if (ec || target.find((dir_ / "scratch").string()) != 0) continue;
    const auto content = read_file(fd.path());
    EXPECT_GT(content.size(), 3u << 20);
    EXPECT_EQ(content.find(secret.substr(2 << 20, 64)), std::string::npos);
    looked = true;
  }
  EXPECT_TRUE(looked) << "no scratch file open";
  ASSERT_TRUE(w->end_entry({}));
  ASSERT_TRUE(w->finish({}));
  crypto::memory_source in(sink.data());
  ASSERT_TRUE(extract_bundle(in, out()));
  EXPECT_EQ(read_file(out() / "s"), secret);
}

TEST_P(bundle_entry_test, abandoned_entries_leave_only_their_item) {
  fs::create_directories(dir_ / "scratch");
  crypto::memory_sink sink;
  auto w = bundle_writer::create(sink, small_buffers());
  ASSERT_TRUE(w);
  for (const std::size_t size : {std::size_t{100}, std::size_t{1} << 20}) {
    const auto path = "gone-" + std::to_string(size);
    auto entry = w->begin_entry(path, "src", 0);
    ASSERT_TRUE(entry);
    ASSERT_TRUE((*entry)->write(as_bytes(text(size))));
    EXPECT_EQ(w->add_bytes("x", as_bytes("x"), "x").error(), std::errc::operation_in_progress);
    ASSERT_TRUE(w->abandon_entry("vanished"));
  }
  // A long entry ended after them: what they held aside is dropped, not its.
  auto stored = w->begin_entry("stored", "src", 0);
  ASSERT_TRUE(stored);
  ASSERT_TRUE(write_in_pieces(**stored, text(1 << 20), 100000));
  ASSERT_TRUE(w->end_entry({}));
  auto open = w->begin_entry("open", "src", 0);
  ASSERT_TRUE(open);
  ASSERT_TRUE((*open)->write(as_bytes(text(200000))));
  EXPECT_EQ(w->begin_entry("again", "src", 0).error(), std::errc::operation_in_progress);
  auto m = w->finish({});  // the open entry is abandoned, not stored
  ASSERT_TRUE(m) << m.error().message();
  ASSERT_EQ(m->items.size(), 4u);
  EXPECT_EQ(m->items[0].error, "vanished");
  EXPECT_TRUE(m->items[0].sha256.empty());
  EXPECT_EQ(m->items[3].error, "not finished");
  crypto::memory_source in(sink.data());
  auto read = extract_bundle(in, out());
  ASSERT_TRUE(read) << read.error().message();
  EXPECT_EQ(read_file(out() / "stored"), text(1 << 20));
  // The stored entry and the manifest beside it.
  EXPECT_EQ(std::distance(fs::directory_iterator(out()), fs::directory_iterator()), 2);
  EXPECT_TRUE(fs::is_regular_file(out() / "manifest.json"));
}

TEST_P(bundle_entry_test, restarted_entries_keep_only_the_last_attempt_and_notes_are_kept) {
  fs::create_directories(dir_ / "scratch");
  crypto::memory_sink sink;
  auto w = bundle_writer::create(sink, small_buffers());
  ASSERT_TRUE(w);
  for (const std::size_t first : {std::size_t{10}, std::size_t{2} << 20}) {
    const auto path = "r" + std::to_string(first);
    auto entry = w->begin_entry(path, "src", 0);
    ASSERT_TRUE(entry);
    ASSERT_TRUE((*entry)->write(as_bytes(noise(first, 3))));
    ASSERT_TRUE(w->restart_entry());
    EXPECT_EQ(w->entry_size(), 0u);
    ASSERT_TRUE((*entry)->write(as_bytes(text(300000))));
    ASSERT_TRUE(w->end_entry({}));
  }
  w->add_note("a note");
  auto m = w->finish({});
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->notes, std::vector<std::string>{"a note"});
  EXPECT_EQ(m->items[0].sha256, sha256_hex(text(300000)));
  crypto::memory_source in(sink.data());
  auto read = extract_bundle(in, out());
  ASSERT_TRUE(read) << read.error().message();
  EXPECT_EQ(read_file(out() / "r2097152"), text(300000));
  EXPECT_EQ(read->notes, m->notes);
}

TEST_P(bundle_entry_test, paths_are_checked_as_for_other_entries) {
  crypto::memory_sink sink;
  auto w = bundle_writer::create(sink, small_buffers());
  ASSERT_TRUE(w);
  EXPECT_EQ(w->begin_entry("../x", "src", 0).error(), bundle_errc::unsafe_path);
  ASSERT_TRUE(w->add_bytes("x", as_bytes("x"), "x"));
  EXPECT_EQ(w->begin_entry("x", "src", 0).error(), bundle_errc::duplicate_path);
  EXPECT_FALSE(w->end_entry({})) << "no entry open";
}

INSTANTIATE_TEST_SUITE_P(frames, bundle_entry_test, testing::Bool(),
                         [](const auto& p) { return p.param ? "frame_per_chunk" : "one_frame"; });

}  // namespace
}  // namespace valise::common::test
