// Runs every C2SP/CCTV age vector in VALISE_TESTDATA_DIR/age-vectors: success
// exactly where expected, the right kind of failure otherwise, and released
// plaintext hashing to the vector's `payload` (also for payload failures).
#include <gtest/gtest.h>
#include <openssl/sha.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "valise/crypto/age.hpp"

namespace fs = std::filesystem;
using namespace valise::crypto;

namespace {

fs::path vectors_dir() {
  if (const char* env = std::getenv("VALISE_TESTDATA_DIR")) return fs::path(env) / "age-vectors";
  return fs::path(VALISE_TESTDATA_DIR) / "age-vectors";
}

struct vector_file {
  std::string name;
  std::multimap<std::string, std::string> fields;
  std::vector<std::uint8_t> body;
};

std::vector<std::uint8_t> inflate_zlib(const std::vector<std::uint8_t>& in) {
  std::vector<std::uint8_t> out(in.size() * 8 + 1024);
  for (;;) {
    uLongf size = out.size();
    const int rc = uncompress(out.data(), &size, in.data(), in.size());
    if (rc == Z_OK) {
      out.resize(size);
      return out;
    }
    if (rc != Z_BUF_ERROR) throw std::runtime_error("bad zlib data");
    out.resize(out.size() * 4);
  }
}

vector_file load(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), {});
  vector_file v{path.filename().string(), {}, {}};
  const auto split = all.find("\n\n");
  if (split == std::string::npos) throw std::runtime_error("no blank line in " + path.string());
  std::istringstream head(all.substr(0, split));
  for (std::string line; std::getline(head, line);) {
    const auto colon = line.find(": ");
    v.fields.emplace(line.substr(0, colon), line.substr(colon + 2));
  }
  v.body.assign(all.begin() + static_cast<std::ptrdiff_t>(split + 2), all.end());
  if (v.fields.count("compressed")) v.body = inflate_zlib(v.body);
  return v;
}

std::string sha256_hex(const std::vector<std::uint8_t>& data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(data.data(), data.size(), digest);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (auto b : digest) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

// The vectors' failure classes and the errors that belong to each.
std::string classify(std::error_code ec) {
  if (ec.category() != age_category()) return "other: " + ec.message();
  switch (static_cast<errc>(ec.value())) {
    case errc::no_identity_matched:
      return "no match";
    case errc::header_mac_mismatch:
      return "HMAC failure";
    case errc::armor_invalid:
      return "armor failure";
    case errc::payload_truncated:
    case errc::payload_tampered:
    case errc::trailing_data:
      return "payload failure";
    case errc::not_age_file:
    case errc::unsupported_version:
    case errc::malformed_header:
    case errc::work_factor_too_large:
    case errc::scrypt_not_alone:
      return "header failure";
    default:
      return "other: " + ec.message();
  }
}

std::vector<fs::path> vector_paths() {
  std::vector<fs::path> paths;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(vectors_dir(), ec)) paths.push_back(entry.path());
  std::sort(paths.begin(), paths.end());
  return paths;
}

class conformance : public testing::TestWithParam<fs::path> {};

TEST(conformance_data, vectors_are_present) {
  // A missing folder must fail the suite, not silently run zero vectors.
  EXPECT_GE(vector_paths().size(), 90u) << "age vectors not found in " << vectors_dir();
}

TEST_P(conformance, vector) {
  const auto v = load(GetParam());
  std::vector<std::unique_ptr<identity>> owned;
  for (auto [it, end] = v.fields.equal_range("identity"); it != end; ++it) {
    auto id = x25519_identity::parse(it->second);
    ASSERT_TRUE(id) << "bad identity in vector";
    owned.push_back(std::make_unique<x25519_identity>(*id));
  }
  for (auto [it, end] = v.fields.equal_range("passphrase"); it != end; ++it) {
    owned.push_back(std::make_unique<scrypt_identity>(secret_string(std::string(it->second))));
  }
  std::vector<const identity*> ids;
  for (auto& id : owned) ids.push_back(id.get());

  memory_source source(v.body);
  std::vector<std::uint8_t> plaintext;
  std::error_code failure;
  auto d = decryptor::open(source, ids);
  if (!d) {
    failure = d.error();
  } else {
    std::vector<std::uint8_t> buf(10000);  // not a multiple of the chunk size
    for (;;) {
      auto n = d->read(buf);
      if (!n) {
        failure = n.error();
        break;
      }
      if (*n == 0) break;
      plaintext.insert(plaintext.end(), buf.begin(), buf.begin() + static_cast<long>(*n));
    }
  }
  const auto expect = v.fields.find("expect")->second;
  if (expect == "success") {
    EXPECT_FALSE(failure) << failure.message();
  } else {
    ASSERT_TRUE(failure) << "expected " << expect;
    EXPECT_EQ(classify(failure), expect) << failure.message();
  }
  if (auto payload = v.fields.find("payload"); payload != v.fields.end()) {
    EXPECT_EQ(sha256_hex(plaintext), payload->second);
  }
}

INSTANTIATE_TEST_SUITE_P(age, conformance, testing::ValuesIn(vector_paths()),
                         [](const testing::TestParamInfo<fs::path>& param) {
                           return param.param.filename().string();
                         });

}  // namespace
