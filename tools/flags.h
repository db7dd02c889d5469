// File: tools/flags.h
//
// A small command-line parser for the tools: "--name value", "--name=value" and boolean
// "--name" flags, plus positional arguments. Unknown flags are errors that name the flag.
#ifndef TRACELEDGER_TOOLS_FLAGS_H_
#define TRACELEDGER_TOOLS_FLAGS_H_

#include <cstdint>
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

}  // namespace traceledger::tools

#endif  // TRACELEDGER_TOOLS_FLAGS_H_
