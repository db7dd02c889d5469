// File: tools/tracectl/token_commands.h
//
// `tracectl token issue|list|revoke`: the operator's side of the HTTP API's bearer tokens
// (api/auth/token_store.h, docs/formats/tokens.md).
#ifndef TRACELEDGER_TOOLS_TRACECTL_TOKEN_COMMANDS_H_
#define TRACELEDGER_TOOLS_TRACECTL_TOKEN_COMMANDS_H_

#include "tools/flags.h"

namespace traceledger::tools {

// The "token" entry of tracectl's command map.
Command TokenCommand();

}  // namespace traceledger::tools

#endif  // TRACELEDGER_TOOLS_TRACECTL_TOKEN_COMMANDS_H_
