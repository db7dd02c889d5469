// File: tools/tracectl/evidence_commands.h
//
// `tracectl evidence`, `tracectl verify-bundle` and `tracectl verify-consistency`: evidence
// bundles for courts and their offline checks (api/evidence/evidence_bundle.h,
// docs/formats/evidence-bundle.md). The verify commands need no server and no database.
#ifndef TRACELEDGER_TOOLS_TRACECTL_EVIDENCE_COMMANDS_H_
#define TRACELEDGER_TOOLS_TRACECTL_EVIDENCE_COMMANDS_H_

#include "tools/flags.h"

namespace traceledger::tools {

// The "evidence", "verify-bundle" and "verify-consistency" entries of tracectl's command map.
Command EvidenceCommand();
Command VerifyBundleCommand();
Command VerifyConsistencyCommand();

}  // namespace traceledger::tools

#endif  // TRACELEDGER_TOOLS_TRACECTL_EVIDENCE_COMMANDS_H_
