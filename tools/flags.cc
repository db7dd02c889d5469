#include "tools/flags.h"

#include <charconv>
#include <cstdio>
#include <exception>
#include <string>

namespace traceledger::tools {

Result<Flags> Flags::Parse(const std::vector<std::string>& args,
                           const std::set<std::string>& value_flags,
                           const std::set<std::string>& bool_flags) {
  Flags flags;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h" || arg == "--help") {
      flags.present_.insert("help");
      continue;
    }
    if (arg.size() < 3 || arg.rfind("--", 0) != 0) {
      flags.positional_.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::optional<std::string> inline_value;
    if (const size_t eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (bool_flags.count(name) > 0) {
      if (inline_value.has_value()) {
        return Status::InvalidArgument("flag --" + name + " takes no value");
      }
      flags.present_.insert(name);
      continue;
    }
    if (value_flags.count(name) == 0) return Status::InvalidArgument("unknown flag --" + name);
    if (!inline_value.has_value()) {
      if (i + 1 >= args.size()) return Status::InvalidArgument("flag --" + name + " needs a value");
      inline_value = args[++i];
    }
    flags.present_.insert(name);
    flags.values_[name] = *inline_value;
  }
  return flags;
}

bool Flags::Has(const std::string& name) const { return present_.count(name) > 0; }

std::optional<std::string> Flags::Get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

Result<std::string> Flags::Require(const std::string& name) const {
  auto value = Get(name);
  if (!value.has_value() || value->empty()) {
    return Status::InvalidArgument("missing required flag --" + name);
  }
  return *value;
}

Result<std::optional<uint64_t>> Flags::GetUint(const std::string& name) const {
  auto value = Get(name);
  if (!value.has_value()) return std::optional<uint64_t>();
  uint64_t parsed = 0;
  auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), parsed);
  if (value->empty() || ec != std::errc() || end != value->data() + value->size()) {
    return Status::InvalidArgument("flag --" + name + ": \"" + *value +
                                   "\" is not a non-negative integer");
  }
  return std::optional<uint64_t>(parsed);
}

Result<uint64_t> Flags::RequireUint(const std::string& name) const {
  TL_ASSIGN_OR_RETURN(std::optional<uint64_t> value, GetUint(name));
  if (!value.has_value()) return Status::InvalidArgument("missing required flag --" + name);
  return *value;
}

namespace {

void PrintCommands(std::string_view program, std::string_view about,
                   const std::map<std::string, Command>& commands) {
  const std::string name(program);
  std::printf("%s: %s\n\nusage: %s COMMAND [flags]; %s COMMAND --help for details.\n\n"
              "commands:\n",
              name.c_str(), std::string(about).c_str(), name.c_str(), name.c_str());
  for (const auto& [command_name, command] : commands) {
    std::printf("  %-11s %s\n", command_name.c_str(), command.summary.c_str());
  }
}

int Dispatch(std::string_view program, std::string_view about,
             const std::map<std::string, Command>& commands, int argc, char** argv) {
  const std::string name(program);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    PrintCommands(program, about, commands);
    return args.empty() ? kExitUsage : kExitOk;
  }
  auto it = commands.find(args[0]);
  if (it == commands.end()) {
    std::fprintf(stderr, "%s: unknown command \"%s\"\n", name.c_str(), args[0].c_str());
    PrintCommands(program, about, commands);
    return kExitUsage;
  }
  const Command& command = it->second;
  auto flags = Flags::Parse({args.begin() + 1, args.end()}, command.value_flags, command.bool_flags);
  if (!flags.ok()) {
    std::fprintf(stderr, "%s %s: %s\nusage: %s\n", name.c_str(), args[0].c_str(),
                 flags.status().message().c_str(), command.usage.c_str());
    return kExitUsage;
  }
  if (flags->Has("help")) {
    std::printf("%s\n", command.usage.c_str());
    return kExitOk;
  }
  return command.run(*flags);
}

}  // namespace

int RunCommand(std::string_view program, std::string_view about,
               const std::map<std::string, Command>& commands, int argc, char** argv) {
  // Our code does not throw; this catches what third-party code may (STYLE.md section 4).
  try {
    return Dispatch(program, about, commands, argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: internal error: %s\n", std::string(program).c_str(), e.what());
    return kExitInternal;
  }
}

int FailWith(std::string_view program, const Status& status) {
  std::fprintf(stderr, "%.*s: %s\n", static_cast<int>(program.size()), program.data(),
               status.ToString().c_str());
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kOutOfRange:
    case StatusCode::kNotFound:
    case StatusCode::kAlreadyExists:
      return kExitUsage;
    case StatusCode::kDataLoss:
      return kExitCheckFailed;
    default:
      return kExitInternal;
  }
}

}  // namespace traceledger::tools
