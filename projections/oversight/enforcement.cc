#include "projections/oversight/enforcement.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "projections/keys.h"

namespace traceledger::projections {
namespace {

// Version 1: the first layout (README.md).
constexpr uint32_t kEnforcementVersion = 1;

std::string TimelinePrefix(std::string_view enterprise) { return Key("t").Str(enterprise).str(); }
std::string CreditKey(std::string_view enterprise) { return Key("c").Str(enterprise).str(); }

v1::OversightEventRef RefOf(const AppliedEntry& entry) {
  v1::OversightEventRef ref;
  ref.set_sequence(entry.sequence);
  ref.set_event_id(entry.entry->event_id());
  ref.set_time_unix_micros(entry.facts->time_micros);
  ref.set_party(entry.facts->party);
  return ref;
}

std::string_view InspectionKindText(v1::Inspection::Kind kind) {
  switch (kind) {
    case v1::Inspection::KIND_ROUTINE: return "routine inspection";
    case v1::Inspection::KIND_DOUBLE_RANDOM_SPOT_CHECK: return "double-random spot check";
    case v1::Inspection::KIND_COMPLAINT: return "inspection on a complaint";
    case v1::Inspection::KIND_SPECIAL_CAMPAIGN: return "special-campaign inspection";
    default: return "inspection";
  }
}

std::string_view OutcomeText(v1::Inspection::Outcome outcome) {
  switch (outcome) {
    case v1::Inspection::OUTCOME_COMPLIANT: return "compliant";
    case v1::Inspection::OUTCOME_DEFECTS_FOUND: return "defects found";
    case v1::Inspection::OUTCOME_CORRECTION_ORDERED: return "correction ordered";
    case v1::Inspection::OUTCOME_CLOSED_DOWN: return "CLOSED DOWN";
    default: return "outcome not given";
  }
}

std::string_view ActionKindText(v1::EnforcementAction::Kind kind) {
  switch (kind) {
    case v1::EnforcementAction::KIND_WARNING: return "warning";
    case v1::EnforcementAction::KIND_FINE: return "fine";
    case v1::EnforcementAction::KIND_CONFISCATION: return "confiscation";
    case v1::EnforcementAction::KIND_SUSPENSION: return "suspension of operations";
    case v1::EnforcementAction::KIND_LICENSE_REVOCATION: return "licence revoked";
    case v1::EnforcementAction::KIND_CREDIT_BLACKLIST: return "credit blacklist";
    default: return "enforcement action";
  }
}

std::string_view SeverityText(v1::Severity severity) {
  switch (severity) {
    case v1::SEVERITY_MINOR: return "minor";
    case v1::SEVERITY_SERIOUS: return "SERIOUS";
    default: return "severity not given";
  }
}

std::string_view DispositionText(v1::RecallRemoval::Disposition disposition) {
  switch (disposition) {
    case v1::RecallRemoval::DISPOSITION_RETURNED: return "returned";
    case v1::RecallRemoval::DISPOSITION_DESTROYED: return "destroyed";
    case v1::RecallRemoval::DISPOSITION_QUARANTINED: return "quarantined";
    default: return "disposition not given";
  }
}

// 5000000 fen -> "50000.00".
std::string Yuan(int64_t fen) {
  const bool negative = fen < 0;
  const uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(fen) : static_cast<uint64_t>(fen);
  std::string out = negative ? "-" : "";
  out.append(std::to_string(magnitude / 100));
  out.push_back('.');
  const uint64_t cents = magnitude % 100;
  if (cents < 10) out.push_back('0');
  out.append(std::to_string(cents));
  return out;
}

// A number as people write it: 600, 12.5.
std::string Quantity(double value) {
  std::string text = std::to_string(value);  // fixed, 6 decimals
  while (!text.empty() && text.back() == '0') text.pop_back();
  if (!text.empty() && text.back() == '.') text.pop_back();
  return text;
}

class EnforcementProjection : public Projection {
 public:
  std::string_view name() const override { return kEnforcementViewName; }
  uint32_t version() const override { return kEnforcementVersion; }

  Status Apply(const AppliedEntry& entry, ViewRows& rows) override {
    if (entry.event == nullptr) return Status::Ok();
    v1::TimelineItem item;
    *item.mutable_event() = RefOf(entry);
    const v1::Event& event = *entry.event;
    switch (event.body_case()) {
      case v1::Event::kInspection: {
        const v1::Inspection& e = event.inspection();
        item.set_enterprise_id(e.enterprise_id());
        item.set_kind(v1::TIMELINE_ITEM_KIND_INSPECTION);
        item.set_outcome(v1::Inspection::Outcome_Name(e.outcome()));
        item.set_reference(v1::Inspection::Kind_Name(e.kind()));
        item.set_summary(InspectionSummary(e));
        break;
      }
      case v1::Event::kSamplingResult: {
        const v1::SamplingResult& e = event.sampling_result();
        item.set_enterprise_id(e.enterprise_id());
        item.set_kind(v1::TIMELINE_ITEM_KIND_SAMPLING_RESULT);
        item.set_outcome(v1::SamplingResult::Verdict_Name(e.verdict()));
        item.set_reference(e.sample_id());
        item.set_summary(SamplingSummary(e));
        break;
      }
      case v1::Event::kEnforcementAction: {
        const v1::EnforcementAction& e = event.enforcement_action();
        item.set_enterprise_id(e.enterprise_id());
        item.set_kind(v1::TIMELINE_ITEM_KIND_ENFORCEMENT_ACTION);
        item.set_outcome(v1::Severity_Name(e.severity()));
        item.set_reference(e.case_id());
        item.set_summary(ActionSummary(e));
        break;
      }
      case v1::Event::kRecallRemoval: {
        const v1::RecallRemoval& e = event.recall_removal();
        item.set_enterprise_id(e.holder_id());
        item.set_kind(v1::TIMELINE_ITEM_KIND_RECALL_REMOVAL);
        item.set_outcome(v1::RecallRemoval::Disposition_Name(e.disposition()));
        item.set_reference(e.recall_id());
        item.set_summary(RemovalSummary(e));
        break;
      }
      default:
        return Status::Ok();
    }
    if (item.enterprise_id().empty()) return Status::Ok();  // validation requires it; be safe

    TL_ASSIGN_OR_RETURN(std::optional<v1::CreditStatus> stored,
                        rows.GetMessage<v1::CreditStatus>(CreditKey(item.enterprise_id())));
    v1::CreditStatus credit;
    if (stored.has_value()) {
      credit = std::move(*stored);
    } else {
      credit.set_enterprise_id(item.enterprise_id());
    }
    item.set_credit_reason(UpdateCredit(event, item, &credit));
    rows.PutMessage(CreditKey(item.enterprise_id()), credit);
    rows.PutMessage(Key("t")
                        .Str(item.enterprise_id())
                        .Time(item.event().time_unix_micros())
                        .U64(entry.sequence)
                        .str(),
                    item);
    return Status::Ok();
  }

 private:
  static std::string InspectionSummary(const v1::Inspection& e) {
    std::string text(InspectionKindText(e.kind()));
    text.append(": ");
    text.append(OutcomeText(e.outcome()));
    if (e.findings_size() > 0) {
      int serious = 0;
      for (const v1::Inspection::Finding& finding : e.findings()) {
        if (finding.severity() == v1::SEVERITY_SERIOUS) ++serious;
      }
      text.append(", ");
      text.append(std::to_string(e.findings_size()));
      text.append(e.findings_size() == 1 ? " finding" : " findings");
      if (serious > 0) {
        text.append(" (");
        text.append(std::to_string(serious));
        text.append(" serious)");
      }
    }
    if (!e.location().empty()) {
      text.append(" at ");
      text.append(e.location());
    }
    return text;
  }

  static std::string SamplingSummary(const v1::SamplingResult& e) {
    std::string text = "sample ";
    text.append(e.sample_id());
    if (!e.product_name().empty()) {
      text.append(" (");
      text.append(e.product_name());
      text.append(")");
    }
    text.append(": ");
    switch (e.verdict()) {
      case v1::SamplingResult::VERDICT_QUALIFIED:
        text.append("qualified");
        break;
      case v1::SamplingResult::VERDICT_UNQUALIFIED:
        text.append("UNQUALIFIED");
        break;
      default:
        text.append("verdict not given");
        break;
    }
    for (int i = 0; i < e.failed_items_size(); ++i) {
      const v1::SamplingResult::FailedItem& failed = e.failed_items(i);
      text.append(i == 0 ? ", " : "; ");
      text.append(failed.item());
      if (!failed.measured().empty()) {
        text.append(" ");
        text.append(failed.measured());
      }
      if (!failed.limit().empty()) {
        text.append(" (limit ");
        text.append(failed.limit());
        text.append(")");
      }
      if (!failed.uom().empty()) {
        text.append(" ");
        text.append(failed.uom());
      }
    }
    if (!e.lab_id().empty()) {
      text.append(", lab ");
      text.append(e.lab_id());
    }
    return text;
  }

  static std::string ActionSummary(const v1::EnforcementAction& e) {
    std::string text(ActionKindText(e.kind()));
    if (e.fine_amount_fen() > 0) {
      text.append(" of ");
      text.append(Yuan(e.fine_amount_fen()));
      text.append(" yuan");
    }
    text.append(" (");
    text.append(SeverityText(e.severity()));
    text.append("), case ");
    text.append(e.case_id());
    if (!e.legal_basis().empty()) {
      text.append(", ");
      text.append(e.legal_basis());
    }
    return text;
  }

  static std::string RemovalSummary(const v1::RecallRemoval& e) {
    std::string text = "removed ";
    text.append(Quantity(e.quantity()));
    if (!e.uom().empty()) {
      text.append(" ");
      text.append(e.uom());
    }
    text.append(" of ");
    text.append(e.object_id());
    text.append(" for recall ");
    text.append(e.recall_id());
    text.append(" (");
    text.append(DispositionText(e.disposition()));
    text.append(")");
    return text;
  }

  static void AddReason(v1::CreditStatus* credit, v1::CreditReason reason) {
    credit->set_flagged(true);
    if (credit->reasons_size() < kMaxCreditReasons) {
      *credit->add_reasons() = std::move(reason);
    } else {
      credit->set_reasons_not_kept(credit->reasons_not_kept() + 1);
    }
  }

  // Counts the item and applies the flag rules; true if the item is a reason.
  static bool UpdateCredit(const v1::Event& event, const v1::TimelineItem& item,
                           v1::CreditStatus* credit) {
    const v1::OversightEventRef& ref = item.event();
    switch (event.body_case()) {
      case v1::Event::kInspection: {
        credit->set_inspections(credit->inspections() + 1);
        if (event.inspection().outcome() != v1::Inspection::OUTCOME_CLOSED_DOWN) return false;
        v1::CreditReason reason;
        reason.set_kind(v1::CREDIT_REASON_KIND_CLOSED_DOWN);
        *reason.add_events() = ref;
        reason.set_message(item.summary());
        AddReason(credit, std::move(reason));
        return true;
      }
      case v1::Event::kEnforcementAction: {
        credit->set_enforcement_actions(credit->enforcement_actions() + 1);
        if (event.enforcement_action().severity() != v1::SEVERITY_SERIOUS) return false;
        v1::CreditReason reason;
        reason.set_kind(v1::CREDIT_REASON_KIND_SERIOUS_ENFORCEMENT);
        *reason.add_events() = ref;
        reason.set_message(item.summary());
        AddReason(credit, std::move(reason));
        return true;
      }
      case v1::Event::kRecallRemoval:
        credit->set_recall_removals(credit->recall_removals() + 1);
        return false;
      case v1::Event::kSamplingResult:
        break;
      default:
        return false;
    }
    credit->set_sampling_results(credit->sampling_results() + 1);
    if (event.sampling_result().verdict() != v1::SamplingResult::VERDICT_UNQUALIFIED) return false;
    credit->set_unqualified_sampling_results(credit->unqualified_sampling_results() + 1);

    // The nearest earlier-recorded UNQUALIFIED result by sampling time (results may be recorded
    // out of time order, so look both ways).
    auto* kept = credit->mutable_unqualified_samplings();
    const int64_t t = ref.time_unix_micros();
    const v1::OversightEventRef* nearest = nullptr;
    uint64_t nearest_gap = 0;
    for (const v1::OversightEventRef& other : *kept) {
      const int64_t a = std::max(t, other.time_unix_micros());
      const int64_t b = std::min(t, other.time_unix_micros());
      const uint64_t gap = static_cast<uint64_t>(a) - static_cast<uint64_t>(b);
      if (nearest == nullptr || gap < nearest_gap) {
        nearest = &other;
        nearest_gap = gap;
      }
    }
    bool is_reason = false;
    if (nearest != nullptr && nearest_gap <= static_cast<uint64_t>(kUnqualifiedWindowMicros)) {
      v1::CreditReason reason;
      reason.set_kind(v1::CREDIT_REASON_KIND_REPEATED_UNQUALIFIED_SAMPLING);
      const bool other_first = nearest->time_unix_micros() <= t;
      *reason.add_events() = other_first ? *nearest : ref;
      *reason.add_events() = other_first ? ref : *nearest;
      std::string message = "two UNQUALIFIED sampling results ";
      message.append(std::to_string(nearest_gap / (uint64_t{86400} * 1000000)));
      message.append(" days apart (entries ");
      message.append(std::to_string(reason.events(0).sequence()));
      message.append(" and ");
      message.append(std::to_string(reason.events(1).sequence()));
      message.append("): ");
      message.append(item.summary());
      reason.set_message(std::move(message));
      AddReason(credit, std::move(reason));
      is_reason = true;
    }
    // Keep them sorted by (time, sequence); drop the oldest beyond the bound.
    auto position = std::upper_bound(
        kept->begin(), kept->end(), ref,
        [](const v1::OversightEventRef& a, const v1::OversightEventRef& b) {
          if (a.time_unix_micros() != b.time_unix_micros()) {
            return a.time_unix_micros() < b.time_unix_micros();
          }
          return a.sequence() < b.sequence();
        });
    const int index = static_cast<int>(position - kept->begin());
    *kept->Add() = ref;
    for (int i = kept->size() - 1; i > index; --i) kept->SwapElements(i, i - 1);
    if (kept->size() > kMaxUnqualifiedKept) kept->erase(kept->begin());
    return is_reason;
  }
};

}  // namespace

std::unique_ptr<Projection> NewEnforcementProjection() {
  return std::make_unique<EnforcementProjection>();
}

Result<v1::EnterpriseTimeline> Timeline(const ViewReader& reader, std::string_view enterprise,
                                        size_t limit) {
  v1::EnterpriseTimeline timeline;
  timeline.set_enterprise_id(std::string(enterprise));
  const size_t wanted = std::min(limit, kMaxTimelineItems);
  bool corrupt = false;
  TL_RETURN_IF_ERROR(reader.Scan(TimelinePrefix(enterprise), [&](std::string_view,
                                                                 std::string_view value) {
    if (static_cast<size_t>(timeline.items_size()) >= wanted) {
      timeline.set_more(true);
      return false;
    }
    if (!timeline.add_items()->ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      corrupt = true;
      return false;
    }
    return true;
  }));
  if (corrupt) return Status::DataLoss("enforcement: a timeline row does not decode");
  return timeline;
}

Result<v1::CreditStatus> Credit(const ViewReader& reader, std::string_view enterprise) {
  TL_ASSIGN_OR_RETURN(std::optional<v1::CreditStatus> credit,
                      reader.GetMessage<v1::CreditStatus>(CreditKey(enterprise)));
  if (credit.has_value()) return std::move(*credit);
  v1::CreditStatus empty;
  empty.set_enterprise_id(std::string(enterprise));
  return empty;
}

}  // namespace traceledger::projections
