// Shared by the bundle tests: archives crafted directly with libarchive (so the
// reader can be fed what valise would never write), and a scratch directory.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <openssl/sha.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "valise/common/bundle.hpp"

namespace valise::common::test {

namespace fs = std::filesystem;

inline std::string sha256_hex(std::string_view data) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), d);
  std::string out;
  for (auto b : d) out += "0123456789abcdef"[b >> 4], out += "0123456789abcdef"[b & 15];
  return out;
}

inline std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

inline crypto::bytes as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

struct raw_entry {
  std::string path;
  std::string content;
  mode_t type = AE_IFREG;
  std::string link;  // symlink target or hardlink source
};

enum class compression { zstd, none, gzip };

// A tar stream with exactly these entries (a manifest only if listed).
inline std::vector<std::uint8_t> craft(const std::vector<raw_entry>& entries,
                                       compression filter = compression::zstd) {
  std::vector<std::uint8_t> out;
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (filter == compression::zstd) archive_write_add_filter_zstd(a);
  if (filter == compression::gzip) archive_write_add_filter_gzip(a);
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
    const bool has_data = e.type == AE_IFREG && e.link.empty();
    archive_entry_set_size(entry, has_data ? static_cast<la_int64_t>(e.content.size()) : 0);
    archive_write_header(a, entry);
    if (has_data) archive_write_data(a, e.content.data(), e.content.size());
    archive_entry_free(entry);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

// manifest.json listing `files` with their true sizes and hashes.
inline raw_entry manifest_for(const std::vector<raw_entry>& files) {
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

// A scratch directory per test; extraction goes to work/out.
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

  fs::path out() const { return dir_ / "work" / "out"; }

  // Extraction must fail with `expected` and leave work/ empty (no destination,
  // no temporary sibling); verification must fail the same way. If given,
  // `culprit` is the entry the failure must be blamed on ("": none).
  void expect_refused(const std::vector<std::uint8_t>& data, std::error_code expected,
                      std::optional<std::string> culprit = std::nullopt) {
    std::vector<std::string> blamed;
    const read_options options{.on_bad_entry = [&](std::string_view e) { blamed.emplace_back(e); }};
    crypto::memory_source in(data);
    auto r = extract_bundle(in, out(), options);
    ASSERT_FALSE(r) << "a hostile archive was accepted";
    EXPECT_EQ(r.error(), expected) << r.error().message();
    EXPECT_TRUE(fs::is_empty(dir_ / "work")) << "left files behind";
    crypto::memory_source again(data);
    auto v = verify_bundle(again, options);
    ASSERT_FALSE(v);
    EXPECT_EQ(v.error(), expected) << v.error().message();
    if (culprit) {
      const auto expected_blame =
          culprit->empty() ? std::vector<std::string>() : std::vector<std::string>(2, *culprit);
      EXPECT_EQ(blamed, expected_blame);
    }
  }

  void write_file(const fs::path& rel, const std::string& content) {
    fs::create_directories((dir_ / rel).parent_path());
    std::ofstream(dir_ / rel, std::ios::binary) << content;
  }

  // Packs `source` as `archive_path` with default options.
  std::vector<std::uint8_t> pack(const fs::path& source, const std::string& archive_path,
                                 manifest* written = nullptr) {
    crypto::memory_sink sink;
    auto w = bundle_writer::create(sink);
    EXPECT_TRUE(w);
    if (!w) return {};
    EXPECT_TRUE(w->add_path(source, archive_path));
    auto m = w->finish({});
    EXPECT_TRUE(m);
    if (m && written) *written = *m;
    return sink.data();
  }

  fs::path dir_;
};

}  // namespace valise::common::test
