// A node's name as PostgreSQL keeps it (application_name: 63 bytes of
// printable ASCII), which `valise-server status` compares with its own.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "cluster/leader.hpp"

namespace valise::server::cluster {
namespace {

// What PostgreSQL would store: names outside this are cut or rewritten.
bool kept_as_is(const std::string& name) {
  return name.size() <= 63 &&
         std::ranges::all_of(name, [](char c) { return c >= 0x20 && c <= 0x7e; });
}

TEST(NodeName, AShortNameIsHostAndListen) {
  EXPECT_EQ(node_name("node-a", "0.0.0.0:8443"), "valise-server node-a 0.0.0.0:8443");
}

TEST(NodeName, ANameOfExactly63BytesIsKept) {
  const std::string host(63 - std::string("valise-server  1.2.3.4:5").size(), 'h');
  const auto name = node_name(host, "1.2.3.4:5");
  EXPECT_EQ(name, "valise-server " + host + " 1.2.3.4:5");
  EXPECT_EQ(name.size(), 63U);
}

TEST(NodeName, LongHostsThatShareTheirFirst63BytesGetDifferentNamesThatFit) {
  const std::string shared(70, 'x');
  const auto a = node_name(shared + ".rack1.example", "0.0.0.0:8443");
  const auto b = node_name(shared + ".rack2.example", "0.0.0.0:8443");
  EXPECT_TRUE(kept_as_is(a)) << a;
  EXPECT_TRUE(kept_as_is(b)) << b;
  EXPECT_NE(a, b);
  EXPECT_TRUE(a.starts_with("valise-server xxx")) << a;
  // The same at every start, so status run later finds it.
  EXPECT_EQ(a, node_name(shared + ".rack1.example", "0.0.0.0:8443"));
}

TEST(NodeName, ALongListenOnTheSameHostStillTellsNodesApart) {
  const std::string host(60, 'h');
  EXPECT_NE(node_name(host, "[2001:db8::1]:8443"), node_name(host, "[2001:db8::1]:8444"));
}

TEST(NodeName, BytesPostgreSQLWouldRewriteAreReplacedAndTheNameStaysDistinct) {
  const auto accented = node_name("n\xc5\x93ud", "0.0.0.0:8443");
  const auto question = node_name("n??ud", "0.0.0.0:8443");
  EXPECT_TRUE(kept_as_is(accented)) << accented;
  EXPECT_TRUE(accented.starts_with("valise-server n??ud 0.0.0.0:8443 ")) << accented;
  EXPECT_NE(accented, question);
  EXPECT_TRUE(kept_as_is(node_name("tab\there", "0.0.0.0:8443")));
}

TEST(NodeName, ThisMachinesNameFits) {
  EXPECT_TRUE(kept_as_is(node_name("0.0.0.0:8443")));
}

}  // namespace
}  // namespace valise::server::cluster
