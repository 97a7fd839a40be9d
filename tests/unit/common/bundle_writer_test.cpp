// Bundles written from real files and read back through memory streams: every
// byte kept, every problem met while collecting listed in the manifest.
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "bundle_fixture.hpp"

namespace valise::common::test {
namespace {

std::map<std::string, manifest_item> by_path(const manifest& m) {
  std::map<std::string, manifest_item> items;
  for (const auto& item : m.items) items[item.path] = item;
  return items;
}

TEST_F(bundle_test, round_trip_keeps_every_byte_and_lists_problems) {
  // Larger than several 1 MiB read blocks, and not block-aligned.
  std::string big(3 * 1024 * 1024 + 17, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 7919) >> 3);
  write_file("src/logs/a.log", "alpha\n");
  write_file("src/logs/empty", "");
  write_file("src/logs/deep/er/big.bin", big);
  fs::create_symlink("/etc/passwd", dir_ / "src/logs/link");
  ASSERT_EQ(::mkfifo((dir_ / "src/logs/fifo").c_str(), 0600), 0);
  const int sock = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const auto sock_path = (dir_ / "src/logs/sock").string();
  std::strncpy(addr.sun_path, sock_path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);

  crypto::memory_sink sink;
  std::uint64_t progress = 0;
  auto w = bundle_writer::create(sink, {.progress = [&](std::uint64_t n) {
                                   EXPECT_GE(n, progress);
                                   progress = n;
                                 }});
  ASSERT_TRUE(w);
  ASSERT_TRUE(w->add_path(dir_ / "src/logs", "logs"));
  ASSERT_TRUE(w->add_bytes("facts.json", as_bytes("{}"), "facts"));
  w->add_failure("cmd/out", "command: x", "timed out");
  EXPECT_EQ(w->add_path(dir_ / "src/logs/a.log", "logs/a.log").error(),
            bundle_errc::duplicate_path);
  EXPECT_EQ(w->add_bytes("facts.json", as_bytes("{}"), "again").error(),
            bundle_errc::duplicate_path);
  auto m = w->finish({.ticket = "T-9"});
  ::close(sock);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(progress, big.size() + 6);
  EXPECT_EQ(m->ticket, "T-9");
  EXPECT_EQ(m->bundle_id.size(), 36u);
  EXPECT_FALSE(m->created_at.empty());

  auto items = by_path(*m);
  EXPECT_EQ(items["logs/deep/er/big.bin"].sha256, sha256_hex(big));
  EXPECT_EQ(items["logs/deep/er/big.bin"].size, big.size());
  EXPECT_EQ(items["logs/empty"].sha256, sha256_hex(""));
  EXPECT_EQ(items["logs/a.log"].source, (dir_ / "src/logs/a.log").string());
  EXPECT_EQ(items["logs/link"].error, "symbolic link, not followed");
  EXPECT_EQ(items["logs/fifo"].error, "FIFO, skipped");
  EXPECT_EQ(items["logs/sock"].error, "socket, skipped");
  EXPECT_TRUE(items["logs/sock"].sha256.empty());
  EXPECT_EQ(items["cmd/out"].error, "timed out");

  crypto::memory_source in(sink.data());
  auto extracted = extract_bundle(in, out());
  ASSERT_TRUE(extracted) << extracted.error().message();
  EXPECT_EQ(to_json(*extracted), to_json(*m));
  EXPECT_EQ(read_file(out() / "logs/deep/er/big.bin"), big);
  EXPECT_EQ(read_file(out() / "logs/a.log"), "alpha\n");
  EXPECT_EQ(read_file(out() / "facts.json"), "{}");
  EXPECT_TRUE(fs::is_regular_file(out() / "logs/empty"));
  EXPECT_FALSE(fs::exists(fs::symlink_status(out() / "logs/link")));
  EXPECT_FALSE(fs::exists(fs::symlink_status(out() / "logs/fifo")));
  // The record is left beside the files, as stored.
  auto record = parse_manifest(read_file(out() / "manifest.json"));
  ASSERT_TRUE(record) << "no manifest.json beside the files";
  EXPECT_EQ(to_json(*record), to_json(*m));
  EXPECT_EQ(fs::status(out()).permissions() & fs::perms::all, fs::perms::owner_all);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_ / "work"), {}), 1) << "no temporary left";
}

TEST_F(bundle_test, verify_reads_everything_and_writes_nothing) {
  write_file("src/a", "alpha");
  manifest written;
  const auto data = pack(dir_ / "src", "src", &written);
  crypto::memory_source in(data);
  std::uint64_t progress = 0;
  auto m = verify_bundle(in, {.progress = [&](std::uint64_t n) { progress = n; }});
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(to_json(*m), to_json(written));
  EXPECT_GE(progress, 5u);
  EXPECT_TRUE(fs::is_empty(dir_ / "work"));
}

TEST_F(bundle_test, single_threaded_compression_reads_back_the_same) {
  write_file("src/a", std::string(200000, 'a'));
  crypto::memory_sink sink;
  auto w = bundle_writer::create(sink, {.zstd_level = 1, .zstd_threads = 0});
  ASSERT_TRUE(w);
  ASSERT_TRUE(w->add_path(dir_ / "src/a", "a"));
  ASSERT_TRUE(w->finish({}));
  crypto::memory_source in(sink.data());
  ASSERT_TRUE(extract_bundle(in, out()));
  EXPECT_EQ(read_file(out() / "a"), std::string(200000, 'a'));
}

TEST_F(bundle_test, extraction_keeps_file_mtimes) {
  write_file("src/old.log", "old");
  const auto when = fs::file_time_type::clock::now() - std::chrono::hours(24 * 400);
  fs::last_write_time(dir_ / "src/old.log", when);
  const auto data = pack(dir_ / "src", "src");
  crypto::memory_source in(data);
  ASSERT_TRUE(extract_bundle(in, out()));
  const auto kept = fs::last_write_time(out() / "src/old.log");
  EXPECT_EQ(std::chrono::floor<std::chrono::seconds>(kept),
            std::chrono::floor<std::chrono::seconds>(when));
}

TEST_F(bundle_test, destination_may_end_with_a_slash) {
  write_file("src/a", "alpha");
  const auto data = pack(dir_ / "src/a", "a");
  crypto::memory_source in(data);
  auto m = extract_bundle(in, out().string() + "/");
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(read_file(out() / "a"), "alpha");
}

TEST_F(bundle_test, missing_source_is_listed_not_fatal) {
  manifest m;
  const auto data = pack(dir_ / "nope", "var/log/nope", &m);
  ASSERT_EQ(m.items.size(), 1u);
  EXPECT_EQ(m.items[0].path, "var/log/nope");
  EXPECT_EQ(m.items[0].error, "no such file or directory");
  EXPECT_TRUE(m.items[0].sha256.empty());
  crypto::memory_source in(data);
  EXPECT_TRUE(verify_bundle(in));
}

TEST_F(bundle_test, writer_refuses_unsafe_archive_paths) {
  write_file("src/a", "alpha");
  crypto::memory_sink sink;
  auto w = bundle_writer::create(sink);
  ASSERT_TRUE(w);
  for (const char* path : {"", "/etc/a", "../a", "a/../../b", "a//b", "./a", "a/", "manifest.json",
                           "manifest.json/a"}) {
    EXPECT_EQ(w->add_path(dir_ / "src/a", path).error(), bundle_errc::unsafe_path) << path;
    EXPECT_EQ(w->add_bytes(path, as_bytes("x"), "x").error(), bundle_errc::unsafe_path) << path;
  }
  // A missing source under an unsafe path is refused too, not listed.
  EXPECT_EQ(w->add_path(dir_ / "nope", "../nope").error(), bundle_errc::unsafe_path);
  auto m = w->finish({});
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->items.empty());
}

// A file whose size shrinks under the reader: /sys attributes claim 4096 bytes
// and hold fewer. The archive stays valid, zero-filled to the declared size.
TEST_F(bundle_test, file_shrinking_while_read_is_padded_and_flagged) {
  const fs::path attribute = "/sys/kernel/mm/transparent_hugepage/enabled";
  std::error_code ec;
  const auto declared = fs::file_size(attribute, ec);
  const auto content = read_file(attribute);
  if (ec || content.empty() || content.size() >= declared) {
    GTEST_SKIP() << attribute << " does not shrink on this system";
  }
  manifest m;
  const auto data = pack(attribute, "thp", &m);
  ASSERT_EQ(m.items.size(), 1u);
  EXPECT_TRUE(m.items[0].truncated);
  EXPECT_NE(m.items[0].error.find("shrank"), std::string::npos) << m.items[0].error;
  EXPECT_EQ(m.items[0].size, declared);
  crypto::memory_source in(data);
  ASSERT_TRUE(extract_bundle(in, out()));
  const auto stored = read_file(out() / "thp");
  EXPECT_EQ(stored, content + std::string(declared - content.size(), '\0'));
}

// /proc files claim size 0 and hold more: the header's size wins.
TEST_F(bundle_test, file_growing_while_read_keeps_the_declared_size) {
  manifest m;
  const auto data = pack("/proc/self/status", "status", &m);
  ASSERT_EQ(m.items.size(), 1u);
  EXPECT_TRUE(m.items[0].truncated);
  EXPECT_NE(m.items[0].error.find("grew"), std::string::npos) << m.items[0].error;
  EXPECT_EQ(m.items[0].size, 0u);
  crypto::memory_source in(data);
  EXPECT_TRUE(verify_bundle(in));
}

// The output failing (disk full) is an error of the writer, with its errno,
// whether zstd runs inline or on its workers.
TEST_F(bundle_test, sink_errors_are_returned) {
  class full_sink final : public crypto::byte_sink {
   public:
    result<void> write(crypto::bytes) override {
      return std::make_error_code(std::errc::no_space_on_device);
    }
  };
  std::string noise(4 << 20, '\0');
  for (std::size_t i = 0; i < noise.size(); ++i) noise[i] = static_cast<char>((i * i) >> 5);
  write_file("src/a", noise);
  for (const int threads : {0, 2}) {
    SCOPED_TRACE(threads);
    full_sink full;
    auto w = bundle_writer::create(full, {.zstd_threads = threads});
    ASSERT_TRUE(w);
    auto added = w->add_path(dir_ / "src/a", "a");
    auto finished = added ? w->finish({}) : result<manifest>(added.error());
    ASSERT_FALSE(finished);
    EXPECT_EQ(finished.error(), std::errc::no_space_on_device) << finished.error().message();
  }
}

TEST(archive_path, relative_kept_absolute_stripped_escapes_rooted) {
  EXPECT_EQ(*archive_path_for("logs/app/"), "logs/app");
  EXPECT_EQ(*archive_path_for("./logs//x.log"), "logs/x.log");
  EXPECT_EQ(*archive_path_for("/var/log/syslog"), "var/log/syslog");
  const auto up = archive_path_for("../x");
  ASSERT_TRUE(up);
  EXPECT_EQ(up->find(".."), std::string::npos);
  // The manifest's name is reserved: such paths are stored from the root.
  for (const char* reserved : {"manifest.json", "manifest.json/x.log"}) {
    const auto rooted = archive_path_for(reserved);
    ASSERT_TRUE(rooted) << reserved;
    EXPECT_EQ(*rooted, (fs::current_path() / reserved).relative_path().generic_string());
  }
}

// Names in the archive and the manifest are UTF-8 (pax headers and JSON): a
// UTF-8 name comes back exact, one with other bytes under an escaped name
// (tested below), unless that equals a UTF-8 name already stored.
TEST_F(bundle_test, a_utf8_name_is_exact_and_an_escaped_one_never_replaces_another) {
  const std::string utf8 = "\u00fcn\u00efc\u00f6de \u65e5\u672c.log";
  const std::string latin1 = "caf\xe9.log";
  write_file("src/" + utf8, "utf8");
  write_file("src/" + latin1, "latin1");
  write_file("src/caf\\xe9.log", "a literal backslash");  // what latin1 escapes to
  const auto data = pack(dir_ / "src", "src");
  crypto::memory_source in(data);
  auto m = extract_bundle(in, out());
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(read_file(out() / "src" / utf8), "utf8");
  EXPECT_EQ(read_file(out() / "src/caf\\xe9.log"), "a literal backslash");
  ASSERT_EQ(m->items.size(), 3u);
  const auto skipped = std::find_if(m->items.begin(), m->items.end(),
                                    [](const auto& item) { return !item.error.empty(); });
  ASSERT_NE(skipped, m->items.end());
  EXPECT_EQ(skipped->path, "src/caf\\xe9.log");
  EXPECT_TRUE(skipped->sha256.empty());
  EXPECT_NE(skipped->error.find("not UTF-8"), std::string::npos) << skipped->error;
}

TEST_F(bundle_test, a_name_not_in_utf8_is_stored_escaped) {
  write_file("src/caf\xe9.log", "latin1");
  manifest written;
  const auto data = pack(dir_ / "src", "src", &written);
  ASSERT_EQ(written.items.size(), 1u);
  EXPECT_EQ(written.items[0].path, "src/caf\\xe9.log");
  crypto::memory_source in(data);
  auto m = extract_bundle(in, out());
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(read_file(out() / "src/caf\\xe9.log"), "latin1");
  // The manifest is JSON, so UTF-8: the source is escaped there too.
  EXPECT_EQ(m->items[0].source, (dir_ / "src/caf\\xe9.log").string());
}

}  // namespace
}  // namespace valise::common::test
