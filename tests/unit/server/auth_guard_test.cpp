// The pieces that keep refused traffic cheap: the throttle of failed
// authentications and the folding of refusals in the audit trail.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "api/auth_throttle.hpp"
#include "api/refusal_log.hpp"
#include "http/client_address.hpp"

namespace valise::server {
namespace {

using namespace std::chrono_literals;

TEST(AuthThrottle, BurstThenRetryAfterThenRefill) {
  auth_throttle t({.burst = 3, .window = 30s});
  auto now = auth_throttle::clock::now();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(t.retry_after("a", now), 0s);
    t.failed("a", now);
  }
  EXPECT_EQ(t.retry_after("a", now), 10s);  // one failure back per 10 s
  EXPECT_EQ(t.retry_after("b", now), 0s);   // per address
  EXPECT_EQ(t.retry_after("a", now + 4s), 6s);
  EXPECT_EQ(t.retry_after("a", now + 10s), 0s);
}

TEST(AuthThrottle, ForgetsTheLeastRecentlyFailingFirst) {
  auth_throttle t({.burst = 1, .window = 3600s, .max_addresses = 2});
  auto now = auth_throttle::clock::now();
  t.failed("a", now);
  t.failed("b", now);
  t.failed("a", now);  // a is the most recent now
  t.failed("c", now);  // b goes
  EXPECT_GT(t.retry_after("a", now).count(), 0);
  EXPECT_EQ(t.retry_after("b", now), 0s);
  EXPECT_GT(t.retry_after("c", now).count(), 0);
}

refusal anonymous(const std::string& source, std::string route = "GET /api/v1/tickets") {
  return {.action = "auth.refused",
          .source = source,
          .address = source,
          .by = "anonymous",
          .reason = "no bearer token",
          .route = std::move(route)};
}

TEST(RefusalLog, FirstRecordedThenCountedOncePerInterval) {
  refusal_log log(60, 16);
  auto first = log.record(anonymous("192.0.2.1"), 1000);
  ASSERT_TRUE(first);
  for (int i = 0; i < 299; ++i) EXPECT_FALSE(log.record(anonymous("192.0.2.1"), 1001));
  EXPECT_TRUE(log.flush(1059).empty());
  auto summaries = log.flush(1060);
  ASSERT_EQ(summaries.size(), 1u);
  auto detail = boost::json::parse(summaries[0].detail).as_object();
  EXPECT_EQ(detail.at("count").as_int64(), 299);
  EXPECT_EQ(detail.at("from").as_string(), "192.0.2.1");
  EXPECT_EQ(detail.at("reasons").at("no bearer token").as_int64(), 299);
  // A new interval records its first again.
  EXPECT_TRUE(log.record(anonymous("192.0.2.1"), 1061));
}

TEST(RefusalLog, WhatTheClientSentIsShortAndEscaped) {
  refusal_log log(60);
  auto long_path = "GET /api/v1/tickets/" + std::string(15500, 'a');
  auto r = log.record(anonymous("192.0.2.1", long_path), 1);
  ASSERT_TRUE(r);
  EXPECT_LT(r->detail.size(), 400u);
  auto detail = boost::json::parse(r->detail).as_object();
  EXPECT_EQ(detail.at("route_length").as_int64(), static_cast<std::int64_t>(long_path.size()));
  EXPECT_EQ(short_escaped("GET /a\x1b[31m\"b"), "GET /a%1B[31m%22b");
  EXPECT_EQ(short_escaped(std::string(200, 'x'), 10), "xxxxxxxxxx...");
}

TEST(RefusalLog, RecordsPerIntervalAreBoundedWhateverTheSources) {
  refusal_log log(60, 4);
  std::size_t records = 0;
  for (int i = 0; i < 10000; ++i)
    if (log.record(anonymous("198.51.100." + std::to_string(i % 250)), 5)) ++records;
  records += log.flush(65).size();
  EXPECT_LE(records, 2u * (4 + 1));
}

TEST(ClientAddress, KeysAndSets) {
  namespace ip = boost::asio::ip;
  EXPECT_EQ(address_key(ip::make_address("192.0.2.1")), "192.0.2.1");
  EXPECT_EQ(address_key(ip::make_address("::ffff:192.0.2.1")), "192.0.2.1");
  EXPECT_EQ(address_key(ip::make_address("2001:db8:1:2:3::4")),
            address_key(ip::make_address("2001:db8:1:2:ffff::1")));
  auto set = address_set::parse({"10.0.0.0/8", "::1", "192.0.2.7"});
  ASSERT_TRUE(set);
  EXPECT_TRUE(set->contains(ip::make_address("10.200.0.1")));
  EXPECT_TRUE(set->contains(ip::make_address("::ffff:10.0.0.1")));
  EXPECT_TRUE(set->contains(ip::make_address("::1")));
  EXPECT_TRUE(set->contains(ip::make_address("192.0.2.7")));
  EXPECT_FALSE(set->contains(ip::make_address("192.0.2.8")));
  EXPECT_FALSE(set->contains(ip::make_address("11.0.0.1")));
  EXPECT_FALSE(address_set::parse({"10.0.0.0/33"}));
  EXPECT_FALSE(address_set::parse({"example.com"}));
}

}  // namespace
}  // namespace valise::server
