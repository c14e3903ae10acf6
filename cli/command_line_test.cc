#include "cli/command_line.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace switchboard::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class CommandLineTest : public ::testing::Test {
 protected:
  CommandLineTest()
      : command_line_("tool", "A tool.",
                      {{.name = "json", .help = "JSON"},
                       {.name = "addr", .value_name = "A", .help = "where"}}) {
    command_line_.AddGroup("issue", "Issues.");
    command_line_.Add({.path = {"issue", "get"},
                       .arguments = "NAME",
                       .summary = "get one",
                       .min_args = 1,
                       .max_args = 1});
    command_line_.Add(
        {.path = {"issue", "list"},
         .summary = "list them",
         .flags = {{.name = "state", .value_name = "STATE", .help = "a state"},
                   {.name = "label", .value_name = "KV", .help = "a label", .repeated = true},
                   {.name = "all", .help = "every page"}}});
    command_line_.Add({.path = {"health"}, .summary = "check"});
  }

  absl::StatusOr<CommandLine::Invocation> Parse(std::vector<std::string> argv) {
    return command_line_.Parse(argv);
  }

  CommandLine command_line_;
};

TEST_F(CommandLineTest, FindsTheCommandAndItsArguments) {
  auto invocation = Parse({"--addr", "h:1", "issue", "get", "issues/7", "--json"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  ASSERT_NE(invocation->command, nullptr);
  EXPECT_THAT(invocation->command->path, ElementsAre("issue", "get"));
  EXPECT_THAT(invocation->args.positional(), ElementsAre("issues/7"));
  EXPECT_EQ(invocation->args.Get("addr"), "h:1");
  EXPECT_TRUE(invocation->args.Has("json"));
}

TEST_F(CommandLineTest, ParsesBothFlagFormsRepeatsAndTheEndOfFlags) {
  auto invocation = Parse({"issue", "list", "--state=routed", "--label", "a=1", "--label=b=2",
                           "--all", "--state", "acknowledged"});
  ASSERT_TRUE(invocation.ok()) << invocation.status();
  EXPECT_EQ(invocation->args.Get("state"), "acknowledged");  // the last one wins
  EXPECT_THAT(invocation->args.GetAll("label"), ElementsAre("a=1", "b=2"));
  EXPECT_TRUE(invocation->args.Has("all"));

  auto dashes = Parse({"issue", "get", "--", "--not-a-flag"});
  ASSERT_TRUE(dashes.ok()) << dashes.status();
  EXPECT_THAT(dashes->args.positional(), ElementsAre("--not-a-flag"));
}

TEST_F(CommandLineTest, RefusesWhatItDoesNotKnowWithAMessage) {
  EXPECT_THAT(std::string(Parse({"issue", "frobnicate"}).status().message()),
              HasSubstr("unknown command \"issue frobnicate\""));
  EXPECT_THAT(std::string(Parse({"issue", "list", "--colour"}).status().message()),
              HasSubstr("unknown flag --colour"));
  EXPECT_THAT(std::string(Parse({"issue", "list", "--state"}).status().message()),
              HasSubstr("--state needs a value"));
  EXPECT_THAT(std::string(Parse({"issue", "list", "--all=yes"}).status().message()),
              HasSubstr("--all takes no value"));
  EXPECT_THAT(std::string(Parse({"issue", "get"}).status().message()), HasSubstr("missing NAME"));
  EXPECT_THAT(std::string(Parse({"issue", "get", "a", "b"}).status().message()),
              HasSubstr("unexpected argument \"b\""));
  EXPECT_THAT(std::string(Parse({"issue", "get", "--state=x", "a"}).status().message()),
              HasSubstr("unknown flag --state"));  // another command's flag
}

TEST_F(CommandLineTest, HelpAnywhereNamesWhatItFollows) {
  auto group = Parse({"issue", "--help"});
  ASSERT_TRUE(group.ok());
  EXPECT_TRUE(group->help);
  EXPECT_THAT(group->path, ElementsAre("issue"));
  const std::string group_help = command_line_.Help(group->path);
  EXPECT_THAT(group_help, HasSubstr("Issues."));
  EXPECT_THAT(group_help, HasSubstr("get "));
  EXPECT_THAT(group_help, HasSubstr("list "));
  EXPECT_THAT(group_help, ::testing::Not(HasSubstr("health")));

  auto command = Parse({"issue", "list", "--state", "x", "-h"});
  ASSERT_TRUE(command.ok());
  EXPECT_TRUE(command->help);
  const std::string help = command_line_.Help(command->path);
  EXPECT_THAT(help, HasSubstr("Usage: tool issue list [flags]"));
  EXPECT_THAT(help, HasSubstr("--label KV"));
  EXPECT_THAT(help, HasSubstr("(repeatable)"));
  EXPECT_THAT(help, HasSubstr("--addr A"));  // global flags too

  const std::string top = command_line_.Help({});
  EXPECT_THAT(top, HasSubstr("issue"));
  EXPECT_THAT(top, HasSubstr("health"));
  EXPECT_THAT(top, ::testing::Not(HasSubstr("list them")));  // listed under its group
}

TEST_F(CommandLineTest, AGroupAloneIsNotACommand) {
  auto invocation = Parse({"issue"});
  ASSERT_TRUE(invocation.ok());
  EXPECT_EQ(invocation->command, nullptr);
  EXPECT_FALSE(invocation->help);
}

TEST_F(CommandLineTest, TypedValuesAreChecked) {
  auto invocation = Parse({"issue", "list", "--state", "12"});
  ASSERT_TRUE(invocation.ok());
  EXPECT_EQ(*invocation->args.GetInt("state", 0, 1, 100), 12);
  EXPECT_FALSE(invocation->args.GetInt("state", 0, 1, 10).ok());
  EXPECT_EQ(*invocation->args.GetInt("absent", 7, 1, 10), 7);
  auto duration = Parse({"issue", "list", "--state", "1m30s"});
  EXPECT_EQ(*duration->args.GetDuration("state", absl::ZeroDuration()), absl::Seconds(90));
  auto bad = Parse({"issue", "list", "--state", "soon"});
  EXPECT_FALSE(bad->args.GetDuration("state", absl::ZeroDuration()).ok());
}

}  // namespace
}  // namespace switchboard::cli
