// Certificate fingerprints for pinning a fetched CA: certificate_sha256 against
// the openssl command's own fingerprint, and fingerprints as operators type them.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "valise/common/https_client.hpp"

namespace fs = std::filesystem;
using namespace valise::common;

namespace {

std::string run(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return out;
  char buffer[512];
  while (const std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
  EXPECT_EQ(::pclose(pipe), 0) << command;
  return out;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Two fresh self-signed certificates, made by the openssl command.
class certificates : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/valise-cert-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    for (const char* name : {"a", "b"}) {
      const auto base = (dir_ / name).string();
      run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "
          "/CN=" +
          std::string(name) + " -keyout " + base + ".key -out " + base + ".pem 2>/dev/null");
    }
  }
  void TearDown() override { fs::remove_all(dir_); }

  // "sha256 Fingerprint=AB:CD:..." from openssl itself.
  std::string openssl_fingerprint(const char* name) {
    auto line =
        run("openssl x509 -noout -fingerprint -sha256 -in " + (dir_ / name).string() + ".pem");
    while (!line.empty() && line.back() == '\n') line.pop_back();
    return line;
  }
  std::string pem(const char* name) { return read_file(dir_ / (std::string(name) + ".pem")); }

  fs::path dir_;
};

TEST_F(certificates, sha256_of_the_first_certificate_matches_openssl) {
  const std::string a = pem("a");
  const std::string b = pem("b");
  ASSERT_NE(a.find("BEGIN CERTIFICATE"), std::string::npos);
  const auto expected_a = parse_sha256_fingerprint(openssl_fingerprint("a"));
  const auto expected_b = parse_sha256_fingerprint(openssl_fingerprint("b"));
  ASSERT_TRUE(expected_a);
  ASSERT_TRUE(expected_b);
  EXPECT_NE(*expected_a, *expected_b);

  EXPECT_EQ(certificate_sha256(a), *expected_a);
  EXPECT_EQ(certificate_sha256(b), *expected_b);
  EXPECT_EQ(certificate_sha256(a + b), *expected_a);  // a bundle: its first certificate
  EXPECT_EQ(certificate_sha256("some text before\n" + b), *expected_b);
}

TEST_F(certificates, no_certificate_no_fingerprint) {
  const std::string a = pem("a");
  EXPECT_EQ(certificate_sha256(""), "");
  EXPECT_EQ(certificate_sha256("not pem"), "");
  EXPECT_EQ(certificate_sha256(read_file(dir_ / "a.key")), "");  // a key is not a certificate
  EXPECT_EQ(certificate_sha256(a.substr(0, a.size() / 2)), "");  // truncated
  std::string damaged = a;
  damaged[a.find('\n') + 10] ^= 1;  // one base64 character of the DER changed
  EXPECT_EQ(certificate_sha256(damaged), "");
}

TEST(fingerprint, the_forms_operators_type) {
  const std::string hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  std::string colons;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    colons += (i ? ":" : "") + hex.substr(i, 2);
  }
  std::string upper = colons;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const std::string& typed : std::vector<std::string>{
           hex, colons, upper, "SHA256:" + upper, "sha256:" + hex, " \t" + colons + "\n",
           "sha256 Fingerprint=" + upper, "SHA256 Fingerprint=" + colons}) {
    auto parsed = parse_sha256_fingerprint(typed);
    ASSERT_TRUE(parsed) << typed;
    EXPECT_EQ(*parsed, hex) << typed;
  }
}

TEST(fingerprint, anything_else_is_refused) {
  const std::string hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  for (const std::string& bad : std::vector<std::string>{
           "", hex.substr(0, 40),                // SHA-1
           hex + "00", hex.substr(0, 63) + "g",  // length, digit
           "0:123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
           "01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:"
           "ab:cd:e:f",                                           // misplaced colons
           "SHA256:ASNFZ4mrze8BI0VniavN7wEjRWeJq83vASNFZ4mrze8",  // ssh's base64 form
           "SHA1:" + hex, "sha256 " + hex}) {
    auto parsed = parse_sha256_fingerprint(bad);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_EQ(parsed.error(), http_errc::fingerprint_invalid);
  }
}

}  // namespace
