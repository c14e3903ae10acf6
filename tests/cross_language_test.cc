// The wire contract from another ecosystem: tests/node/client.test.mjs
// (Node's @grpc/grpc-js loading the .proto files) against the real stack.
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/stack.h"

namespace switchboard {
namespace {

using testing::Service;

TEST(CrossLanguageTest, NodeClientPassesAgainstTheRealServices) {
  const std::string script = SWITCHBOARD_SOURCE_DIR "/tests/node/client.test.mjs";
  ASSERT_TRUE(
      std::filesystem::exists(SWITCHBOARD_SOURCE_DIR "/tools/node/node_modules/@grpc/grpc-js"))
      << "run scripts/install-deps.sh first";
  auto stack = testing::Stack::Launch({});
  ASSERT_TRUE(stack.ok()) << stack.status();
  setenv("SWITCHBOARD_INTAKE", (*stack)->target(Service::kIntake).c_str(), 1);
  setenv("SWITCHBOARD_ROUTING", (*stack)->target(Service::kRouting).c_str(), 1);
  setenv("SWITCHBOARD_NOTIFICATION", (*stack)->target(Service::kNotification).c_str(), 1);

  auto node = testing::Subprocess::Start("/usr/bin/env", {"node", "--test", script},
                                         {.capture_stdout = true});
  ASSERT_TRUE(node.ok()) << node.status();
  const std::string output = (*node)->ReadToEnd(absl::Seconds(120));
  absl::StatusOr<int> code = (*node)->Wait(absl::Seconds(30));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0) << output;
  EXPECT_NE(output.find("# fail 0"), std::string::npos) << output;
  std::cout << output.substr(
      output.rfind("# tests") == std::string::npos ? 0 : output.rfind("# tests"));
}

}  // namespace
}  // namespace switchboard
