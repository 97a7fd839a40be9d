#include "http/proxy_protocol.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace valise::server::proxy_protocol {
namespace {

parsed of(const std::string& s) {
  return parse({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
}

std::vector<std::uint8_t> v2(std::uint8_t command, std::uint8_t family,
                             const std::vector<std::uint8_t>& addresses) {
  static const std::uint8_t signature[] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                           0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
  std::vector<std::uint8_t> out(16 + addresses.size());
  std::copy(std::begin(signature), std::end(signature), out.begin());
  out[12] = static_cast<std::uint8_t>(0x20 | command);
  out[13] = family;
  out[15] = static_cast<std::uint8_t>(addresses.size());
  std::copy(addresses.begin(), addresses.end(), out.begin() + 16);
  return out;
}

TEST(ProxyProtocol, Version1) {
  const std::string line = "PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\n";
  auto p = of(line + "\x16\x03\x01");
  ASSERT_EQ(p.outcome, state::complete) << p.problem;
  EXPECT_EQ(p.length, line.size());
  EXPECT_EQ(p.source->to_string(), "192.0.2.7");
  auto six = of("PROXY TCP6 2001:db8::1 2001:db8::2 1 2\r\n");
  ASSERT_EQ(six.outcome, state::complete);
  EXPECT_EQ(six.source->to_string(), "2001:db8::1");
  auto unknown = of("PROXY UNKNOWN\r\n");
  ASSERT_EQ(unknown.outcome, state::complete);
  EXPECT_FALSE(unknown.source);
}

TEST(ProxyProtocol, Version1NeedsMoreOrRefuses) {
  EXPECT_EQ(of("PRO").outcome, state::need_more);
  EXPECT_EQ(of("PROXY TCP4 192.0.2.7 198.51").outcome, state::need_more);
  EXPECT_EQ(of("\x16\x03\x01\x02").outcome, state::invalid);  // a TLS ClientHello
  EXPECT_EQ(of("GET / HTTP/1.1\r\n").outcome, state::invalid);
  EXPECT_EQ(of("PROXY TCP4 999.0.2.7 198.51.100.1 1 2\r\n").outcome, state::invalid);
  EXPECT_EQ(of("PROXY TCP4 192.0.2.7 198.51.100.1 1 65536\r\n").outcome, state::invalid);
  EXPECT_EQ(of("PROXY TCP4 2001:db8::1 198.51.100.1 1 2\r\n").outcome, state::invalid);
  EXPECT_EQ(of("PROXY TCP4 192.0.2.7 198.51.100.1 1\r\n").outcome, state::invalid);
  EXPECT_EQ(of("PROXY " + std::string(120, 'x')).outcome, state::invalid);
}

TEST(ProxyProtocol, Version2) {
  auto four = v2(1, 0x11, {192, 0, 2, 7, 198, 51, 100, 1, 0xdc, 0x04, 0x01, 0xbb});
  four.push_back(0x16);
  auto p = parse(four);
  ASSERT_EQ(p.outcome, state::complete) << p.problem;
  EXPECT_EQ(p.length, 28u);
  EXPECT_EQ(p.source->to_string(), "192.0.2.7");

  std::vector<std::uint8_t> six(36, 0);
  six[0] = 0x20, six[1] = 0x01, six[2] = 0x0d, six[3] = 0xb8, six[15] = 9;
  auto q = parse(v2(1, 0x21, six));
  ASSERT_EQ(q.outcome, state::complete);
  EXPECT_EQ(q.source->to_string(), "2001:db8::9");

  auto local = parse(v2(0, 0x00, {}));  // HAProxy's health check
  ASSERT_EQ(local.outcome, state::complete);
  EXPECT_FALSE(local.source);
}

TEST(ProxyProtocol, Version2NeedsMoreOrRefuses) {
  auto whole = v2(1, 0x11, {192, 0, 2, 7, 198, 51, 100, 1, 0, 1, 0, 2});
  for (std::size_t n = 1; n < whole.size(); ++n)
    EXPECT_EQ(parse({whole.data(), n}).outcome, state::need_more) << n;
  auto bad_version = whole;
  bad_version[12] = 0x11;
  EXPECT_EQ(parse(bad_version).outcome, state::invalid);
  auto bad_command = whole;
  bad_command[12] = 0x22;
  EXPECT_EQ(parse(bad_command).outcome, state::invalid);
  auto short_addresses = v2(1, 0x11, {192, 0, 2, 7});
  EXPECT_EQ(parse(short_addresses).outcome, state::invalid);
  auto huge = whole;
  huge[14] = 0x10;  // 4096 bytes of TLVs
  EXPECT_EQ(parse(huge).outcome, state::invalid);
}

}  // namespace
}  // namespace valise::server::proxy_protocol
