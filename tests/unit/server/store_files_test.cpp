// A blob store other than blob_dir makes the store's files from the file
// descriptors it opened, without being named in files.hpp: here, the test's
// own unnamed files.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "valise/server/store/files.hpp"

namespace valise::server {
namespace {

owned_fd scratch_fd() {
  return owned_fd(::open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
}

crypto::bytes bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

TEST(StoreFiles, AnyStoreMakesAnUploadFileFromItsDescriptor) {
  auto fd = scratch_fd();
  ASSERT_GE(fd.get(), 0);
  upload_file file(std::move(fd), 0);
  ASSERT_TRUE(file.append(bytes_of("age-")));
  upload_file other(scratch_fd(), 0);
  ASSERT_TRUE(other.append(bytes_of("file")));
  ASSERT_TRUE(file.append_file(other));
  EXPECT_EQ(file.size(), 8u);
  std::vector<std::uint8_t> out(8);
  auto n = file.read_at(0, out);
  ASSERT_TRUE(n);
  EXPECT_EQ(std::string(out.begin(), out.begin() + static_cast<long>(*n)), "age-file");
}

TEST(StoreFiles, AnyStoreMakesABundleFileFromItsDescriptor) {
  auto fd = scratch_fd();
  ASSERT_GE(fd.get(), 0);
  ASSERT_EQ(::write(fd.get(), "bundle", 6), 6);
  bundle_file file(std::move(fd), 6);
  ASSERT_TRUE(file.seek(2));
  std::vector<std::uint8_t> out(4);
  auto n = file.read(out);
  ASSERT_TRUE(n);
  EXPECT_EQ(std::string(out.begin(), out.begin() + static_cast<long>(*n)), "ndle");
}

}  // namespace
}  // namespace valise::server
