// The commands of `switchboard`, one registration function per group.
#ifndef SWITCHBOARD_CLI_COMMANDS_H_
#define SWITCHBOARD_CLI_COMMANDS_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "cli/command_line.h"
#include "switchboard/issue/v1/issue.pb.h"

namespace switchboard::cli {

class Session;

void AddIssueCommands(CommandLine& command_line);         // issue_commands.cc
void AddRulesetCommands(CommandLine& command_line);       // ruleset_commands.cc
void AddNotificationCommands(CommandLine& command_line);  // notification_commands.cc
void AddProblemCommands(CommandLine& command_line);       // problem_commands.cc
void AddDemoCommand(CommandLine& command_line);           // demo.cc
void AddHealthCommand(CommandLine& command_line);         // health_command.cc

// "issues/ID" for "ID" or "issues/ID".
std::string IssueName(absl::string_view arg);

// "problems/ID" for "ID" or "problems/ID".
std::string ProblemName(absl::string_view arg);

// Who is acting: --actor, else $SWITCHBOARD_ACTOR, else $USER, else "cli".
std::string ActorOf(const ParsedArgs& args);

// The target of --team and --group; without --group, the team's business
// group in the active ruleset. nullopt after reporting why there is none.
std::optional<issue::v1::Target> TargetOf(Session& session, const ParsedArgs& args);

}  // namespace switchboard::cli

#endif  // SWITCHBOARD_CLI_COMMANDS_H_
