#include "common/host_port.h"

#include <gtest/gtest.h>

namespace switchboard {
namespace {

TEST(HostPortTest, ParsesNamesIpv4AndBracketedIpv6) {
  auto parsed = ParseHostPort("switchboard-routing:50052");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->host, "switchboard-routing");
  EXPECT_EQ(parsed->port, 50052);
  parsed = ParseHostPort("127.0.0.1:0");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->host, "127.0.0.1");
  EXPECT_EQ(parsed->port, 0);
  parsed = ParseHostPort("[::1]:65535");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->host, "::1");
  EXPECT_EQ(parsed->port, 65535);
}

TEST(HostPortTest, RefusesWhatIsNotHostColonPort) {
  for (const char* address : {"", "host", ":80", "host:", "host:65536", "host:-1", "host:+80",
                              "host:8o", "host:123456", "::1:80", "[::1:80", "[]:80", "[::1]"}) {
    EXPECT_FALSE(ParseHostPort(address).has_value()) << address;
  }
}

TEST(HostPortTest, EndpointsNeedAPortAndAHostOfAddressCharacters) {
  EXPECT_TRUE(IsValidEndpoint("receiver.team-a.svc:443"));
  EXPECT_TRUE(IsValidEndpoint("[fe80::1]:8080"));
  EXPECT_FALSE(IsValidEndpoint("receiver:0"));
  EXPECT_FALSE(IsValidEndpoint("-receiver:443"));
  EXPECT_FALSE(IsValidEndpoint("rec eiver:443"));
  EXPECT_FALSE(IsValidEndpoint("[fe80::zz]:443"));
  EXPECT_FALSE(IsValidEndpoint("http://receiver:443"));
}

}  // namespace
}  // namespace switchboard
