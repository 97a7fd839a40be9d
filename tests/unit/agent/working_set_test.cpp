// Which mappings release_idle_memory() may drop, from smaps text; and that
// dropping them for real leaves the process working (a dropped page that
// held relocated data would crash the next library call).
#include "service/working_set.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "valise/crypto/age.hpp"

namespace valise::agent {
namespace {

std::string mapping(std::string_view header, unsigned rss_kib, unsigned anonymous_kib,
                    std::string_view flags = "rd mr mw me") {
  std::ostringstream out;
  out << header << "\nSize:                 64 kB\nRss:                " << rss_kib
      << " kB\nPss:                  1 kB\nAnonymous:          " << anonymous_kib
      << " kB\nLocked:                0 kB\nVmFlags: " << flags << "\n";
  return out.str();
}

TEST(working_set, only_clean_private_read_only_file_mappings) {
  const std::string smaps =
      mapping("7f0000000000-7f0000010000 r-xp 00026000 08:01 42     /usr/lib/libc.so.6", 40, 0) +
      // relocated (RELRO): copied-on-write pages would be lost
      mapping("7f0000010000-7f0000012000 r--p 00120000 08:01 42     /usr/lib/libc.so.6", 8, 8) +
      mapping("7f0000012000-7f0000014000 rw-p 00122000 08:01 42     /usr/lib/libc.so.6", 8, 4) +
      mapping("7f0000020000-7f0000030000 r--p 00000000 08:01 43     /usr/lib/libssl.so.3", 16, 0) +
      mapping("7f0000030000-7f0000040000 r--p 00000000 08:01 44     /usr/lib/not-resident.so", 0,
              0) +
      mapping("7f0000040000-7f0000050000 r--s 00000000 08:01 45     /var/cache/shared.db", 64, 0) +
      mapping("7f0000050000-7f0000060000 r-xp 00000000 08:01 46     /usr/lib/locked.so", 64, 0,
              "rd ex mr mw me lo") +
      mapping("7f0000060000-7f0000070000 r--p 00000000 00:00 0 ", 64, 0) +
      mapping("7f0000070000-7f0000080000 r-xp 00000000 08:01 47     /tmp/gone.so (deleted)", 64,
              0) +
      mapping("7ffc00000000-7ffc00002000 r-xp 00000000 00:00 0      [vdso]", 8, 0);
  const auto dropped = clean_file_mappings(smaps);
  ASSERT_EQ(dropped.size(), 2u);
  EXPECT_EQ(dropped[0].begin, 0x7f0000000000u);
  EXPECT_EQ(dropped[0].end, 0x7f0000010000u);
  EXPECT_EQ(dropped[0].resident_bytes, 40u * 1024);
  EXPECT_EQ(dropped[1].begin, 0x7f0000020000u);
  EXPECT_EQ(dropped[1].resident_bytes, 16u * 1024);
}

TEST(working_set, the_process_runs_on_after_release) {
  std::ifstream smaps("/proc/self/smaps");
  std::stringstream mapped;
  mapped << smaps.rdbuf();
  ASSERT_FALSE(clean_file_mappings(mapped.str()).empty()) << "this process maps libraries";

  EXPECT_GT(release_idle_memory(), 0u);
  // Library calls through relocated data after the release: libstdc++,
  // Boost.JSON, libsodium and OpenSSL (an age round trip).
  const auto parsed = boost::json::parse(R"({"after":"release"})");
  EXPECT_EQ(parsed.at("after").as_string(), "release");
  const auto identity = crypto::x25519_identity::generate();
  const auto recipient = identity.to_recipient();
  const crypto::recipient* recipients[] = {&recipient};
  crypto::memory_sink sealed;
  auto encryptor = crypto::encryptor::create(recipients, sealed);
  ASSERT_TRUE(encryptor);
  const std::string text = "still running";
  ASSERT_TRUE(encryptor->write({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}));
  ASSERT_TRUE(encryptor->finish());
  crypto::memory_source in(sealed.data());
  const crypto::identity* identities[] = {&identity};
  auto decryptor = crypto::decryptor::open(in, identities);
  ASSERT_TRUE(decryptor);
  std::uint8_t out[64];
  const auto n = decryptor->read(out);
  ASSERT_TRUE(n);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(out), *n), text);
  EXPECT_GT(release_idle_memory(), 0u);  // the pages these calls mapped again
}

}  // namespace
}  // namespace valise::agent
