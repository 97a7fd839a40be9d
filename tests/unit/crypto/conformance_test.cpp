// Runs every C2SP/CCTV age vector in VALISE_TESTDATA_DIR/age-vectors: success
// exactly where expected, the right kind of failure otherwise, and released
// plaintext hashing to the vector's `payload` (also for payload failures).
// A missing or empty folder fails the suite; vectors are never copied here.
#include <openssl/sha.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "test_util.hpp"

namespace valise::crypto::test {
namespace {

namespace fs = std::filesystem;

// The folder holds 94 vectors (README: upstream minus the post-quantum ones).
constexpr std::size_t expected_vectors = 94;

fs::path vectors_dir() {
  if (const char* env = std::getenv("VALISE_TESTDATA_DIR")) return fs::path(env) / "age-vectors";
  return fs::path(VALISE_TESTDATA_DIR) / "age-vectors";
}

struct vector_file {
  std::multimap<std::string, std::string> fields;
  std::vector<std::uint8_t> body;
  bool has_unknown_field = false;
};

std::vector<std::uint8_t> inflate(const std::vector<std::uint8_t>& in) {
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
  static const std::set<std::string> known = {"expect",  "payload",    "identity", "passphrase",
                                              "armored", "compressed", "file key", "comment"};
  std::ifstream in(path, std::ios::binary);
  const std::string all((std::istreambuf_iterator<char>(in)), {});
  const auto split = all.find("\n\n");
  if (split == std::string::npos) throw std::runtime_error("no blank line in " + path.string());
  vector_file v;
  std::istringstream head(all.substr(0, split));
  for (std::string line; std::getline(head, line);) {
    const auto colon = line.find(": ");
    if (colon == std::string::npos) throw std::runtime_error("bad line in " + path.string());
    auto key = line.substr(0, colon);
    v.has_unknown_field |= !known.contains(key);
    v.fields.emplace(std::move(key), line.substr(colon + 2));
  }
  v.body.assign(all.begin() + static_cast<std::ptrdiff_t>(split + 2), all.end());
  if (v.fields.contains("compressed")) v.body = inflate(v.body);
  return v;
}

std::string sha256_hex(const std::vector<std::uint8_t>& data) {
  std::uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(data.data(), data.size(), digest);
  return hex(digest);
}

// The vectors' failure classes, and our errors that belong to each.
std::string classify(std::error_code ec) {
  if (!ec) return "success";
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
    case errc::work_factor_too_large:  // scrypt_work_factor_23: refused before any work
    case errc::scrypt_not_alone:
      return "header failure";
    default:
      return "other: " + ec.message();
  }
}

std::vector<fs::path> vector_paths() {
  std::vector<fs::path> paths;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(vectors_dir(), ec)) {
    if (entry.is_regular_file()) paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

TEST(conformance_data, vectors_are_present) {
  // A missing folder must fail the suite, not silently run zero vectors.
  EXPECT_GE(vector_paths().size(), expected_vectors) << "age vectors missing in " << vectors_dir();
}

class conformance : public testing::TestWithParam<fs::path> {};

TEST_P(conformance, vector) {
  const auto v = load(GetParam());
  if (v.has_unknown_field) GTEST_SKIP() << "unknown field: the README says to ignore the file";
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

  const auto expect = v.fields.find("expect")->second;
  const auto payload = v.fields.find("payload");
  // Whole buffers with odd-sized reads, then input trickling in 7-byte reads
  // with reads of several chunks (decrypting straight into the caller's buffer).
  const std::pair<std::size_t, std::size_t> runs[] = {{v.body.size() + 1, 10000}, {7, 3 * chunk}};
  for (auto [step, read_size] : runs) {
    trickle_source in(v.body, step);
    const auto d = decrypt_from(in, ids, read_size);
    EXPECT_EQ(classify(d.error), expect) << d.error.message() << " (step " << step << ")";
    if (payload != v.fields.end()) {
      EXPECT_EQ(sha256_hex(d.plaintext), payload->second) << "step " << step;
    } else {
      EXPECT_TRUE(d.plaintext.empty()) << "released plaintext without an expected payload";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(age, conformance, testing::ValuesIn(vector_paths()),
                         [](const testing::TestParamInfo<fs::path>& param) {
                           return param.param.filename().string();
                         });
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(conformance);  // vectors_are_present fails instead

}  // namespace
}  // namespace valise::crypto::test
