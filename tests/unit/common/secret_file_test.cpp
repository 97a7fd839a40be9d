#include "valise/common/secret_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

namespace valise::common {
namespace {

class secret_file : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("valise-secret-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path write(const std::string& name, const std::string& text, mode_t mode) {
    const auto path = dir_ / name;
    std::ofstream(path) << text;
    ::chmod(path.c_str(), mode);
    return path;
  }
  std::filesystem::path dir_;
};

TEST_F(secret_file, trims_the_line_end_and_keeps_the_rest) {
  auto read = read_secret_file(write("a", "s3cret pass\r\n", 0600));
  ASSERT_TRUE(read) << read.error();
  EXPECT_EQ(read->value, "s3cret pass");
  EXPECT_EQ(secret_from_text("whsec_abc \n\n", "x")->value, "whsec_abc");
}

TEST_F(secret_file, refuses_an_empty_a_missing_and_a_too_large_file) {
  auto empty = read_secret_file(write("empty", "\n", 0600));
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error(), (dir_ / "empty").string() + " is empty");
  auto missing = read_secret_file(dir_ / "nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(),
            "cannot read " + (dir_ / "nope").string() + ": No such file or directory (errno 2)");
  auto large = read_secret_file(write("large", std::string(100, 'x'), 0600), {.limit = 99});
  ASSERT_FALSE(large);
  EXPECT_NE(large.error().find("cannot read"), std::string::npos) << large.error();
  EXPECT_TRUE(read_secret_file(write("fits", std::string(99, 'x'), 0600), {.limit = 99}));
}

TEST_F(secret_file, owner_only_refuses_a_file_others_may_read) {
  const auto path = write("shared", "pw\n", 0640);
  EXPECT_TRUE(read_secret_file(path));  // a webhook's secret: no such rule
  auto refused = read_secret_file(path, {.owner_only = true});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(),
            path.string() + " may be read by its group or others: chmod 600 " + path.string());
  ::chmod(path.c_str(), 0600);
  EXPECT_TRUE(read_secret_file(path, {.owner_only = true}));
}

TEST(wiped_string, a_move_leaves_the_source_empty) {
  wiped_string a{std::string(40, 'p')};
  wiped_string b{std::move(a)};
  EXPECT_TRUE(a.value.empty());  // NOLINT(bugprone-use-after-move): what a move leaves
  EXPECT_EQ(b.value, std::string(40, 'p'));
}

}  // namespace
}  // namespace valise::common
