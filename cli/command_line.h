// The command-line grammar of a tool with subcommands, in the style of git
// and kubectl:
//
//   switchboard [global flags] GROUP COMMAND [flags] [arguments]
//
// Flags are `--name=value` or `--name value` and may come anywhere after the
// command words; a boolean flag takes no value; a repeated flag collects
// every value; `--` ends the flags. `--help` (or `-h`) after any prefix of a
// command asks for the help of what that prefix names.
#ifndef SWITCHBOARD_CLI_COMMAND_LINE_H_
#define SWITCHBOARD_CLI_COMMAND_LINE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace switchboard::cli {

struct FlagSpec {
  std::string name;        // without the leading "--"
  std::string value_name;  // e.g. "FILE"; "" makes a boolean flag
  std::string help;
  bool repeated = false;
};

// The flags and positional arguments of one invocation.
class ParsedArgs {
 public:
  bool Has(absl::string_view name) const { return values_.contains(name); }
  // The last value of `name`, or `fallback` if absent.
  std::string Get(absl::string_view name, absl::string_view fallback = "") const;
  // Every value of a repeated flag, in order.
  std::vector<std::string> GetAll(absl::string_view name) const;
  // INVALID_ARGUMENT naming the flag when the value is not a number in range.
  absl::StatusOr<int64_t> GetInt(absl::string_view name, int64_t fallback, int64_t min,
                                 int64_t max) const;
  // Accepts Abseil's duration syntax: "30s", "1h30m", "250ms".
  absl::StatusOr<absl::Duration> GetDuration(absl::string_view name, absl::Duration fallback) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  friend class CommandLine;
  absl::flat_hash_map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positional_;
};

class Session;

struct Command {
  std::vector<std::string> path;  // the command words, e.g. {"issue", "submit"}
  std::string arguments;          // positional arguments for the usage line, e.g. "NAME"
  std::string summary;            // one line, shown in lists
  std::string description;        // shown by --help after the usage line
  std::vector<FlagSpec> flags;
  int min_args = 0;
  int max_args = 0;
  std::function<int(Session&, const ParsedArgs&)> run;
};

class CommandLine {
 public:
  CommandLine(std::string program, std::string summary, std::vector<FlagSpec> global_flags);

  // A group of commands, e.g. "issue", with its one-line summary.
  void AddGroup(std::string name, std::string summary);
  void Add(Command command);

  // What an argument vector asks for.
  struct Invocation {
    // The command to run; null when the words name a group or nothing.
    const Command* command = nullptr;
    std::vector<std::string> path;  // the command words that matched
    ParsedArgs args;                // the command's and the global flags
    bool help = false;
  };

  // INVALID_ARGUMENT with a message for the user on unknown commands or
  // flags, missing flag values and a wrong number of arguments.
  absl::StatusOr<Invocation> Parse(const std::vector<std::string>& argv) const;

  // The help of the command or group named by `path` ({} for the program).
  std::string Help(const std::vector<std::string>& path) const;

 private:
  const FlagSpec* FindFlag(const Command* command, absl::string_view name) const;

  std::string program_;
  std::string summary_;
  std::vector<FlagSpec> global_flags_;
  std::vector<std::pair<std::string, std::string>> groups_;  // name, summary
  std::vector<Command> commands_;
};

}  // namespace switchboard::cli

#endif  // SWITCHBOARD_CLI_COMMAND_LINE_H_
