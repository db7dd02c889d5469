// File: api/query/epc_pattern.h
//
// EPC pattern URIs (GS1 EPC Tag Data Standard, "EPC Pattern URI"), as EPCIS 2.0's MATCH_*
// query parameters use them: "urn:epc:idpat:sgtin:0614141.107346.*" names every
// "urn:epc:id:sgtin:0614141.107346.<serial>". Each field of a pattern is a value or "*", and
// once a field is "*" every later one is too. Anything that is not a pattern (EPC URIs, GS1
// Digital Link URIs, other URIs) matches only itself, compared as stored. Pure; thread-safe.
#ifndef TRACELEDGER_API_QUERY_EPC_PATTERN_H_
#define TRACELEDGER_API_QUERY_EPC_PATTERN_H_

#include <string>
#include <string_view>

#include "ledger/base/status.h"

namespace traceledger::api {

inline constexpr std::string_view kEpcPatternPrefix = "urn:epc:idpat:";

// True if `value` starts with "urn:epc:idpat:".
bool IsEpcPattern(std::string_view value);

// OK for a well-formed pattern: "urn:epc:idpat:<scheme>:<field>(.<field>)*", a non-empty
// scheme, non-empty fields, "*" only as a whole field and only trailing. InvalidArgument
// naming what is wrong otherwise. Requires IsEpcPattern(pattern).
Status CheckEpcPattern(std::string_view pattern);

// True if `epc` is `uri_or_pattern` (any URI, compared byte for byte) or matches it (a
// well-formed pattern: same scheme, same number of fields, equal where the pattern is not
// "*"; the last field of the EPC takes the rest, so serials may contain dots).
bool EpcMatches(std::string_view uri_or_pattern, std::string_view epc);

// The text every EPC matching `pattern` starts with: "urn:epc:id:sgtin:0614141.107346." for
// "urn:epc:idpat:sgtin:0614141.107346.*", the whole pure identity when no field is "*".
// Requires CheckEpcPattern(pattern).ok().
std::string EpcPatternPrefix(std::string_view pattern);

}  // namespace traceledger::api

#endif  // TRACELEDGER_API_QUERY_EPC_PATTERN_H_
