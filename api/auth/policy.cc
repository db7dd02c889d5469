#include "api/auth/policy.h"

namespace traceledger::api {

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kAnonymous: return "anonymous";
    case Role::kEnterprise: return "enterprise";
    case Role::kRegulator: return "regulator";
    case Role::kAuditor: return "auditor";
  }
  TL_ASSERT(false);  // Why: every enumerator is handled above; -Wswitch flags a new one.
  return "";
}

Result<Role> ParseRole(std::string_view name) {
  for (Role role : kAllRoles) {
    if (name == RoleName(role)) return role;
  }
  return Status::InvalidArgument("unknown role \"" + std::string(name) +
                                 "\"; want one of enterprise, regulator, auditor, anonymous");
}

std::string_view ActionName(Action action) {
  switch (action) {
    case Action::kCapture: return "capture";
    case Action::kReadEvents: return "read_events";
    case Action::kTrace: return "trace";
    case Action::kReadRecalls: return "read_recalls";
    case Action::kOpenRecall: return "open_recall";
    case Action::kReadAlerts: return "read_alerts";
    case Action::kReadTimeline: return "read_timeline";
    case Action::kFillPermit: return "fill_permit";
    case Action::kReadLedgerEntries: return "read_ledger_entries";
    case Action::kReadProofs: return "read_proofs";
    case Action::kReadCheckpoint: return "read_checkpoint";
    case Action::kEvidence: return "evidence";
    case Action::kMetrics: return "metrics";
    case Action::kHealth: return "health";
  }
  TL_ASSERT(false);  // Why: every enumerator is handled above; -Wswitch flags a new one.
  return "";
}

namespace {

// Written as one switch per role with no default, so that a new Action or Role fails to
// compile (-Wswitch -Werror) until someone decides who may do it.
bool AnonymousAllows(Action action) {
  switch (action) {
    case Action::kReadCheckpoint:
    case Action::kHealth:
      return true;
    case Action::kCapture:
    case Action::kReadEvents:
    case Action::kTrace:
    case Action::kReadRecalls:
    case Action::kOpenRecall:
    case Action::kReadAlerts:
    case Action::kReadTimeline:
    case Action::kFillPermit:
    case Action::kReadLedgerEntries:
    case Action::kReadProofs:
    case Action::kEvidence:
    case Action::kMetrics:
      return false;
  }
  return false;
}

bool EnterpriseAllows(Action action) {
  switch (action) {
    case Action::kCapture:          // only events whose submitter is itself
    case Action::kReadEvents:       // only its own events
    case Action::kTrace:            // only lots it handled
    case Action::kReadRecalls:      // only recalls addressed to it
    case Action::kReadAlerts:       // only alerts about itself
    case Action::kReadTimeline:     // only its own timeline
    case Action::kFillPermit:       // only for its own stations
    case Action::kReadProofs:       // its receipts must be provable (DESIGN.md, enterprise row)
    case Action::kReadCheckpoint:
    case Action::kHealth:
      return true;
    case Action::kOpenRecall:         // recalls are regulator events
    case Action::kReadLedgerEntries:  // raw entries of every submitter
    case Action::kEvidence:           // for courts, auditors and regulators
    case Action::kMetrics:            // operating figures of the whole service
      return false;
  }
  return false;
}

bool AuditorAllows(Action action) {
  switch (action) {
    case Action::kReadLedgerEntries:
    case Action::kReadProofs:
    case Action::kReadCheckpoint:
    case Action::kEvidence:
    case Action::kHealth:
      return true;
    case Action::kCapture:
    case Action::kReadEvents:
    case Action::kTrace:
    case Action::kReadRecalls:
    case Action::kOpenRecall:
    case Action::kReadAlerts:
    case Action::kReadTimeline:
    case Action::kFillPermit:
    case Action::kMetrics:
      return false;
  }
  return false;
}

}  // namespace

bool Allows(Role role, Action action) {
  switch (role) {
    case Role::kAnonymous: return AnonymousAllows(action);
    case Role::kEnterprise: return EnterpriseAllows(action);
    case Role::kAuditor: return AuditorAllows(action);
    case Role::kRegulator: return true;
  }
  return false;
}

bool MayCaptureEventType(Role role, v1::Event::BodyCase body) {
  if (!Allows(role, Action::kCapture)) return false;
  switch (body) {
    case v1::Event::kObjectEvent:
    case v1::Event::kAggregationEvent:
    case v1::Event::kTransactionEvent:
    case v1::Event::kTransformationEvent:
    case v1::Event::kAssociationEvent:
    case v1::Event::kRecallRemoval:         // a holder took recalled products off the market
    case v1::Event::kCylinderRegistration:  // by the owning filling station
    case v1::Event::kCylinderInspection:    // by the inspection agency, an enterprise
    case v1::Event::kCylinderFill:          // by the filling station
      return true;
    case v1::Event::kInspection:
    case v1::Event::kSamplingResult:
    case v1::Event::kEnforcementAction:
    case v1::Event::kRecall:
      return role == Role::kRegulator;
    case v1::Event::BODY_NOT_SET:
      return false;
  }
  return false;
}

}  // namespace traceledger::api
