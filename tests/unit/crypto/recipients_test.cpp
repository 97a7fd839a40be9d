// The native recipient types, X25519 and scrypt: round trips through the
// public API, and the stanza checks age.md requires of identities.
#include "bech32.hpp"
#include "test_util.hpp"

namespace valise::crypto::test {
namespace {

secret_string pass(std::string text) {
  return secret_string(std::move(text));
}

file_key some_key() {
  file_key key;
  randombytes_buf(key.data, sizeof key.data);
  return key;
}

// The identity's verdict on a header holding only `s`.
valise::result<std::optional<file_key>> unwrap_one(const identity& id, stanza s) {
  const std::vector<stanza> stanzas{std::move(s)};
  return id.unwrap(stanzas);
}

TEST(x25519, round_trip_and_wrong_key) {
  const auto id = x25519_identity::generate();
  const auto r = id.to_recipient();
  const auto plain = random_bytes(3 * chunk + 7);
  const auto cipher = encrypt(plain, {&r});
  const auto d = decrypt(cipher, {&id});
  EXPECT_FALSE(d.error) << d.error.message();
  EXPECT_EQ(d.plaintext, plain);
  const auto other = x25519_identity::generate();
  EXPECT_EQ(decrypt(cipher, {&other}).error, errc::no_identity_matched);
}

TEST(x25519, each_of_several_recipients_opens_the_file) {
  const auto a = x25519_identity::generate(), b = x25519_identity::generate();
  const auto ra = a.to_recipient(), rb = b.to_recipient();
  const auto cipher = encrypt({4, 5}, {&ra, &rb});
  EXPECT_EQ(decrypt(cipher, {&a}).plaintext, (std::vector<std::uint8_t>{4, 5}));
  EXPECT_EQ(decrypt(cipher, {&b}).plaintext, (std::vector<std::uint8_t>{4, 5}));
  const auto c = x25519_identity::generate();
  EXPECT_FALSE(decrypt(cipher, {&c, &b}).error);  // any identity in the list
}

TEST(x25519, stanza_is_fresh_and_well_formed) {
  const auto id = x25519_identity::generate();
  const auto key = some_key();
  const auto s1 = id.to_recipient().wrap(key), s2 = id.to_recipient().wrap(key);
  ASSERT_TRUE(s1 && s2);
  ASSERT_EQ(s1->size(), 1u);
  const auto& s = s1->front();
  EXPECT_EQ(s.type, "X25519");
  ASSERT_EQ(s.args.size(), 1u);
  EXPECT_EQ(s.args[0].size(), 43u);  // 32 bytes, unpadded base64
  EXPECT_EQ(s.body.size(), 32u);
  EXPECT_NE(s.args[0], s2->front().args[0]) << "a new ephemeral share per stanza";
  auto unwrapped = unwrap_one(id, s);
  ASSERT_TRUE(unwrapped && *unwrapped);
  EXPECT_EQ(std::vector<std::uint8_t>(std::begin((*unwrapped)->data), std::end((*unwrapped)->data)),
            std::vector<std::uint8_t>(std::begin(key.data), std::end(key.data)));
}

TEST(x25519, malformed_stanzas_of_its_type_fail_the_header) {
  const auto id = x25519_identity::generate();
  const auto good = id.to_recipient().wrap(some_key())->front();
  auto with = [&](auto change) {
    stanza s = good;
    change(s);
    return unwrap_one(id, s);
  };
  EXPECT_EQ(with([](stanza& s) { s.args.push_back("x"); }).error(), errc::malformed_header);
  EXPECT_EQ(with([](stanza& s) { s.args.clear(); }).error(), errc::malformed_header);
  EXPECT_EQ(with([](stanza& s) { s.args[0].pop_back(); }).error(), errc::malformed_header);
  EXPECT_EQ(with([](stanza& s) { s.body.push_back(0); }).error(), errc::malformed_header);
  EXPECT_EQ(with([](stanza& s) { s.body.pop_back(); }).error(), errc::malformed_header);
  // The identity point as share: an all-zero shared secret must abort.
  EXPECT_EQ(with([](stanza& s) { s.args[0] = std::string(42, 'A') + "A"; }).error(),
            errc::malformed_header);
  // Another type, or a wrong tag: not for this identity, not an error.
  EXPECT_FALSE(*with([](stanza& s) { s.type = "x25519"; }));
  EXPECT_FALSE(*with([](stanza& s) { s.body[0] ^= 1; }));
}

TEST(x25519, refuses_a_low_order_recipient) {
  // The all-zero point is a valid encoding but gives an all-zero shared secret.
  const auto r =
      x25519_recipient::parse(detail::bech32_encode("age", std::vector<std::uint8_t>(32)));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->wrap(some_key()).error(), errc::invalid_recipient);
}

TEST(scrypt, round_trip_and_wrong_passphrase) {
  const scrypt_recipient r(pass("correct horse"), 10);
  const auto plain = random_bytes(chunk + 5);
  const auto cipher = encrypt(plain, {&r});
  const scrypt_identity right(pass("correct horse")), wrong(pass("battery staple"));
  EXPECT_EQ(decrypt(cipher, {&right}).plaintext, plain);
  EXPECT_EQ(decrypt(cipher, {&wrong}).error, errc::no_identity_matched);
  EXPECT_EQ(decrypt(cipher, {&wrong, &right}).plaintext, plain);
}

TEST(scrypt, encrypts_with_work_factor_18_by_default) {
  const scrypt_recipient r(pass("pw"));
  const auto stanzas = r.wrap(some_key());
  ASSERT_TRUE(stanzas);
  const auto& s = stanzas->front();
  EXPECT_EQ(s.type, "scrypt");
  ASSERT_EQ(s.args.size(), 2u);
  EXPECT_EQ(s.args[0].size(), 22u);  // 16-byte salt, unpadded base64
  EXPECT_EQ(s.args[1], "18");
  EXPECT_EQ(s.body.size(), 32u);
}

TEST(scrypt, decryption_refuses_work_factors_above_the_limit) {
  const scrypt_recipient r(pass("pw"), 12);
  const auto cipher = encrypt({1}, {&r});
  const scrypt_identity strict(pass("pw"), 11), enough(pass("pw"), 12);
  EXPECT_EQ(decrypt(cipher, {&strict}).error, errc::work_factor_too_large);
  EXPECT_FALSE(decrypt(cipher, {&enough}).error);
  // The default limit is 22: a factor of 23 is refused before any work.
  auto s = r.wrap(some_key())->front();
  s.args[1] = "23";
  EXPECT_EQ(unwrap_one(scrypt_identity(pass("pw")), s).error(), errc::work_factor_too_large);
  s.args[1] = "184467440737095516150";  // would overflow any integer
  EXPECT_EQ(unwrap_one(scrypt_identity(pass("pw")), s).error(), errc::work_factor_too_large);
}

TEST(scrypt, malformed_stanzas_of_its_type_fail_the_header) {
  const scrypt_identity id(pass("pw"));
  const auto good = scrypt_recipient(pass("pw"), 10).wrap(some_key())->front();
  for (const char* factor : {"", "0", "010", "+10", "0x0a", "10a", " 10", "-1", "1e1"}) {
    stanza s = good;
    s.args[1] = factor;
    EXPECT_EQ(unwrap_one(id, s).error(), errc::malformed_header) << '"' << factor << '"';
  }
  auto with = [&](auto change) {
    stanza s = good;
    change(s);
    return unwrap_one(id, s);
  };
  EXPECT_EQ(with([](stanza& s) { s.args.pop_back(); }).error(), errc::malformed_header);
  EXPECT_EQ(with([](stanza& s) { s.args.push_back("x"); }).error(), errc::malformed_header);
  EXPECT_EQ(with([](stanza& s) { s.args[0].pop_back(); }).error(), errc::malformed_header);
  EXPECT_EQ(with([](stanza& s) { s.body.push_back(0); }).error(), errc::malformed_header);
  EXPECT_FALSE(*with([](stanza& s) { s.type = "Scrypt"; }));  // not ours: ignored
}

TEST(scrypt, must_be_the_only_stanza) {
  const scrypt_recipient p(pass("pw"), 10);
  const auto k = x25519_identity::generate().to_recipient();
  memory_sink out;
  std::vector<const recipient*> both{&p, &k};
  EXPECT_EQ(encryptor::create(both, out).error(), errc::scrypt_not_alone);
  std::vector<const recipient*> twice{&p, &p};
  EXPECT_EQ(encryptor::create(twice, out).error(), errc::scrypt_not_alone);

  auto stanzas = *p.wrap(some_key());
  stanzas.push_back(stanza{"other", {}, {}});
  EXPECT_EQ(scrypt_identity(pass("pw")).unwrap(stanzas).error(), errc::scrypt_not_alone);
}

TEST(scrypt, recipient_refuses_unusable_settings) {
  EXPECT_EQ(scrypt_recipient(pass(""), 10).wrap(some_key()).error(), std::errc::invalid_argument);
  EXPECT_EQ(scrypt_recipient(pass("pw"), 0).wrap(some_key()).error(), std::errc::invalid_argument);
  EXPECT_EQ(scrypt_recipient(pass("pw"), 31).wrap(some_key()).error(), errc::work_factor_too_large);
}

}  // namespace
}  // namespace valise::crypto::test
