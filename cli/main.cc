// switchboard: the command-line client of the three services.
#include <iostream>
#include <string>
#include <vector>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/session.h"

int main(int argc, char** argv) {
  using namespace switchboard::cli;  // NOLINT(google-build-using-namespace)
  CommandLine command_line(
      "switchboard",
      "switchboard — submit customer issues, follow them to closure, manage routing rules\n"
      "and watch notifications, against a running Switchboard.",
      GlobalFlags());
  AddIssueCommands(command_line);
  AddRulesetCommands(command_line);
  AddNotificationCommands(command_line);
  AddProblemCommands(command_line);
  AddHealthCommand(command_line);
  AddDemoCommand(command_line);

  const std::vector<std::string> args(argv + 1, argv + argc);
  auto invocation = command_line.Parse(args);
  if (!invocation.ok()) {
    std::cerr << "error: " << invocation.status().message() << "\n"
              << "Run 'switchboard --help' for usage.\n";
    return kExitUsage;
  }
  if (invocation->help) {
    std::cout << command_line.Help(invocation->path);
    return 0;
  }
  if (invocation->command == nullptr) {  // a group without a command
    std::cerr << command_line.Help(invocation->path);
    return kExitUsage;
  }
  Session session(invocation->args, std::cout, std::cerr);
  if (absl::Status status = session.Init(invocation->args); !status.ok()) {
    return session.UsageError(status.message());
  }
  return invocation->command->run(session, invocation->args);
}
