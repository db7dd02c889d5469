#include "api/query/epc_pattern.h"

#include <vector>

namespace traceledger::api {
namespace {

constexpr std::string_view kPureIdentityPrefix = "urn:epc:id:";

struct Pattern {
  std::string_view scheme;
  std::vector<std::string_view> fields;
};

// Splits "urn:epc:idpat:<scheme>:<fields>" (no form checks).
Pattern Split(std::string_view pattern) {
  Pattern out;
  std::string_view rest = pattern.substr(kEpcPatternPrefix.size());
  const size_t colon = rest.find(':');
  out.scheme = rest.substr(0, colon);
  rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
  while (true) {
    const size_t dot = rest.find('.');
    out.fields.push_back(rest.substr(0, dot));
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  return out;
}

}  // namespace

bool IsEpcPattern(std::string_view value) {
  return value.substr(0, kEpcPatternPrefix.size()) == kEpcPatternPrefix;
}

Status CheckEpcPattern(std::string_view pattern) {
  TL_ASSERT(IsEpcPattern(pattern));
  const std::string_view rest = pattern.substr(kEpcPatternPrefix.size());
  const size_t colon = rest.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Status::InvalidArgument("EPC pattern \"" + std::string(pattern) +
                                   "\": want urn:epc:idpat:<scheme>:<fields>");
  }
  const Pattern split = Split(pattern);
  bool star_seen = false;
  for (size_t i = 0; i < split.fields.size(); ++i) {
    const std::string_view field = split.fields[i];
    const std::string where =
        "EPC pattern \"" + std::string(pattern) + "\": field " + std::to_string(i + 1);
    if (field.empty()) return Status::InvalidArgument(where + " is empty");
    if (field == "*") {
      star_seen = true;
      continue;
    }
    if (field.find('*') != std::string_view::npos) {
      return Status::InvalidArgument(where + " \"" + std::string(field) +
                                     "\": \"*\" must be a whole field");
    }
    if (star_seen) {
      return Status::InvalidArgument(where + " \"" + std::string(field) +
                                     "\" follows a \"*\"; want \"*\" only in trailing fields");
    }
  }
  return Status::Ok();
}

bool EpcMatches(std::string_view uri_or_pattern, std::string_view epc) {
  if (!IsEpcPattern(uri_or_pattern)) return uri_or_pattern == epc;
  if (!CheckEpcPattern(uri_or_pattern).ok()) return false;
  const Pattern pattern = Split(uri_or_pattern);
  if (epc.substr(0, kPureIdentityPrefix.size()) != kPureIdentityPrefix) return false;
  std::string_view rest = epc.substr(kPureIdentityPrefix.size());
  if (rest.substr(0, pattern.scheme.size()) != pattern.scheme) return false;
  rest.remove_prefix(pattern.scheme.size());
  if (rest.empty() || rest.front() != ':') return false;
  rest.remove_prefix(1);
  for (size_t i = 0; i < pattern.fields.size(); ++i) {
    const bool last = i + 1 == pattern.fields.size();
    const size_t dot = last ? std::string_view::npos : rest.find('.');
    if (!last && dot == std::string_view::npos) return false;  // fewer fields than the pattern
    const std::string_view field = rest.substr(0, dot);
    if (field.empty()) return false;
    if (pattern.fields[i] != "*" && pattern.fields[i] != field) return false;
    if (!last) rest.remove_prefix(dot + 1);
  }
  return true;
}

std::string EpcPatternPrefix(std::string_view pattern) {
  const Pattern split = Split(pattern);
  std::string prefix(kPureIdentityPrefix);
  prefix.append(split.scheme);
  prefix.push_back(':');
  for (size_t i = 0; i < split.fields.size(); ++i) {
    if (split.fields[i] == "*") break;
    prefix.append(split.fields[i]);
    if (i + 1 < split.fields.size()) prefix.push_back('.');
  }
  return prefix;
}

}  // namespace traceledger::api
