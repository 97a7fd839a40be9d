// The encryptor and decryptor as callers see them: file layout, armor
// detection, header checks, the passphrase callback, and foreign stanzas.
#include "test_util.hpp"

namespace valise::crypto::test {
namespace {

// A recipient from elsewhere: adds a stanza of an unknown type.
class foreign_recipient final : public recipient {
 public:
  explicit foreign_recipient(stanza s) : stanza_(std::move(s)) {}
  result<std::vector<stanza>> wrap(const file_key&) const override {
    return std::vector<stanza>{stanza_};
  }

 private:
  stanza stanza_;
};

class failing_identity final : public identity {
 public:
  result<std::optional<file_key>> unwrap(std::span<const stanza>) const override {
    return std::make_error_code(std::errc::permission_denied);
  }
};

TEST(age, binary_file_starts_with_the_version_line) {
  const auto r = x25519_identity::generate().to_recipient();
  const auto text = text_of(encrypt({1, 2, 3}, {&r}));
  EXPECT_EQ(text.rfind("age-encryption.org/v1\n-> X25519 ", 0), 0u);
  const auto mac = text.find("\n--- ");
  ASSERT_NE(mac, std::string::npos);
  // MAC line (4 + 43 + LF), nonce (16), one final chunk (3 + 16).
  EXPECT_EQ(text.size(), mac + 1 + 48 + 16 + 3 + 16);
}

TEST(age, armored_file_is_pem_and_opens_with_whitespace_around) {
  const auto id = x25519_identity::generate();
  const auto r = id.to_recipient();
  const auto plain = random_bytes(2 * chunk + 3);
  const auto armored = text_of(encrypt(plain, {&r}, true));
  EXPECT_EQ(armored.rfind("-----BEGIN AGE ENCRYPTED FILE-----\n", 0), 0u);
  EXPECT_TRUE(armored.ends_with("\n-----END AGE ENCRYPTED FILE-----\n"));
  for (const auto& text : {armored, "\r\n  \n" + armored + "\n\n"}) {
    const auto d = decrypt(bytes_of(text), {&id});
    EXPECT_FALSE(d.error) << d.error.message();
    EXPECT_EQ(d.plaintext, plain);
  }
  // Spaces before the begin line on the same line: detected as armor, refused.
  EXPECT_EQ(decrypt(bytes_of("  " + armored), {&id}).error, errc::armor_invalid);
}

TEST(age, decrypts_input_that_arrives_a_few_bytes_at_a_time) {
  const auto id = x25519_identity::generate();
  const auto r = id.to_recipient();
  const auto plain = random_bytes(chunk + 1);
  for (bool armor : {false, true}) {
    const auto cipher = encrypt(plain, {&r}, armor);
    for (std::size_t step : {std::size_t{1}, std::size_t{7}, std::size_t{4096}}) {
      trickle_source in(cipher, step);
      const auto d = decrypt_from(in, {&id});
      EXPECT_FALSE(d.error) << d.error.message();
      EXPECT_EQ(d.plaintext, plain) << armor << " " << step;
    }
  }
}

TEST(age, tells_what_is_not_an_age_file) {
  const auto id = x25519_identity::generate();
  EXPECT_EQ(decrypt({}, {&id}).error, errc::not_age_file);
  EXPECT_EQ(decrypt({'P', 'K', 3, 4, 0, 0}, {&id}).error, errc::not_age_file);
  EXPECT_EQ(decrypt(bytes_of("age-encr"), {&id}).error, errc::not_age_file);
  EXPECT_EQ(decrypt(bytes_of(std::string(2000, ' ')), {&id}).error, errc::not_age_file);
  EXPECT_EQ(decrypt(bytes_of("age-encryption.org/v2\n-> x\n\n--- abc\n"), {&id}).error,
            errc::unsupported_version);
  EXPECT_EQ(decrypt(bytes_of("age-encryption.org/v1\n-> X25519 abc\n"), {&id}).error,
            errc::malformed_header);  // cut in the header
  // A header line that never ends is refused at a bound, not read forever.
  EXPECT_EQ(
      decrypt(bytes_of("age-encryption.org/v1\n-> x " + std::string(2 << 20, 'a')), {&id}).error,
      errc::malformed_header);
}

TEST(age, header_changes_are_detected) {
  const auto id = x25519_identity::generate();
  const auto r = id.to_recipient();
  const auto cipher = encrypt({1, 2, 3}, {&r});
  const auto text = text_of(cipher);
  const auto mac = text.find("\n--- ") + 5;

  auto changed_mac = cipher;
  changed_mac[mac] = changed_mac[mac] == 'A' ? 'B' : 'A';
  EXPECT_EQ(decrypt(changed_mac, {&id}).error, errc::header_mac_mismatch);

  // An unknown stanza added to the header: ignored by the identity, caught by the MAC.
  const std::string extra = "-> example.com/other arg\nAAAA\n";
  auto added = text;
  added.insert(text.find("---"), extra);
  EXPECT_EQ(decrypt(bytes_of(added), {&id}).error, errc::header_mac_mismatch);

  auto no_nonce = cipher;
  no_nonce.resize(text.find('\n', mac) + 1 + 10);
  EXPECT_EQ(decrypt(no_nonce, {&id}).error, errc::malformed_header);
}

TEST(age, unknown_stanzas_are_ignored) {
  const auto id = x25519_identity::generate();
  const auto r = id.to_recipient();
  const foreign_recipient foreign({"example.com/enigma", {"a", "b"}, random_bytes(50)});
  const auto cipher = encrypt({9, 8, 7}, {&foreign, &r});
  EXPECT_NE(text_of(cipher).find("-> example.com/enigma a b\n"), std::string::npos);
  const auto d = decrypt(cipher, {&id});
  EXPECT_FALSE(d.error) << d.error.message();
  EXPECT_EQ(d.plaintext, (std::vector<std::uint8_t>{9, 8, 7}));
}

TEST(age, encryptor_refuses_no_recipients_and_unencodable_stanzas) {
  memory_sink out;
  EXPECT_EQ(encryptor::create({}, out).error(), errc::no_recipients);
  const foreign_recipient bad({"has space", {}, {}});
  std::vector<const recipient*> rs{&bad};
  EXPECT_EQ(encryptor::create(rs, out).error(), std::errc::invalid_argument);
  EXPECT_TRUE(out.data().empty());
}

TEST(age, identity_errors_stop_decryption) {
  const auto r = x25519_identity::generate().to_recipient();
  const failing_identity failing;
  EXPECT_EQ(decrypt(encrypt({1}, {&r}), {&failing}).error, std::errc::permission_denied);
}

TEST(age, passphrase_is_asked_only_for_passphrase_files) {
  int asked = 0;
  const decryptor::passphrase_fn ask = [&asked]() -> valise::result<secret_string> {
    ++asked;
    return secret_string(std::string("pw"));
  };
  const std::vector<const identity*> none;

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

  const decryptor::passphrase_fn wrong = [] { return secret_string(std::string("nope")); };
  memory_source again(to_passphrase);
  EXPECT_EQ(decryptor::open(again, none, wrong).error(), errc::no_identity_matched);
}

TEST(age, finish_twice_writes_one_end) {
  const auto r = x25519_identity::generate().to_recipient();
  memory_sink out;
  std::vector<const recipient*> rs{&r};
  auto e = encryptor::create(rs, out, {.armor = true});
  ASSERT_TRUE(e);
  ASSERT_TRUE(e->finish());
  const auto size = out.data().size();
  EXPECT_TRUE(e->finish());
  EXPECT_EQ(out.data().size(), size);
}

TEST(errors, every_kind_has_a_message_and_a_lowercase_hint) {
  for (int v = static_cast<int>(errc::not_age_file); v <= static_cast<int>(errc::no_recipients);
       ++v) {
    const auto e = static_cast<errc>(v);
    const std::error_code ec = e;
    EXPECT_EQ(ec.category().name(), std::string("age"));
    EXPECT_NE(ec.message(), "unknown age error") << v;
    const auto h = hint(e);
    ASSERT_FALSE(h.empty()) << v;
    EXPECT_FALSE(std::isupper(static_cast<unsigned char>(h.front()))) << h;
    EXPECT_NE(h.back(), '.') << h;
    EXPECT_EQ(h.find('\n'), std::string_view::npos) << h;
  }
  EXPECT_EQ(make_error_code(errc::payload_truncated), errc::payload_truncated);
  EXPECT_NE(make_error_code(errc::payload_truncated), std::errc::io_error);
}

}  // namespace
}  // namespace valise::crypto::test
