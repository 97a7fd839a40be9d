#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "valise/common/file_io.hpp"

namespace fs = std::filesystem;
using namespace valise::common;

namespace {

class atomic_file_test : public testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() / ("valise-atomic-" + std::to_string(::getpid()) + "-" +
                                     testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::size_t entries() const {
    return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir_), {}));
  }
  static valise::crypto::bytes text(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
  }
  fs::path dir_;
};

TEST_F(atomic_file_test, invisible_until_commit_then_complete_and_private) {
  const auto path = dir_ / "out.vls";
  {
    auto f = atomic_file::create(path, {});
    ASSERT_TRUE(f);
    ASSERT_TRUE(f->write(text("hello ")));
    ASSERT_TRUE(f->write(text("world")));
    EXPECT_FALSE(fs::exists(path));
    EXPECT_EQ(entries(), 0u) << "no temporary name may be visible";
    ASSERT_TRUE(f->commit());
  }
  std::ifstream in(path);
  std::string content((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(content, "hello world");
  EXPECT_EQ(fs::status(path).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
}

TEST_F(atomic_file_test, dropped_without_commit_leaves_nothing) {
  {
    auto f = atomic_file::create(dir_ / "out.vls", {.durable = true});
    ASSERT_TRUE(f);
    ASSERT_TRUE(f->write(text("partial")));
  }
  EXPECT_EQ(entries(), 0u);
}

TEST_F(atomic_file_test, refuses_existing_unless_overwrite) {
  const auto path = dir_ / "key.txt";
  std::ofstream(path) << "old";
  EXPECT_EQ(atomic_file::create(path, {}).error(), std::errc::file_exists);
  auto f = atomic_file::create(path, {.overwrite = true});
  ASSERT_TRUE(f);
  ASSERT_TRUE(f->write(text("new")));
  ASSERT_TRUE(f->commit());
  std::ifstream in(path);
  std::string content((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(content, "new");
  EXPECT_EQ(entries(), 1u);
}

// Run as root (as the tests are here), the file goes to the directory's
// owner; run as anyone else, it is the caller's as always.
TEST_F(atomic_file_test, directory_owner_gets_the_file_when_root_writes_it) {
  const bool root = ::geteuid() == 0;
  const uid_t owner = root ? 65534 : ::geteuid();  // nobody
  const gid_t group = root ? 65534 : ::getegid();
  if (root) {
    ASSERT_EQ(::chown(dir_.c_str(), owner, group), 0);
  }
  for (bool overwrite : {false, true}) {
    auto f =
        atomic_file::create(dir_ / "audit.head", {.overwrite = overwrite, .directory_owner = true});
    ASSERT_TRUE(f);
    ASSERT_TRUE(f->write(text("checkpoint")));
    ASSERT_TRUE(f->commit());
    struct stat st {};
    ASSERT_EQ(::stat((dir_ / "audit.head").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, owner);
    EXPECT_EQ(st.st_gid, group);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
  }
}

TEST_F(atomic_file_test, missing_directory_is_an_error) {
  EXPECT_EQ(atomic_file::create(dir_ / "nope" / "x", {}).error(),
            std::errc::no_such_file_or_directory);
}

TEST_F(atomic_file_test, read_small_file_enforces_its_limit) {
  std::ofstream(dir_ / "big") << std::string(100, 'x');
  EXPECT_EQ(read_small_file(dir_ / "big", 10).error(), std::errc::file_too_large);
  EXPECT_EQ(read_small_file(dir_ / "big", 100)->size(), 100u);
}

}  // namespace
