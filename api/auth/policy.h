// File: api/auth/policy.h
//
// Who may do what through the HTTP API (DESIGN.md invariant 8): the roles a principal can
// have, the actions the server's routes perform, and the coarse Role x Action gate the server
// checks before running a route. Per-object restrictions ("an enterprise reads only its own
// events") are the server's, using Principal::party; this file only says whether a role may
// attempt an action at all. The table is docs/formats/tokens.md "Role x Action".
//
// Everything here is pure and thread-safe.
#ifndef TRACELEDGER_API_AUTH_POLICY_H_
#define TRACELEDGER_API_AUTH_POLICY_H_

#include <array>
#include <string>
#include <string_view>

#include "ledger/base/status.h"
#include "tl/v1/events.pb.h"

namespace traceledger::api {

enum class Role {
  kAnonymous,   // no credentials: the checkpoint and the verifier key, health
  kEnterprise,  // a supply-chain party, writing and reading as itself (Principal::party)
  kRegulator,   // a market supervision bureau: everything
  kAuditor,     // courts and auditors: ledger entries, proofs, checkpoints, evidence bundles
};
inline constexpr std::array<Role, 4> kAllRoles = {Role::kAnonymous, Role::kEnterprise,
                                                  Role::kRegulator, Role::kAuditor};

// "anonymous", "enterprise", "regulator", "auditor".
std::string_view RoleName(Role role);
// The inverse of RoleName (exact, lowercase). InvalidArgument naming the bad value and the
// allowed ones if `name` is none of them.
Result<Role> ParseRole(std::string_view name);

// The identity the server acts for, from a bearer token (TokenStore::Authenticate) or mTLS.
struct Principal {
  Role role = Role::kAnonymous;
  // The party id the principal writes and reads as: the submitter id of its events (a GLN, a
  // unified social credit code, or "regulator:<code>"). Never empty for kEnterprise and
  // kRegulator; may be empty for kAuditor; empty for kAnonymous.
  std::string party;
  // The token's id (not secret; safe to log), empty for anonymous and mTLS principals.
  std::string token_id;

  // The principal of a request without credentials.
  static Principal Anonymous() { return Principal{}; }
};

// What a route does. Each HTTP route maps to exactly one action.
enum class Action {
  kCapture,            // POST /capture: submit events
  kReadEvents,         // GET events (EPCIS query), GET /capture/{id}
  kTrace,              // trace a lot or serial backward/forward
  kReadRecalls,        // GET /recalls, /recalls/{id}: recall status and removal progress
  kOpenRecall,         // POST /recalls: open or change a recall
  kReadAlerts,         // anomaly alerts (duplicate serial, overdue cylinder filled, ...)
  kReadTimeline,       // an enterprise's enforcement timeline (inspections, sampling, actions)
  kFillPermit,         // may this cylinder be filled at this station now?
  kReadLedgerEntries,  // GET /ledger/entries/{seq}: raw ledger entries of any submitter
  kReadProofs,         // inclusion and consistency proofs (hashes only)
  kReadCheckpoint,     // GET /ledger/checkpoint and the checkpoint verifier key
  kEvidence,           // build an evidence bundle for a court
  kMetrics,            // GET /metrics: server and ledger operating figures
  kHealth,             // GET /health: liveness and readiness
};
inline constexpr std::array<Action, 14> kAllActions = {
    Action::kCapture,         Action::kReadEvents,         Action::kTrace,
    Action::kReadRecalls,     Action::kOpenRecall,         Action::kReadAlerts,
    Action::kReadTimeline,    Action::kFillPermit,         Action::kReadLedgerEntries,
    Action::kReadProofs,      Action::kReadCheckpoint,     Action::kEvidence,
    Action::kMetrics,         Action::kHealth};

// "capture", "read_events", ... (snake_case of the enumerator, for logs and error messages).
std::string_view ActionName(Action action);

// The coarse gate: true if `role` may attempt `action` at all. For kEnterprise the server must
// still restrict the objects to Principal::party (own events, lots it handled, recalls
// addressed to it, alerts and timeline about itself, fill permits for its own stations, proofs
// of its own entries).
bool Allows(Role role, Action action);

// True if `role` may submit an event with this body. Enterprises may not submit the
// regulator's kinds (inspection, sampling result, enforcement action, recall); regulators may
// submit every kind; auditors and anonymous principals may not capture at all. BODY_NOT_SET
// is never allowed. The server also requires the event's submitter_id == Principal::party.
bool MayCaptureEventType(Role role, v1::Event::BodyCase body);

}  // namespace traceledger::api

#endif  // TRACELEDGER_API_AUTH_POLICY_H_
