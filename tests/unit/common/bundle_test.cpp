// Bundles through memory streams: round trips, and hostile archives built
// directly with libarchive that extraction must refuse without leaving files.
#include "valise/common/bundle.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <openssl/sha.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using namespace valise::common;
using valise::crypto::memory_sink;
using valise::crypto::memory_source;

namespace {

std::string sha256_hex(std::string_view data) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), d);
  std::string out;
  for (auto b : d) out += "0123456789abcdef"[b >> 4], out += "0123456789abcdef"[b & 15];
  return out;
}

struct raw_entry {
  std::string path;
  std::string content;
  mode_t type = AE_IFREG;
  std::string link;  // symlink target or hardlink source
};

// A tar+zstd stream with exactly these entries (a manifest only if listed).
std::vector<std::uint8_t> craft(const std::vector<raw_entry>& entries, bool zstd = true) {
  std::vector<std::uint8_t> out;
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (zstd) archive_write_add_filter_zstd(a);
  archive_write_set_bytes_in_last_block(a, 1);
  archive_write_open2(
      a, &out, nullptr,
      [](archive*, void* client, const void* data, size_t n) -> la_ssize_t {
        auto* v = static_cast<std::vector<std::uint8_t>*>(client);
        v->insert(v->end(), static_cast<const std::uint8_t*>(data),
                  static_cast<const std::uint8_t*>(data) + n);
        return static_cast<la_ssize_t>(n);
      },
      nullptr, nullptr);
  for (const auto& e : entries) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, e.path.c_str());
    archive_entry_set_filetype(entry, e.type);
    archive_entry_set_perm(entry, 0644);
    if (e.type == AE_IFLNK) archive_entry_set_symlink(entry, e.link.c_str());
    if (!e.link.empty() && e.type == AE_IFREG) archive_entry_set_hardlink(entry, e.link.c_str());
    archive_entry_set_size(entry, e.type == AE_IFREG && e.link.empty()
                                      ? static_cast<la_int64_t>(e.content.size())
                                      : 0);
    archive_write_header(a, entry);
    if (e.type == AE_IFREG && e.link.empty())
      archive_write_data(a, e.content.data(), e.content.size());
    archive_entry_free(entry);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

raw_entry manifest_for(const std::vector<raw_entry>& files) {
  manifest m;
  m.bundle_id = new_bundle_id();
  m.created_at = now_rfc3339();
  for (const auto& f : files) {
    m.items.push_back({.path = f.path,
                       .source = "/" + f.path,
                       .size = f.content.size(),
                       .sha256 = sha256_hex(f.content),
                       .error = "",
                       .truncated = false,
                       .redactions = 0});
  }
  return {std::string(manifest_entry_name), to_json(m)};
}

class bundle_test : public testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() / ("valise-bundle-" + std::to_string(::getpid()) + "-" +
                                     testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "work");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Extraction into work/out must fail with `expected` and leave work/ empty.
  void expect_refused(const std::vector<std::uint8_t>& data, std::error_code expected) {
    memory_source in(data);
    auto r = extract_bundle(in, dir_ / "work" / "out");
    ASSERT_FALSE(r) << "a hostile archive was accepted";
    EXPECT_EQ(r.error(), expected) << r.error().message();
    EXPECT_TRUE(fs::is_empty(dir_ / "work")) << "left files behind";
    memory_source again(data);
    EXPECT_FALSE(verify_bundle(again));
  }

  void write_file(const fs::path& rel, const std::string& content) {
    fs::create_directories((dir_ / rel).parent_path());
    std::ofstream(dir_ / rel, std::ios::binary) << content;
  }

  fs::path dir_;
};

TEST_F(bundle_test, round_trip_keeps_every_byte_and_lists_problems) {
  std::string big(3 * 1024 * 1024 + 17, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 7919) >> 3);
  write_file("src/logs/a.log", "alpha\n");
  write_file("src/logs/empty", "");
  write_file("src/logs/deep/big.bin", big);
  fs::create_symlink("/etc/passwd", dir_ / "src/logs/link");
  const int sock = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const auto sock_path = (dir_ / "src/logs/sock").string();
  std::strncpy(addr.sun_path, sock_path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);

  memory_sink out;
  std::uint64_t progress = 0;
  auto w = bundle_writer::create(out, {.progress = [&](std::uint64_t n) { progress = n; }});
  ASSERT_TRUE(w);
  ASSERT_TRUE(w->add_path(dir_ / "src/logs", "logs"));
  ASSERT_TRUE(
      w->add_bytes("facts.json", {reinterpret_cast<const std::uint8_t*>("{}"), 2}, "facts"));
  w->add_failure("cmd/out", "command: x", "timed out");
  EXPECT_EQ(w->add_path(dir_ / "src/logs/a.log", "logs/a.log").error(),
            bundle_errc::duplicate_path);
  auto m = w->finish({.ticket = "T-9"});
  ::close(sock);
  ASSERT_TRUE(m);
  EXPECT_EQ(progress, big.size() + 6);
  EXPECT_EQ(m->ticket, "T-9");
  EXPECT_FALSE(m->bundle_id.empty());

  std::map<std::string, manifest_item> items;
  for (const auto& item : m->items) items[item.path] = item;
  EXPECT_EQ(items["logs/deep/big.bin"].sha256, sha256_hex(big));
  EXPECT_EQ(items["logs/link"].error, "symbolic link, not followed");
  EXPECT_EQ(items["logs/sock"].error, "socket, skipped");
  EXPECT_EQ(items["cmd/out"].error, "timed out");

  memory_source in(out.data());
  auto extracted = extract_bundle(in, dir_ / "work" / "out");
  ASSERT_TRUE(extracted) << extracted.error().message();
  EXPECT_EQ(to_json(*extracted), to_json(*m));
  std::ifstream big_in(dir_ / "work/out/logs/deep/big.bin", std::ios::binary);
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(big_in)), {}), big);
  EXPECT_TRUE(fs::exists(dir_ / "work/out/logs/empty"));
  EXPECT_FALSE(fs::exists(dir_ / "work/out/logs/link"));
  EXPECT_EQ(fs::status(dir_ / "work/out").permissions() & fs::perms::all, fs::perms::owner_all);
}

TEST_F(bundle_test, existing_destination_is_untouched) {
  fs::create_directories(dir_ / "work/out");
  std::ofstream(dir_ / "work/out/mine") << "keep";
  const raw_entry file{"a", "x"};
  const auto data = craft({file, manifest_for({file})});
  memory_source in(data);
  EXPECT_EQ(extract_bundle(in, dir_ / "work/out").error(), bundle_errc::destination_exists);
  EXPECT_TRUE(fs::exists(dir_ / "work/out/mine"));
}

TEST_F(bundle_test, refuses_escaping_paths) {
  for (const char* path : {"/etc/evil", "../evil", "a/../../evil", "a//b", "./a"}) {
    const raw_entry file{path, "x"};
    expect_refused(craft({file, manifest_for({file})}), bundle_errc::unsafe_path);
  }
}

TEST_F(bundle_test, refuses_links_and_special_files) {
  const raw_entry file{"a", "x"};
  expect_refused(craft({file, {"l", "", AE_IFLNK, "/etc/passwd"}, manifest_for({file})}),
                 bundle_errc::unsupported_entry);
  expect_refused(craft({file, {"h", "", AE_IFREG, "a"}, manifest_for({file})}),
                 bundle_errc::unsupported_entry);
  expect_refused(craft({file, {"dev", "", AE_IFCHR}, manifest_for({file})}),
                 bundle_errc::unsupported_entry);
  expect_refused(craft({file, {"fifo", "", AE_IFIFO}, manifest_for({file})}),
                 bundle_errc::unsupported_entry);
}

TEST_F(bundle_test, refuses_archives_that_disagree_with_their_manifest) {
  const raw_entry a{"a", "alpha"}, b{"b", "beta"};
  expect_refused(craft({a, b, manifest_for({a})}), bundle_errc::unlisted_entry);
  expect_refused(craft({a, manifest_for({a, b})}), bundle_errc::missing_entry);
  expect_refused(craft({{"a", "ALPHA"}, manifest_for({a})}), bundle_errc::content_mismatch);
  expect_refused(craft({a, a, manifest_for({a})}), bundle_errc::unlisted_entry);
  expect_refused(craft({a}), bundle_errc::manifest_missing);
  expect_refused(craft({manifest_for({a}), a}), bundle_errc::unlisted_entry);
  expect_refused(craft({a, {"manifest.json", "{nope"}}), bundle_errc::manifest_invalid);
}

TEST_F(bundle_test, refuses_what_is_not_tar_zstd) {
  const raw_entry a{"a", "alpha"};
  expect_refused(craft({a, manifest_for({a})}, /*zstd=*/false), bundle_errc::not_a_bundle);
  expect_refused(std::vector<std::uint8_t>(1000, 'x'), bundle_errc::not_a_bundle);
  auto truncated = craft({{"a", std::string(100000, 'q')}, manifest_for({a})});
  truncated.resize(truncated.size() / 2);
  memory_source in(truncated);
  EXPECT_FALSE(extract_bundle(in, dir_ / "work" / "out"));
  EXPECT_TRUE(fs::is_empty(dir_ / "work"));
}

}  // namespace
