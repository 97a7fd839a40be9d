// Hostile or broken archives, crafted with libarchive: extraction refuses each
// with the right error and leaves neither the destination nor a temporary.
#include <zstd.h>

#include "bundle_fixture.hpp"

namespace valise::common::test {
namespace {

TEST_F(bundle_test, existing_destination_is_untouched) {
  fs::create_directories(out());
  std::ofstream(out() / "mine") << "keep";
  const raw_entry file{"a", "x"};
  const auto data = craft({file, manifest_for({file})});
  crypto::memory_source in(data);
  EXPECT_EQ(extract_bundle(in, out()).error(), bundle_errc::destination_exists);
  EXPECT_EQ(read_file(out() / "mine"), "keep");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_ / "work"), {}), 1);
}

TEST_F(bundle_test, crafted_archive_that_is_valid_extracts) {
  // The baseline for the refusals below: the crafting itself is sound.
  const raw_entry a{"d/a", "alpha"}, b{"b", "beta"};
  const auto data = craft({{"d", "", AE_IFDIR}, a, b, manifest_for({a, b})});
  crypto::memory_source in(data);
  auto m = extract_bundle(in, out());
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(read_file(out() / "d/a"), "alpha");
}

TEST_F(bundle_test, refuses_escaping_paths) {
  for (const char* path : {"/etc/evil", "../evil", "a/../../evil", "a//b", "./a", "a/."}) {
    SCOPED_TRACE(path);
    const raw_entry file{path, "x"};
    expect_refused(craft({file, manifest_for({file})}), bundle_errc::unsafe_path, path);
  }
  const raw_entry dir{"../up", "", AE_IFDIR};
  expect_refused(craft({dir, manifest_for({})}), bundle_errc::unsafe_path);
}

TEST_F(bundle_test, refuses_colliding_entries) {
  // A file where a directory must go, and the reverse: never through a link,
  // never outside, and not "file exists" either.
  const raw_entry a{"a", "x"}, ab{"a/b", "y"};
  expect_refused(craft({a, ab, manifest_for({a, ab})}), bundle_errc::unsafe_path);
  expect_refused(craft({{"a", "", AE_IFDIR}, a, manifest_for({a})}), bundle_errc::unsafe_path);
  expect_refused(craft({a, {"a", "", AE_IFDIR}, manifest_for({a})}), bundle_errc::unsafe_path);
}

TEST_F(bundle_test, refuses_links_and_special_files) {
  const raw_entry file{"a", "x"};
  expect_refused(craft({file, {"l", "", AE_IFLNK, "/etc/passwd"}, manifest_for({file})}),
                 bundle_errc::unsupported_entry, "l");
  expect_refused(craft({file, {"h", "", AE_IFREG, "a"}, manifest_for({file})}),
                 bundle_errc::unsupported_entry);
  expect_refused(craft({file, {"dev", "", AE_IFCHR}, manifest_for({file})}),
                 bundle_errc::unsupported_entry);
  expect_refused(craft({file, {"blk", "", AE_IFBLK}, manifest_for({file})}),
                 bundle_errc::unsupported_entry);
  expect_refused(craft({file, {"fifo", "", AE_IFIFO}, manifest_for({file})}),
                 bundle_errc::unsupported_entry);
}

TEST_F(bundle_test, refuses_archives_that_disagree_with_their_manifest) {
  const raw_entry a{"a", "alpha"}, b{"b", "beta"};
  expect_refused(craft({a, b, manifest_for({a})}), bundle_errc::unlisted_entry, "b");
  expect_refused(craft({a, manifest_for({a, b})}), bundle_errc::missing_entry, "b");
  expect_refused(craft({{"a", "ALPHA"}, b, manifest_for({a, b})}), bundle_errc::content_mismatch,
                 "a");
  expect_refused(craft({{"a", "alph"}, manifest_for({a})}), bundle_errc::content_mismatch);
  expect_refused(craft({a, a, manifest_for({a})}), bundle_errc::unlisted_entry);
  expect_refused(craft({a, manifest_for({a, a})}), bundle_errc::manifest_invalid);
}

TEST_F(bundle_test, refuses_a_missing_misplaced_or_broken_manifest) {
  const raw_entry a{"a", "alpha"};
  expect_refused(craft({a}), bundle_errc::manifest_missing, "");
  expect_refused(craft({}), bundle_errc::manifest_missing);
  expect_refused(craft({manifest_for({a}), a}), bundle_errc::unlisted_entry, "a");
  expect_refused(craft({a, manifest_for({a}), manifest_for({a})}), bundle_errc::unlisted_entry);
  expect_refused(craft({a, {"manifest.json", "{nope"}}), bundle_errc::manifest_invalid,
                 "manifest.json");
  expect_refused(craft({a, {"manifest.json", "", AE_IFDIR}}), bundle_errc::unsafe_path);
}

TEST_F(bundle_test, refuses_what_is_not_tar_zstd) {
  const raw_entry a{"a", "alpha"};
  const auto plain = craft({a, manifest_for({a})}, compression::none);
  expect_refused(plain, bundle_errc::not_a_bundle, "");
  expect_refused(craft({a, manifest_for({a})}, compression::gzip), bundle_errc::not_a_bundle);
  expect_refused(std::vector<std::uint8_t>(1000, 'x'), bundle_errc::not_a_bundle);
  expect_refused({}, bundle_errc::not_a_bundle);
  // zstd, but not a tar inside.
  std::vector<std::uint8_t> text(5000, 'y');
  std::vector<std::uint8_t> zst(ZSTD_compressBound(text.size()));
  zst.resize(ZSTD_compress(zst.data(), zst.size(), text.data(), text.size(), 3));
  expect_refused(zst, bundle_errc::not_a_bundle);
}

TEST_F(bundle_test, refuses_truncated_archives) {
  const raw_entry a{"a", std::string(100000, 'q')};
  const auto whole = craft({a, manifest_for({a})});
  for (const std::size_t keep : {whole.size() / 2, whole.size() - 1, std::size_t{20}}) {
    SCOPED_TRACE(keep);
    const std::vector<std::uint8_t> truncated(whole.begin(),
                                              whole.begin() + static_cast<std::ptrdiff_t>(keep));
    crypto::memory_source in(truncated);
    auto r = extract_bundle(in, out());
    ASSERT_FALSE(r);
    EXPECT_EQ(&r.error().category(), &bundle_category()) << r.error().message();
    EXPECT_TRUE(fs::is_empty(dir_ / "work"));
  }
}

// The byte source failing (a tampered age chunk, an I/O error) is reported as
// that error, not as "not a bundle", and still leaves nothing behind.
TEST_F(bundle_test, source_errors_are_returned_and_clean_up) {
  class failing_source final : public crypto::byte_source {
   public:
    explicit failing_source(std::vector<std::uint8_t> data) : data_(std::move(data)) {}
    result<std::size_t> read(crypto::mutable_bytes out) override {
      if (offset_ >= data_.size() / 2) return std::make_error_code(std::errc::io_error);
      const auto n = std::min(out.size(), data_.size() / 2 - offset_);
      std::copy_n(data_.begin() + static_cast<std::ptrdiff_t>(offset_), n, out.begin());
      offset_ += n;
      return n;
    }

   private:
    std::vector<std::uint8_t> data_;
    std::size_t offset_ = 0;
  };
  std::string noise(1 << 20, '\0');
  for (std::size_t i = 0; i < noise.size(); ++i) noise[i] = static_cast<char>((i * i) >> 7);
  const raw_entry a{"a", noise};
  failing_source in(craft({a, manifest_for({a})}));
  auto r = extract_bundle(in, out());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), std::errc::io_error) << r.error().message();
  EXPECT_TRUE(fs::is_empty(dir_ / "work"));
}

TEST(bundle_errors, every_code_has_a_message_and_a_lowercase_hint) {
  for (int e = 1; e <= static_cast<int>(bundle_errc::duplicate_path); ++e) {
    const auto code = static_cast<bundle_errc>(e);
    const std::error_code ec = code;
    EXPECT_EQ(ec.category().name(), std::string("bundle"));
    EXPECT_NE(ec.message(), "unknown bundle error");
    const auto h = hint(code);
    ASSERT_FALSE(h.empty()) << e;
    EXPECT_TRUE(std::islower(static_cast<unsigned char>(h.front()))) << h;
    EXPECT_EQ(h.find('\n'), std::string_view::npos);
    EXPECT_NE(h.back(), '.');
  }
}

}  // namespace
}  // namespace valise::common::test
