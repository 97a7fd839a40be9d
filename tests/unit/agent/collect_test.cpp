// collect() over real files, a real journal file, real commands: each bundle
// is encrypted, decrypted and read back, and the manifest checked against what
// is really in it. The secrets planted in the sources must not appear anywhere
// in the decrypted archive.
#include "collect/collect.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "redact/redactor.hpp"
#include "valise/crypto/age.hpp"

namespace valise::agent {
namespace {

namespace fs = std::filesystem;
using std::chrono::hours;
using clock = std::chrono::system_clock;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

class collect_test : public testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() / ("valise-collect-" + std::to_string(::getpid()) + "-" +
                                     testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "src");
    p_.name = "test";
    p_.facts = false;
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& rel, const std::string& content) {
    const auto path = dir_ / "src" / rel;
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  // Collects p_ into an encrypted bundle, decrypts it into out/, returns the
  // manifest; raw_ is the whole decrypted tar (zstd decompressed).
  common::manifest run(collection_window w = {}) {
    const auto id = crypto::x25519_identity::generate();
    const auto recipient = id.to_recipient();
    const crypto::recipient* recipients[] = {&recipient};
    crypto::memory_sink file;
    auto enc = crypto::encryptor::create(recipients, file);
    EXPECT_TRUE(enc);
    fs::create_directories(dir_ / "scratch");
    auto writer = common::bundle_writer::create(
        *enc,
        {.scratch_dir = dir_ / "scratch", .entry_memory = 64 * 1024, .spill_memory = 64 * 1024});
    EXPECT_TRUE(writer);
    std::uint64_t progress = 0;
    auto r = collect(
        p_, w, *writer,
        {.scratch_dir = dir_ / "scratch", .progress = [&](std::uint64_t n) { progress = n; }});
    EXPECT_TRUE(r) << r.error().message();
    auto m = writer->finish({.profile = p_.name});
    EXPECT_TRUE(m) << m.error().message();
    EXPECT_TRUE(enc->finish());
    const crypto::identity* ids[] = {&id};
    crypto::memory_source in(file.data());
    auto dec = crypto::decryptor::open(in, ids);
    EXPECT_TRUE(dec);
    std::vector<std::uint8_t> plain;
    std::uint8_t buf[65536];
    for (;;) {
      auto n = dec->read(buf);
      EXPECT_TRUE(n);
      if (!n || *n == 0) break;
      plain.insert(plain.end(), buf, buf + *n);
    }
    const auto zst = dir_ / "bundle.tar.zst";
    std::ofstream(zst, std::ios::binary)
        .write(reinterpret_cast<const char*>(plain.data()),
               static_cast<std::streamsize>(plain.size()));
    EXPECT_EQ(
        std::system(
            ("zstd -q -d -f " + zst.string() + " -o " + (dir_ / "bundle.tar").string()).c_str()),
        0);
    raw_ = read_file(dir_ / "bundle.tar");
    crypto::memory_source again(plain);
    fs::remove_all(dir_ / "out");
    auto extracted = common::extract_bundle(again, dir_ / "out");
    EXPECT_TRUE(extracted) << extracted.error().message();
    EXPECT_EQ(progress, m ? [&] {
      std::uint64_t total = 0;
      for (const auto& i : m->items) total += i.sha256.empty() ? 0 : i.size;
      return total;
    }() : 0) << "progress ends at the bytes collected";
    return m ? *m : common::manifest{};
  }

  const common::manifest_item* item(const common::manifest& m, const std::string& path) {
    for (const auto& i : m.items) {
      if (i.path == path) return &i;
    }
    ADD_FAILURE() << "no item " << path;
    return nullptr;
  }

  std::string stored(const std::string& path) { return read_file(dir_ / "out" / path); }
  std::string archive(const fs::path& source) { return "files" + source.string(); }

  fs::path dir_;
  profile p_;
  std::string raw_;
};

TEST_F(collect_test, files_globs_rotated_and_compressed_logs_redacted) {
  const auto log = write("log/app.log", "start\nlogin password=hunter2 ok\n");
  write("log/app.log.1", "older Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.rotated\n");
  write("log/app.log.2", "oldest url=https://u:Pa55word@db/x\n");
  ASSERT_EQ(std::system(("gzip -f " + (dir_ / "src/log/app.log.2").string()).c_str()), 0);
  write("log/skip.tmp", "excluded\n");
  write("log/sub/deep.log",
        "-----BEGIN PRIVATE KEY-----\nMIIEsecretkeybody\n-----END PRIVATE KEY-----\n");
  p_.files = {(dir_ / "src/log/app.log*").string(), (dir_ / "src/log/*.tmp").string(),
              (dir_ / "src/log/sub").string(), (dir_ / "src/none/*.log").string()};
  p_.exclude = {"*.tmp"};
  const auto m = run();
  EXPECT_EQ(stored(archive(log)), "start\nlogin password=[REDACTED] ok\n");
  EXPECT_EQ(stored(archive(dir_ / "src/log/app.log.1")),
            "older Authorization: Bearer [REDACTED]\n");
  // Decompressed, under its name without .gz.
  EXPECT_EQ(stored(archive(dir_ / "src/log/app.log.2")), "oldest url=https://u:[REDACTED]@db/x\n");
  EXPECT_FALSE(fs::exists(dir_ / "out" / archive(dir_ / "src/log/app.log.2.gz")));
  EXPECT_EQ(stored(archive(dir_ / "src/log/sub/deep.log")),
            "-----BEGIN PRIVATE KEY-----\n[REDACTED]\n-----END PRIVATE KEY-----\n");
  EXPECT_FALSE(fs::exists(dir_ / "out" / archive(dir_ / "src/log/skip.tmp")));
  const auto* i = item(m, archive(log));
  ASSERT_TRUE(i);
  EXPECT_EQ(i->source, log.string());
  EXPECT_EQ(i->redactions, 1u);
  EXPECT_EQ(i->redactions_by_rule.at(redact::secret_assignment), 1u);
  EXPECT_EQ(
      item(m, archive(dir_ / "src/log/sub/deep.log"))->redactions_by_rule.at(redact::private_key),
      1u);
  EXPECT_EQ(m.redactions, 4u);
  ASSERT_FALSE(m.notes.empty());
  EXPECT_NE(m.notes[0].find("matched nothing"), std::string::npos);
  for (const char* secret : {"hunter2", "Pa55word", "eyJhbGciOiJIUzI1NiJ9.rotated", "MIIEsecret"}) {
    EXPECT_EQ(raw_.find(secret), std::string::npos) << secret << " is in the bundle";
  }
}

TEST_F(collect_test, gzip_members_trailing_bytes_truncation_and_a_plain_file_named_gz) {
  const auto gzip = [&](const std::string& rel, const std::string& text) {
    write(rel, text);
    EXPECT_EQ(std::system(("gzip -f " + (dir_ / "src" / rel).string()).c_str()), 0);
    return read_file(dir_ / "src" / (rel + ".gz"));
  };
  const auto one = gzip("one", "part one password=first\n");
  const auto two = gzip("two", "part two password=second\n");
  write("multi.log.gz", one + two);  // gzip -d reads both members
  write("padded.log.gz", one + std::string(100, '\0'));
  std::string big;
  for (int i = 0; big.size() < 3000000; ++i)
    big += std::to_string(i * 7919) + " token=t" + std::to_string(i) + "\n";
  const auto whole = gzip("big", big);
  write("cut.log.gz", whole.substr(0, whole.size() / 2));
  write("plain.log.gz", "not compressed secret=plain\n");
  auto bad_crc = gzip("crc", "checked password=crc\n");
  bad_crc[bad_crc.size() - 8] ^= 0x55;  // the member's CRC-32
  write("crc.log.gz", bad_crc);
  fs::remove(dir_ / "src/crc.gz");
  fs::remove(dir_ / "src/one.gz");
  fs::remove(dir_ / "src/two.gz");
  fs::remove(dir_ / "src/big.gz");
  p_.files = {(dir_ / "src/*.gz").string()};
  const auto m = run();
  EXPECT_EQ(stored(archive(dir_ / "src/multi.log")),
            "part one password=[REDACTED]\npart two password=[REDACTED]\n");
  EXPECT_EQ(stored(archive(dir_ / "src/padded.log")), "part one password=[REDACTED]\n");
  EXPECT_EQ(item(m, archive(dir_ / "src/padded.log"))->error, "");
  EXPECT_EQ(stored(archive(dir_ / "src/plain.log")), "not compressed secret=[REDACTED]\n");
  // Half the file: what could be inflated is stored, and the item says so.
  const auto cut = stored(archive(dir_ / "src/cut.log"));
  EXPECT_GT(cut.size(), 100000u);
  EXPECT_EQ(cut.rfind("0 token=[REDACTED]\n", 0), 0u);
  EXPECT_NE(item(m, archive(dir_ / "src/cut.log"))->error.find("decompression failed after"),
            std::string::npos);
  // A bad CRC: everything inflated is stored (redacted), and the item says so.
  EXPECT_EQ(stored(archive(dir_ / "src/crc.log")), "checked password=[REDACTED]\n");
  EXPECT_NE(item(m, archive(dir_ / "src/crc.log"))->error.find("CRC"), std::string::npos);
  for (const char* secret : {"first", "second", "=plain", "=t1\n", "=crc"})
    EXPECT_EQ(raw_.find(secret), std::string::npos) << secret << " is in the bundle";
}

// xz and zstd through libarchive. A stream whose decoder would fill more
// memory than the agent allows is refused before it is read, and said so; a
// large dictionary or window over little data is not.
TEST_F(collect_test, xz_and_zstd_logs_and_windows_too_large_to_decompress) {
  const auto compress = [&](const std::string& rel, const std::string& command,
                            const std::string& text) {
    write(rel, text);
    EXPECT_EQ(std::system((command + " " + (dir_ / "src" / rel).string()).c_str()), 0) << command;
  };
  const auto line = [](const std::string& name) { return "line one password=" + name + "\n"; };
  compress("six.log.1", "xz -6 -f", line("six"));
  compress("nine.log.1", "xz -9 -f", line("nine"));
  compress("three.log.1", "zstd -q --rm -3 -f", line("three"));
  compress("long.log.1", "zstd -q --rm --long=27 -f", line("long"));
  // 40 MiB under a 64 MiB dictionary: it would fill 40 MiB.
  std::string big;
  while (big.size() < (40u << 20)) big += "2026-12-01T10:00:00 host app: request ok password=big\n";
  compress("big.log.1", "xz --lzma2=preset=0,dict=64MiB -f", big);
  // Through a pipe, zstd declares the whole window and no size.
  write("piped.log.1", line("piped"));
  const auto piped = (dir_ / "src/piped.log.1").string();
  ASSERT_EQ(
      std::system(
          ("zstd -q --long=27 -c < " + piped + " > " + piped + ".zst && rm " + piped).c_str()),
      0);
  p_.files = {(dir_ / "src/*.log.1.*").string()};
  const auto m = run();
  for (const char* name : {"six", "nine", "three", "long"}) {
    EXPECT_EQ(stored(archive(dir_ / "src" / (std::string(name) + ".log.1"))),
              "line one password=[REDACTED]\n")
        << name;
  }
  const struct {
    const char* path;
    const char* error;
  } refused[] = {
      {"src/big.log.1.xz",
       "cannot decompress: xz with a 64 MiB dictionary needs more memory than the agent allows "
       "(32 MiB); recompress it with xz -8 or lower, or send it by hand"},
      {"src/piped.log.1.zst",
       "cannot decompress: zstd with a 128 MiB window needs more memory than the agent allows "
       "(32 MiB); recompress it with zstd without --long or --ultra, or send it by hand"},
  };
  for (const auto& r : refused) {
    const common::manifest_item* found = nullptr;
    for (const auto& i : m.items)
      if (i.source == (dir_ / r.path).string()) found = &i;
    ASSERT_TRUE(found) << r.path;
    EXPECT_EQ(found->error, r.error);
    EXPECT_EQ(found->size, 0u) << r.path;  // an empty entry, with the error
  }
  for (const char* secret : {"=six", "=nine", "=three", "=long", "=big", "=piped"})
    EXPECT_EQ(raw_.find(secret), std::string::npos) << secret << " is in the bundle";
}

TEST_F(collect_test, per_file_cap_keeps_the_newest_lines) {
  std::string text, gz;
  for (int i = 0; i < 5000; ++i)
    text += "line " + std::to_string(i) + " password=p" + std::to_string(i) + "\n";
  const auto plain = write("big.log", text);
  write("big.log.1", text);
  ASSERT_EQ(std::system(("gzip -f " + (dir_ / "src/big.log.1").string()).c_str()), 0);
  p_.files = {(dir_ / "src/big.log*").string()};
  p_.max_file_bytes = 10000;
  const auto m = run();
  for (const auto& path : {archive(plain), archive(dir_ / "src/big.log.1")}) {
    const auto got = stored(path);
    // The cap counts source bytes; "[REDACTED]" is longer than the secrets.
    EXPECT_LE(got.size(), 15000u) << path;
    EXPECT_GT(got.size(), 8000u) << path;
    EXPECT_EQ(got.find("line 1 "), std::string::npos) << path;
    EXPECT_EQ(got.rfind("line ", 0), 0u) << "starts at a line: " << got.substr(0, 30);
    EXPECT_NE(got.find("line 4999 password=[REDACTED]\n"), std::string::npos) << path;
    const auto* i = item(m, path);
    ASSERT_TRUE(i);
    EXPECT_TRUE(i->truncated);
    EXPECT_NE(i->error.find("max_file_bytes"), std::string::npos);
    EXPECT_EQ(i->size, got.size());
  }
}

TEST_F(collect_test, time_window_and_unreadable_sources_are_recorded) {
  const auto old_file = write("old.log", "old\n");
  fs::last_write_time(old_file, fs::file_time_type::clock::now() - hours(24 * 30));
  const auto fresh = write("fresh.log", "fresh\n");
  fs::create_symlink(dir_ / "src/gone", dir_ / "src/vanished.log");
  ASSERT_EQ(::mkfifo((dir_ / "src/pipe.log").c_str(), 0600), 0);
  p_.files = {(dir_ / "src/*.log").string(), "/proc/sys/vm/compact_memory"};
  const auto m = run({.since = clock::now() - hours(24)});
  EXPECT_EQ(stored(archive(fresh)), "fresh\n");
  EXPECT_FALSE(fs::exists(dir_ / "out" / archive(old_file)));
  EXPECT_EQ(item(m, archive(dir_ / "src/vanished.log"))->error, "vanished before it was read");
  EXPECT_EQ(item(m, archive(dir_ / "src/pipe.log"))->error, "not a regular file, skipped");
  // Root cannot read it either: a real permission denied.
  EXPECT_EQ(item(m, "files/proc/sys/vm/compact_memory")->error, "permission denied");
  bool noted = false;
  for (const auto& note : m.notes)
    noted = noted || note.find("1 files outside the time window") == 0;
  EXPECT_TRUE(noted);
}

TEST_F(collect_test, bundle_cap_stops_cleanly_and_says_so) {
  for (int i = 0; i < 4; ++i)
    write("f" + std::to_string(i) + ".log", std::string(3000, 'a' + i) + "\n");
  p_.files = {(dir_ / "src/*.log").string()};
  p_.commands = {{"echo", {"/bin/echo", "hi"}}};
  p_.max_bundle_bytes = 7000;
  const auto m = run();
  std::uint64_t stored_bytes = 0;
  int skipped = 0;
  for (const auto& i : m.items) {
    if (!i.sha256.empty()) stored_bytes += i.size;
    if (i.error.find("not collected: bundle cap of 7000 bytes reached") == 0) ++skipped;
  }
  EXPECT_EQ(stored_bytes, 7000u);
  EXPECT_EQ(skipped, 2) << "f3.log and the command";
  EXPECT_TRUE(item(m, archive(dir_ / "src/f2.log"))->truncated);
  ASSERT_FALSE(m.notes.empty());
  EXPECT_NE(m.notes.back().find("bundle cap of 7000 bytes reached: 2 sources"), std::string::npos);
}

TEST_F(collect_test, commands_without_a_shell_with_timeout_and_caps) {
  p_.commands = {{"echo", {"/bin/echo", "token=abc $HOME"}},
                 {"env", {"env"}},
                 {"fails", {"/bin/sh", "-c", "echo out; echo err >&2; exit 3"}},
                 {"slow", {"/bin/sleep", "10"}, std::chrono::seconds(1)},
                 {"missing", {"/nonexistent/tool"}},
                 {"chatty", {"/usr/bin/yes"}, std::chrono::seconds(1)}};
  p_.command_output_bytes = 4096;
  const auto started = std::chrono::steady_clock::now();
  const auto m = run();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(8));
  EXPECT_EQ(stored("commands/echo.txt"), "token=[REDACTED] $HOME\n") << "no shell expands $HOME";
  EXPECT_EQ(stored("commands/env.txt"), "PATH=/usr/sbin:/usr/bin:/sbin:/bin\nLANG=C.UTF-8\n");
  EXPECT_EQ(stored("commands/fails.txt"), "out\n\n--- stderr ---\nerr\n");
  EXPECT_EQ(item(m, "commands/fails.txt")->error, "exit status 3");
  EXPECT_EQ(item(m, "commands/fails.txt")->source,
            "command: /bin/sh -c echo out; echo err >&2; exit 3");
  EXPECT_EQ(item(m, "commands/slow.txt")->error, "timed out after 1 s (terminated)");
  EXPECT_EQ(item(m, "commands/missing.txt")->error, "command not found: /nonexistent/tool");
  EXPECT_TRUE(item(m, "commands/missing.txt")->sha256.empty());
  EXPECT_EQ(stored("commands/chatty.txt").size(), 4096u);
  EXPECT_TRUE(item(m, "commands/chatty.txt")->truncated);
  EXPECT_NE(item(m, "commands/chatty.txt")->error.find("output cut at 4096 bytes"),
            std::string::npos);
}

// A real journal file, written by systemd-journal-remote from export-format
// entries (day after 2026-01-01, second of that day, unit, priority, message).
struct journal_entry {
  int day, second;
  std::string unit;
  int priority;
  std::string message;
};

void write_journal(const fs::path& dir, const std::vector<journal_entry>& entries) {
  std::string export_text;
  for (const auto& e : entries) {
    const auto t = std::to_string(
        (1767225600ull + e.day * 86400ull + static_cast<unsigned>(e.second)) * 1000000ull);
    export_text += "__REALTIME_TIMESTAMP=" + t + "\n__MONOTONIC_TIMESTAMP=" + t +
                   "\n_BOOT_ID=0123456789abcdef0123456789abcdef\n_SYSTEMD_UNIT=" + e.unit +
                   "\n_HOSTNAME=web01\nSYSLOG_IDENTIFIER=" + e.unit.substr(0, e.unit.find('.')) +
                   "\n_PID=42\nPRIORITY=" + std::to_string(e.priority) + "\nMESSAGE=" + e.message +
                   "\n\n";
  }
  const auto input = dir / "export.txt";
  std::ofstream(input) << export_text;
  fs::create_directories(dir / "journal");
  ASSERT_EQ(std::system(("/lib/systemd/systemd-journal-remote --output=" +
                         (dir / "journal/remote.journal").string() + " - < " + input.string() +
                         " 2>/dev/null")
                            .c_str()),
            0);
}

TEST_F(collect_test, journal_units_priorities_and_window_from_a_real_journal) {
  write_journal(dir_, {{0, 10, "nginx.service", 6, "too early"},
                       {1, 10, "nginx.service", 6, "in window password=s3cret"},
                       {1, 20, "nginx.service", 7, "debug, filtered"},
                       {1, 30, "cron.service", 3, "other unit"},
                       {1, 40, "nginx.service", 3, "error in window"},
                       {3, 10, "nginx.service", 6, "too late"}});
  p_.journal_directory = dir_ / "journal";
  p_.journal_units = {"nginx.service", "cron.service"};
  p_.journal_max_priority = 6;
  const auto since = clock::time_point(std::chrono::seconds(1767225600 + 86400));
  const auto m = run({.since = since, .until = since + hours(24)});
  EXPECT_EQ(stored("journal/nginx.service.log"),
            "2026-01-02T00:00:10.000000+00:00 web01 nginx[42]: in window password=[REDACTED]\n"
            "2026-01-02T00:00:40.000000+00:00 web01 nginx[42]: error in window\n");
  EXPECT_EQ(stored("journal/cron.service.log"),
            "2026-01-02T00:00:30.000000+00:00 web01 cron[42]: other unit\n");
  EXPECT_EQ(item(m, "journal/nginx.service.log")->redactions, 1u);
  EXPECT_EQ(item(m, "journal/nginx.service.log")->source, "journal: nginx.service");
  // Everything, one file.
  p_.journal_units.clear();
  p_.journal_all = true;
  p_.journal_max_priority = 7;
  run();
  EXPECT_NE(stored("journal/all.log").find("too late"), std::string::npos);
  EXPECT_NE(stored("journal/all.log").find("debug, filtered"), std::string::npos);
}

TEST_F(collect_test, journal_over_max_file_bytes_keeps_its_newest_entries) {
  std::vector<journal_entry> entries;
  for (int i = 0; i < 50; ++i)
    entries.push_back({1, i, "app.service", 6, "entry " + std::to_string(100 + i)});
  write_journal(dir_, entries);
  p_.journal_directory = dir_ / "journal";
  p_.journal_units = {"app.service"};
  // Each line is "2026-01-02T00:00:SS.000000+00:00 web01 app[42]: entry NNN\n": 58 bytes.
  p_.max_file_bytes = 58 * 10 + 30;
  const auto m = run();
  const auto text = stored("journal/app.service.log");
  EXPECT_EQ(text.size(), 58u * 10) << text;
  EXPECT_TRUE(text.starts_with("2026-01-02T00:00:40.000000+00:00 web01 app[42]: entry 140\n"))
      << text;
  EXPECT_TRUE(text.ends_with("entry 149\n")) << text;
  const auto* i = item(m, "journal/app.service.log");
  ASSERT_TRUE(i);
  EXPECT_TRUE(i->truncated);
  EXPECT_NE(i->error.find("cut to the newest 610 bytes of entries (max_file_bytes): 2320 earlier"),
            std::string::npos)
      << i->error;
  // Within a window, the newest of the window.
  const auto day = clock::time_point(std::chrono::seconds(1767225600 + 86400));
  run({.since = day, .until = day + std::chrono::seconds(29)});
  EXPECT_TRUE(stored("journal/app.service.log").ends_with("entry 129\n"));
  // A budget smaller than one entry keeps none, and says so.
  p_.max_file_bytes = 10;
  const auto none = run();
  EXPECT_EQ(stored("journal/app.service.log"), "");
  EXPECT_TRUE(item(none, "journal/app.service.log")->truncated);
}

TEST_F(collect_test, journal_that_cannot_be_opened_is_an_item_error) {
  p_.journal_directory = dir_ / "no-journal-here";
  p_.journal_units = {"x.service"};
  const auto m = run();
  const auto* i = item(m, "journal/x.service.log");
  ASSERT_TRUE(i);
  EXPECT_TRUE(i->sha256.empty() || i->size == 0) << i->error;
}

TEST_F(collect_test, facts_are_json_and_survive_missing_pieces) {
  p_.facts = true;
  p_.services = {"valise-test-no-such.service"};
  const auto m = run();
  const auto facts = boost::json::parse(stored("facts.json")).as_object();
  for (const char* key :
       {"os", "kernel", "hostname", "cpu", "memory", "disks", "network_interfaces", "services"}) {
    EXPECT_TRUE(facts.contains(key)) << key;
  }
  EXPECT_GT(facts.at("cpu").at("count").as_int64(), 0);
  EXPECT_TRUE(facts.at("services").as_object().contains("valise-test-no-such.service"));
  EXPECT_TRUE(item(m, "facts.json")->error.empty());
}

}  // namespace
}  // namespace valise::agent
