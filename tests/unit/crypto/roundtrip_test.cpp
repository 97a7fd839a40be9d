// Encrypt then decrypt through the public API: recipients, passphrases,
// armor, chunk boundaries, and the failures a user can meet.
#include <gtest/gtest.h>
#include <sodium.h>

#include <cmath>
#include <set>

#include "valise/crypto/age.hpp"

using namespace valise::crypto;

namespace {

constexpr std::size_t chunk = 64 * 1024;

std::vector<std::uint8_t> random_bytes(std::size_t n) {
  std::vector<std::uint8_t> data(n);
  randombytes_buf(data.data(), n);
  return data;
}

std::vector<std::uint8_t> encrypt(const std::vector<std::uint8_t>& plain,
                                  std::vector<const recipient*> recipients, bool armor = false,
                                  std::size_t write_size = 1000) {
  memory_sink out;
  auto e = encryptor::create(recipients, out, {.armor = armor});
  EXPECT_TRUE(e);
  for (std::size_t i = 0; i < plain.size(); i += write_size) {
    EXPECT_TRUE(e->write({plain.data() + i, std::min(write_size, plain.size() - i)}));
  }
  EXPECT_TRUE(e->finish());
  return out.data();
}

valise::result<std::vector<std::uint8_t>> decrypt(const std::vector<std::uint8_t>& cipher,
                                                  std::vector<const identity*> ids,
                                                  std::size_t read_size = 100000) {
  memory_source in(cipher);
  auto d = decryptor::open(in, ids);
  if (!d) return d.error();
  std::vector<std::uint8_t> out, buf(read_size);
  for (;;) {
    auto n = d->read(buf);
    if (!n) return n.error();
    if (*n == 0) return out;
    out.insert(out.end(), buf.begin(), buf.begin() + static_cast<long>(*n));
  }
}

class sizes : public testing::TestWithParam<std::size_t> {};

TEST_P(sizes, x25519_round_trip_binary_and_armored) {
  const auto id = x25519_identity::generate();
  const auto r = id.to_recipient();
  const auto plain = random_bytes(GetParam());
  for (bool armor : {false, true}) {
    for (std::size_t io : {std::size_t{1000}, 3 * chunk}) {
      const auto cipher = encrypt(plain, {&r}, armor, io);
      auto back = decrypt(cipher, {&id}, io);
      ASSERT_TRUE(back) << back.error().message();
      EXPECT_EQ(*back, plain) << "armor=" << armor << " io=" << io;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(payload, sizes,
                         testing::Values(0, 1, chunk - 1, chunk, chunk + 1, 2 * chunk,
                                         5 * chunk + 17));

TEST(age, binary_output_starts_with_the_version_line_and_armor_with_pem) {
  const auto r = x25519_identity::generate().to_recipient();
  const auto binary = encrypt({1, 2, 3}, {&r});
  EXPECT_EQ(std::string(binary.begin(), binary.begin() + 22), "age-encryption.org/v1\n");
  const auto armored = encrypt({1, 2, 3}, {&r}, true);
  EXPECT_EQ(std::string(armored.begin(), armored.begin() + 35),
            "-----BEGIN AGE ENCRYPTED FILE-----\n");
}

TEST(age, wrong_key_is_no_match) {
  const auto r = x25519_identity::generate().to_recipient();
  const auto other = x25519_identity::generate();
  EXPECT_EQ(decrypt(encrypt({1}, {&r}), {&other}).error(), errc::no_identity_matched);
}

TEST(age, any_of_several_recipients_opens) {
  const auto a = x25519_identity::generate(), b = x25519_identity::generate();
  const auto ra = a.to_recipient(), rb = b.to_recipient();
  const auto cipher = encrypt({4, 5}, {&ra, &rb});
  EXPECT_TRUE(decrypt(cipher, {&b}));
  EXPECT_TRUE(decrypt(cipher, {&a}));
}

TEST(age, passphrase_round_trip_and_wrong_passphrase) {
  const scrypt_recipient r(secret_string(std::string("correct horse")), 10);
  const auto plain = random_bytes(chunk + 5);
  const auto cipher = encrypt(plain, {&r});
  const scrypt_identity right(secret_string(std::string("correct horse")));
  const scrypt_identity wrong(secret_string(std::string("battery staple")));
  EXPECT_EQ(*decrypt(cipher, {&right}), plain);
  EXPECT_EQ(decrypt(cipher, {&wrong}).error(), errc::no_identity_matched);
}

TEST(age, refuses_work_factor_above_the_limit) {
  const scrypt_recipient r(secret_string(std::string("pw")), 12);
  const scrypt_identity strict(secret_string(std::string("pw")), 11);
  EXPECT_EQ(decrypt(encrypt({1}, {&r}), {&strict}).error(), errc::work_factor_too_large);
}

TEST(age, passphrase_cannot_be_mixed_with_keys) {
  const scrypt_recipient p(secret_string(std::string("pw")), 10);
  const auto k = x25519_identity::generate().to_recipient();
  memory_sink out;
  std::vector<const recipient*> both{&p, &k};
  EXPECT_EQ(encryptor::create(both, out).error(), errc::scrypt_not_alone);
}

TEST(age, truncation_tampering_and_trailing_data_are_told_apart) {
  const auto id = x25519_identity::generate();
  const auto r = id.to_recipient();
  const auto plain = random_bytes(3 * chunk + 100);
  const auto cipher = encrypt(plain, {&r});

  auto truncated = cipher;
  truncated.resize(cipher.size() - 100 - 16);  // drop the final chunk
  EXPECT_EQ(decrypt(truncated, {&id}).error(), errc::payload_truncated);

  auto tampered = cipher;
  tampered[cipher.size() - 2 * chunk] ^= 1;
  EXPECT_EQ(decrypt(tampered, {&id}).error(), errc::payload_tampered);

  auto trailing = cipher;
  trailing.push_back(0);
  EXPECT_FALSE(decrypt(trailing, {&id}));

  auto header = cipher;
  header[30] ^= 1;  // inside the stanza: unwrap or MAC fails, never plaintext
  EXPECT_FALSE(decrypt(header, {&id}));
}

TEST(age, releases_authenticated_chunks_before_reporting_a_bad_one) {
  const auto id = x25519_identity::generate();
  const auto r = id.to_recipient();
  const auto plain = random_bytes(3 * chunk);
  auto cipher = encrypt(plain, {&r});
  cipher[cipher.size() - 10] ^= 1;  // last chunk
  memory_source in(cipher);
  std::vector<const identity*> ids{&id};
  auto d = decryptor::open(in, ids);
  ASSERT_TRUE(d);
  std::vector<std::uint8_t> buf(chunk), got;
  valise::result<std::size_t> n = std::size_t{0};
  while ((n = d->read(buf)) && *n > 0)
    got.insert(got.end(), buf.begin(), buf.begin() + static_cast<long>(*n));
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error(), errc::payload_tampered);
  EXPECT_EQ(got, std::vector<std::uint8_t>(plain.begin(), plain.begin() + 2 * chunk));
}

TEST(age, not_an_age_file) {
  const auto id = x25519_identity::generate();
  EXPECT_EQ(decrypt({'P', 'K', 3, 4, 0, 0}, {&id}).error(), errc::not_age_file);
  EXPECT_EQ(decrypt({}, {&id}).error(), errc::not_age_file);
}

TEST(keys, identity_file_round_trips_like_age_keygen) {
  const auto id = x25519_identity::generate();
  const auto text = format_identity_file(id);
  EXPECT_EQ(text.rfind("# created: ", 0), 0u);
  EXPECT_NE(text.find("# public key: " + id.to_recipient().to_string() + "\n"), std::string::npos);
  auto parsed = parse_identity_file(text);
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->size(), 1u);
  EXPECT_EQ((*parsed)[0].to_string(), id.to_string());
  EXPECT_EQ(parse_identity_file("# only a comment\n").error(), errc::invalid_identity);
  EXPECT_EQ(parse_recipients_file("age1nope\n").error(), errc::invalid_recipient);
}

TEST(passphrase, has_at_least_100_bits_from_an_unambiguous_alphabet) {
  const std::string alphabet = "abcdefghjkmnpqrstuvwxyz23456789";
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const auto p = generate_passphrase();
    std::size_t symbols = 0;
    for (char c : p.view()) {
      if (c == '-') continue;
      ASSERT_NE(alphabet.find(c), std::string::npos) << "look-alike or unexpected: " << c;
      ++symbols;
    }
    EXPECT_GE(static_cast<double>(symbols) * std::log2(alphabet.size()), 100.0);
    seen.insert(std::string(p.view()));
  }
  EXPECT_EQ(seen.size(), 200u);
}

}  // namespace

namespace {

TEST(age, passphrase_is_asked_only_for_passphrase_files) {
  int asked = 0;
  const decryptor::passphrase_fn ask = [&asked]() -> valise::result<secret_string> {
    ++asked;
    return secret_string(std::string("pw"));
  };
  std::vector<const identity*> none;

  const auto r = x25519_identity::generate().to_recipient();
  const auto to_key = encrypt({1, 2}, {&r});
  memory_source key_file(to_key);
  EXPECT_EQ(decryptor::open(key_file, none, ask).error(), errc::no_identity_matched);
  EXPECT_EQ(asked, 0);

  const scrypt_recipient p(secret_string(std::string("pw")), 10);
  const auto to_passphrase = encrypt({3, 4}, {&p});
  memory_source passphrase_file(to_passphrase);
  auto d = decryptor::open(passphrase_file, none, ask);
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ(asked, 1);
  std::vector<std::uint8_t> out(10);
  EXPECT_EQ(*d->read(out), 2u);
  EXPECT_EQ(out[0], 3);
}

}  // namespace
