// File: tools/flags.h
//
// The tools' command line: a small parser for "--name value", "--name=value" and boolean
// "--name" flags plus positional arguments (unknown flags are errors that name the flag), and
// RunCommand(), the "PROGRAM COMMAND [flags]" dispatch with help texts that the tools share.
#ifndef TRACELEDGER_TOOLS_FLAGS_H_
#define TRACELEDGER_TOOLS_FLAGS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ledger/base/status.h"

namespace traceledger::tools {

class Flags {
 public:
  // `value_flags` take a value; `bool_flags` do not. "--help"/"-h" is always a bool flag.
  static Result<Flags> Parse(const std::vector<std::string>& args,
                             const std::set<std::string>& value_flags,
                             const std::set<std::string>& bool_flags);

  bool Has(const std::string& name) const;
  std::optional<std::string> Get(const std::string& name) const;
  // InvalidArgument naming the flag if it is missing.
  Result<std::string> Require(const std::string& name) const;
  // Parses a non-negative decimal; InvalidArgument naming the flag if malformed or missing.
  Result<uint64_t> RequireUint(const std::string& name) const;
  Result<std::optional<uint64_t>> GetUint(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;
  std::set<std::string> present_;
  std::vector<std::string> positional_;
};

// One subcommand of a tool.
struct Command {
  std::string summary;  // one line for the command list
  std::string usage;    // the full help text
  std::set<std::string> value_flags;
  std::set<std::string> bool_flags;
  std::function<int(const Flags&)> run;  // returns the exit code
};

inline constexpr int kExitOk = 0;
inline constexpr int kExitCheckFailed = 1;  // a check failed: invalid input, audit findings
inline constexpr int kExitUsage = 2;
inline constexpr int kExitInternal = 3;     // an operating failure

// Prints "PROGRAM: STATUS" to stderr and returns its exit code: usage-like codes
// (InvalidArgument, OutOfRange, NotFound, AlreadyExists) kExitUsage, DataLoss
// kExitCheckFailed, anything else kExitInternal.
int FailWith(std::string_view program, const Status& status);

// Runs `PROGRAM COMMAND [flags]`: "help"/"--help" or no command prints `about` and the command
// list; "COMMAND --help" prints its usage; a bad flag prints the error and the usage (exit
// kExitUsage). Exceptions escaping a command (from third-party code) become kExitInternal.
int RunCommand(std::string_view program, std::string_view about,
               const std::map<std::string, Command>& commands, int argc, char** argv);

}  // namespace traceledger::tools

#endif  // TRACELEDGER_TOOLS_FLAGS_H_
