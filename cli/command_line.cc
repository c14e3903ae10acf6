#include "cli/command_line.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace switchboard::cli {
namespace {

bool IsHelp(absl::string_view arg) { return arg == "--help" || arg == "-h"; }

// Whether `prefix` is a prefix of `path`.
bool StartsWith(const std::vector<std::string>& path, const std::vector<std::string>& prefix) {
  return prefix.size() <= path.size() && std::equal(prefix.begin(), prefix.end(), path.begin());
}

void AppendFlags(const std::vector<FlagSpec>& flags, std::string& out) {
  size_t width = 0;
  std::vector<std::string> heads;
  for (const FlagSpec& flag : flags) {
    std::string head = absl::StrCat("  --", flag.name);
    if (!flag.value_name.empty()) absl::StrAppend(&head, " ", flag.value_name);
    width = std::max(width, head.size());
    heads.push_back(std::move(head));
  }
  for (size_t i = 0; i < flags.size(); ++i) {
    absl::StrAppend(&out, heads[i], std::string(width + 2 - heads[i].size(), ' '), flags[i].help,
                    flags[i].repeated ? " (repeatable)" : "", "\n");
  }
}

}  // namespace

std::string ParsedArgs::Get(absl::string_view name, absl::string_view fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::string(fallback) : it->second.back();
}

std::vector<std::string> ParsedArgs::GetAll(absl::string_view name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

absl::StatusOr<int64_t> ParsedArgs::GetInt(absl::string_view name, int64_t fallback, int64_t min,
                                           int64_t max) const {
  if (!Has(name)) return fallback;
  int64_t value;
  if (!absl::SimpleAtoi(Get(name), &value) || value < min || value > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, " must be a whole number from ", min, " to ", max));
  }
  return value;
}

absl::StatusOr<absl::Duration> ParsedArgs::GetDuration(absl::string_view name,
                                                       absl::Duration fallback) const {
  if (!Has(name)) return fallback;
  absl::Duration value;
  if (!absl::ParseDuration(Get(name), &value) || value < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, " must be a duration such as 30s, 5m or 1h30m"));
  }
  return value;
}

CommandLine::CommandLine(std::string program, std::string summary,
                         std::vector<FlagSpec> global_flags)
    : program_(std::move(program)),
      summary_(std::move(summary)),
      global_flags_(std::move(global_flags)) {
  global_flags_.push_back({.name = "help", .help = "show help for the command"});
}

void CommandLine::AddGroup(std::string name, std::string summary) {
  groups_.emplace_back(std::move(name), std::move(summary));
}

void CommandLine::Add(Command command) { commands_.push_back(std::move(command)); }

const FlagSpec* CommandLine::FindFlag(const Command* command, absl::string_view name) const {
  if (command != nullptr) {
    for (const FlagSpec& flag : command->flags) {
      if (flag.name == name) return &flag;
    }
  }
  for (const FlagSpec& flag : global_flags_) {
    if (flag.name == name) return &flag;
  }
  return nullptr;
}

absl::StatusOr<CommandLine::Invocation> CommandLine::Parse(
    const std::vector<std::string>& argv) const {
  Invocation invocation;
  // Leading global flags, then the longest run of words naming a command.
  size_t i = 0;
  std::vector<std::string> words;
  std::vector<std::string> early_flags;
  for (; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (absl::StartsWith(arg, "-")) {
      early_flags.push_back(arg);
      // A global flag's separate value belongs to it, not to the words.
      const FlagSpec* flag = FindFlag(nullptr, absl::StripPrefix(arg, "--"));
      if (flag != nullptr && !flag->value_name.empty() && !absl::StrContains(arg, '=') &&
          i + 1 < argv.size()) {
        early_flags.push_back(argv[++i]);
      }
      continue;
    }
    std::vector<std::string> longer = words;
    longer.push_back(arg);
    const bool known = std::any_of(commands_.begin(), commands_.end(),
                                   [&](const Command& c) { return StartsWith(c.path, longer); });
    if (!known) break;
    words = std::move(longer);
  }
  for (const Command& command : commands_) {
    if (command.path == words) invocation.command = &command;
  }
  invocation.path = words;

  std::vector<std::string> rest = early_flags;
  rest.insert(rest.end(), argv.begin() + static_cast<std::ptrdiff_t>(i), argv.end());
  if (std::any_of(rest.begin(), rest.end(), IsHelp)) {
    invocation.help = true;
    return invocation;
  }
  if (invocation.command == nullptr) {
    if (i < argv.size()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown command \"",
                                                     absl::StrJoin(words, " "),
                                                     words.empty() ? "" : " ", argv[i], "\""));
    }
    return invocation;  // a group (or nothing): the caller shows its help
  }

  ParsedArgs& args = invocation.args;
  bool flags_done = false;
  for (size_t j = 0; j < rest.size(); ++j) {
    const std::string& arg = rest[j];
    if (flags_done || !absl::StartsWith(arg, "--") || arg.size() == 2) {
      if (arg == "--" && !flags_done) {
        flags_done = true;
        continue;
      }
      args.positional_.push_back(arg);
      continue;
    }
    absl::string_view body = absl::StripPrefix(arg, "--");
    absl::string_view name = body.substr(0, body.find('='));
    const FlagSpec* flag = FindFlag(invocation.command, name);
    if (flag == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    }
    std::string value;
    if (name.size() < body.size()) {
      if (flag->value_name.empty()) {
        return absl::InvalidArgumentError(absl::StrCat("--", name, " takes no value"));
      }
      value = std::string(body.substr(name.size() + 1));
    } else if (!flag->value_name.empty()) {
      if (j + 1 >= rest.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("--", name, " needs a value (", flag->value_name, ")"));
      }
      value = rest[++j];
    }
    auto& values = args.values_[name];
    if (!flag->repeated) values.clear();
    values.push_back(std::move(value));
  }
  const int count = static_cast<int>(args.positional_.size());
  const Command& command = *invocation.command;
  if (count < command.min_args || count > command.max_args) {
    return absl::InvalidArgumentError(
        count < command.min_args
            ? absl::StrCat("missing ", command.arguments)
            : absl::StrCat("unexpected argument \"", args.positional_[command.max_args], "\""));
  }
  return invocation;
}

std::string CommandLine::Help(const std::vector<std::string>& path) const {
  const std::string prefix = absl::StrJoin(path, " ");
  for (const Command& command : commands_) {
    if (command.path != path) continue;
    std::string out = absl::StrCat(command.summary, "\n\nUsage: ", program_, " ", prefix,
                                   command.flags.empty() ? "" : " [flags]",
                                   command.arguments.empty() ? "" : " ", command.arguments, "\n");
    if (!command.description.empty()) absl::StrAppend(&out, "\n", command.description, "\n");
    if (!command.flags.empty()) {
      absl::StrAppend(&out, "\nFlags:\n");
      AppendFlags(command.flags, out);
    }
    absl::StrAppend(&out, "\nGlobal flags:\n");
    AppendFlags(global_flags_, out);
    return out;
  }

  // A group, or the program: list what is under it.
  std::string out;
  if (path.empty()) {
    absl::StrAppend(&out, summary_, "\n\nUsage: ", program_, " [global flags] COMMAND [flags]\n");
  } else {
    for (const auto& [name, summary] : groups_) {
      if (name == path[0]) absl::StrAppend(&out, summary, "\n\n");
    }
    absl::StrAppend(&out, "Usage: ", program_, " ", prefix, " COMMAND [flags]\n");
  }
  absl::StrAppend(&out, "\nCommands:\n");
  std::vector<std::pair<std::string, std::string>> rows;
  if (path.empty()) {
    for (const auto& [name, summary] : groups_) rows.emplace_back(name, summary);
  }
  for (const Command& command : commands_) {
    if (!StartsWith(command.path, path)) continue;
    if (path.empty() && command.path.size() > 1) continue;  // listed by its group
    std::vector<std::string> tail(command.path.begin() + static_cast<std::ptrdiff_t>(path.size()),
                                  command.path.end());
    rows.emplace_back(absl::StrJoin(tail, " "), command.summary);
  }
  size_t width = 0;
  for (const auto& row : rows) width = std::max(width, row.first.size());
  for (const auto& [name, summary] : rows) {
    absl::StrAppend(&out, "  ", name, std::string(width + 2 - name.size(), ' '), summary, "\n");
  }
  absl::StrAppend(&out, "\nGlobal flags:\n");
  AppendFlags(global_flags_, out);
  absl::StrAppend(&out, "\nRun '", program_, " ", prefix, prefix.empty() ? "" : " ",
                  "COMMAND --help' for more about a command.\n");
  return out;
}

}  // namespace switchboard::cli
