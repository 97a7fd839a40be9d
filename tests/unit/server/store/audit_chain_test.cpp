// The audit chain's keyed hash and checkpoints against values worked out
// independently, with Python's hmac:
//   key = bytes(range(32))
//   field = lambda s: len(s.encode()).to_bytes(8, "big") + s.encode()
//   hmac.new(key, b"valise audit v2" + b"".join(map(field, ["0" * 64, "1",
//       "1800000000", "system", "ticket.created", "T-1",
//       '{"title":"disk full"}'])), "sha256").hexdigest()
//   hmac.new(key, b"valise audit key id", "sha256").hexdigest()[:16]
//   hmac.new(key, b"valise audit checkpoint v1" + field("7") +
//       field("ab" * 32) + field("1800000060"), "sha256").hexdigest()
#include "store/audit_chain.hpp"

#include <gtest/gtest.h>

namespace valise::server {
namespace {

audit_key fixed_key(std::int64_t keyed_from = 1) {
  audit_key key;
  for (std::size_t i = 0; i < key.bytes.size(); ++i) key.bytes[i] = static_cast<std::uint8_t>(i);
  key.keyed_from = keyed_from;
  return key;
}

const audit_record first{
    1, 1'800'000'000, "system", "ticket.created", "T-1", R"({"title":"disk full"})", {}};

TEST(AuditChain, KeyedLinkIsHmacSha256OfThePreviousHashAndTheFields) {
  EXPECT_EQ(audit_hash(fixed_key(), audit_genesis, first),
            "859e3d11f81999b4e237e3ae9ff8141b81efe0a62e82243eedc8e1a3d1c5c9ca");
  EXPECT_EQ(audit_key_id(fixed_key()), "991e59ec7511c6f3");
}

TEST(AuditChain, RecordsBeforeTheKeyKeepTheirV1Hash) {
  EXPECT_EQ(audit_hash(fixed_key(2), audit_genesis, first), audit_hash_v1(audit_genesis, first));
  EXPECT_NE(audit_hash(fixed_key(1), audit_genesis, first), audit_hash_v1(audit_genesis, first));
  auto other = fixed_key();
  other.bytes[0] ^= 1;
  EXPECT_NE(audit_hash(other, audit_genesis, first), audit_hash(fixed_key(), audit_genesis, first));
}

TEST(AuditChain, CheckpointMacAndLine) {
  std::string head;
  for (int i = 0; i < 32; ++i) head += "ab";
  auto c = sign_checkpoint(fixed_key(), 7, head, 1'800'000'060);
  EXPECT_EQ(c.mac, "717a672b4021192627f3ca1743858f0230ed3acb15176b35120280c3e10fd41e");
  EXPECT_EQ(c.key_id, "991e59ec7511c6f3");
  const auto line = format_checkpoint(c);
  EXPECT_EQ(line.rfind("valise-audit-checkpoint v1 records=7 head=abab", 0), 0u);
  // As journalctl prints it, prefix and all.
  auto parsed =
      parse_checkpoint("Dec 02 10:00:00 host valise-server[12]: [info] audit checkpoint: " + line);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(format_checkpoint(*parsed), line);
  EXPECT_TRUE(checkpoint_authentic(fixed_key(), *parsed));
  // As a file holds it.
  EXPECT_EQ(format_checkpoint(*parse_checkpoint(line + "\r\n")), line);
  parsed->records = 6;
  EXPECT_FALSE(checkpoint_authentic(fixed_key(), *parsed));
  auto other = fixed_key();
  other.bytes[31] ^= 0x80;
  EXPECT_FALSE(checkpoint_authentic(other, c));
  EXPECT_NE(audit_key_id(other), c.key_id);
}

TEST(AuditChain, MalformedCheckpointsAreRefused) {
  const auto line = format_checkpoint(sign_checkpoint(fixed_key(), 3, audit_genesis, 5));
  EXPECT_TRUE(parse_checkpoint(line));
  EXPECT_FALSE(parse_checkpoint("audit checkpoint: nothing here"));
  for (auto [from, to] :
       std::initializer_list<std::pair<std::string, std::string>>{{"records=3", "records=-3"},
                                                                  {"records=3", "records=3x"},
                                                                  {"time=5", "time="},
                                                                  {"head=0000", "head=000G"},
                                                                  {" key=", " kee="},
                                                                  {" mac=", " mac=z"}}) {
    auto bad = line;
    bad.replace(bad.find(from), from.size(), to);
    EXPECT_FALSE(parse_checkpoint(bad)) << bad;
  }
  EXPECT_FALSE(parse_checkpoint(line.substr(0, line.size() - 1)));
}

TEST(AuditChain, KeyFileRoundTripsAndRefusesAnythingElse) {
  const auto text = format_audit_key(fixed_key(42));
  EXPECT_EQ(text,
            "valise-audit-key v1\nkeyed_from=42\n"
            "key=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n");
  auto key = parse_audit_key(text);
  ASSERT_TRUE(key);
  EXPECT_EQ(key->keyed_from, 42);
  EXPECT_EQ(key->bytes, fixed_key().bytes);
  EXPECT_FALSE(parse_audit_key(""));
  EXPECT_FALSE(parse_audit_key(text.substr(0, text.size() - 3)));
  EXPECT_FALSE(parse_audit_key(text + "extra\n"));
  EXPECT_FALSE(parse_audit_key("valise-audit-key v1\nkeyed_from=0\nkey=" + std::string(64, '0')));
}

}  // namespace
}  // namespace valise::server
