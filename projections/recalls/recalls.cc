#include "projections/recalls/recalls.h"

#include <algorithm>
#include <map>

#include "projections/keys.h"

namespace traceledger::projections {
namespace {

constexpr uint32_t kVersion = 1;

std::string CaseKey(std::string_view recall_id) { return Key("c").Str(recall_id).str(); }
std::string PartyKey(std::string_view party, uint64_t opened, std::string_view recall_id) {
  // Newest first: invert the sequence.
  return Key("p").Str(party).U64(UINT64_MAX - opened).Str(recall_id).str();
}

int64_t Micros(const google::protobuf::Timestamp& t) {
  return t.seconds() * 1000000 + t.nanos() / 1000;
}

class RecallsProjection : public Projection {
 public:
  std::string_view name() const override { return kRecallsView; }
  uint32_t version() const override { return kVersion; }
  std::vector<std::string> dependencies() const override { return {"genealogy"}; }

  Status Apply(const AppliedEntry& entry, ViewRows& rows) override {
    if (entry.event == nullptr) return Status::Ok();
    if (entry.event->has_recall()) return ApplyRecall(entry, entry.event->recall(), rows);
    if (entry.event->has_recall_removal()) {
      return ApplyRemoval(entry, entry.event->recall_removal(), rows);
    }
    return Status::Ok();
  }

 private:
  static Status ApplyRecall(const AppliedEntry& entry, const v1::Recall& recall, ViewRows& rows) {
    TL_ASSIGN_OR_RETURN(std::optional<v1::RecallCase> existing,
                        rows.GetMessage<v1::RecallCase>(CaseKey(recall.recall_id())));
    if (recall.phase() == v1::Recall::PHASE_OPENED && !existing.has_value()) {
      return Open(entry, recall, rows);
    }
    if (!existing.has_value()) return Status::Ok();  // an update of a recall never opened
    v1::RecallCase& recall_case = *existing;
    if (recall.phase() == v1::Recall::PHASE_CLOSED) {
      recall_case.set_phase(v1::Recall::PHASE_CLOSED);
      recall_case.set_closed_sequence(entry.sequence);
    } else {  // UPDATED (or OPENED again): new terms, same scope
      if (recall.level() != v1::Recall::LEVEL_UNSPECIFIED) recall_case.set_level(recall.level());
      if (!recall.reason().empty()) recall_case.set_reason(recall.reason());
      if (recall.has_deadline()) recall_case.set_deadline_unix_micros(Micros(recall.deadline()));
      if (recall_case.phase() != v1::Recall::PHASE_CLOSED) {
        recall_case.set_phase(v1::Recall::PHASE_UPDATED);
      }
    }
    recall_case.set_last_sequence(entry.sequence);
    rows.PutMessage(CaseKey(recall.recall_id()), recall_case);
    return Status::Ok();
  }

  static Status Open(const AppliedEntry& entry, const v1::Recall& recall, ViewRows& rows) {
    v1::RecallCase recall_case;
    recall_case.set_recall_id(recall.recall_id());
    recall_case.set_phase(v1::Recall::PHASE_OPENED);
    recall_case.set_level(recall.level());
    recall_case.set_reason(recall.reason());
    *recall_case.mutable_root_ids() = recall.root_ids();
    recall_case.set_deadline_unix_micros(Micros(recall.deadline()));
    recall_case.set_issued_by(recall.issued_by());
    recall_case.set_issued_unix_micros(Micros(recall.issued_at()));
    recall_case.set_opened_sequence(entry.sequence);
    recall_case.set_tree_size(entry.sequence);  // the log before this entry
    recall_case.set_last_sequence(entry.sequence);
    // Scope: the forward trace of every root, merged per (party, object, sold).
    std::map<std::tuple<std::string, std::string, bool>, v1::RecallHolder> holders;
    for (const std::string& root : recall.root_ids()) {
      TL_ASSIGN_OR_RETURN(v1::TraceResult trace,
                          Trace(rows.Dependency("genealogy"), root, TraceDirection::kForward,
                                RecallScopeLimits()));
      if (trace.truncated() && !recall_case.scope_truncated()) {
        recall_case.set_scope_truncated(true);
        recall_case.set_scope_truncated_reason(trace.truncated_reason());
      }
      for (const v1::TraceHolder& h : trace.holders()) {
        if (h.quantity() <= 0) continue;
        v1::RecallHolder& holder = holders[{h.party(), h.object_id(), h.sold_to_consumers()}];
        if (holder.party().empty()) {
          holder.set_party(h.party());
          holder.set_object_id(h.object_id());
          holder.set_uom(h.uom());
          holder.set_location(h.location());
          holder.set_sold_to_consumers(h.sold_to_consumers());
          holder.set_in_scope(true);
          // The same holding reached from two roots counts once.
          holder.set_distributed(h.quantity());
        }
      }
    }
    for (auto& [key, holder] : holders) {
      rows.Put(PartyKey(holder.party(), entry.sequence, recall.recall_id()), "");
      *recall_case.add_holders() = std::move(holder);
    }
    rows.PutMessage(CaseKey(recall.recall_id()), recall_case);
    return Status::Ok();
  }

  static Status ApplyRemoval(const AppliedEntry& entry, const v1::RecallRemoval& removal,
                             ViewRows& rows) {
    TL_ASSIGN_OR_RETURN(std::optional<v1::RecallCase> existing,
                        rows.GetMessage<v1::RecallCase>(CaseKey(removal.recall_id())));
    if (!existing.has_value()) return Status::Ok();  // a removal for an unknown recall
    v1::RecallCase& recall_case = *existing;
    v1::RecallHolder* target = nullptr;
    for (v1::RecallHolder& holder : *recall_case.mutable_holders()) {
      if (holder.party() == removal.holder_id() && holder.object_id() == removal.object_id() &&
          !holder.sold_to_consumers()) {
        target = &holder;
        break;
      }
    }
    if (target == nullptr) {
      // A holder the scope did not find (e.g. a receipt never recorded): keep the report.
      target = recall_case.add_holders();
      target->set_party(removal.holder_id());
      target->set_object_id(removal.object_id());
      target->set_uom(removal.uom());
      target->set_location(removal.location());
      target->set_in_scope(false);
      rows.Put(PartyKey(removal.holder_id(), recall_case.opened_sequence(), removal.recall_id()),
               "");
    }
    target->set_removed(target->removed() + removal.quantity());
    target->set_answered(true);
    target->add_removal_sequences(entry.sequence);
    recall_case.set_last_sequence(entry.sequence);
    rows.PutMessage(CaseKey(removal.recall_id()), recall_case);
    return Status::Ok();
  }
};

}  // namespace

TraceLimits RecallScopeLimits() {
  TraceLimits limits;
  limits.max_depth = 64;
  limits.max_nodes = 100000;
  return limits;
}

std::unique_ptr<Projection> NewRecallsProjection() { return std::make_unique<RecallsProjection>(); }

Result<std::optional<v1::RecallCase>> RecallCaseOf(const ViewReader& recalls,
                                                   std::string_view recall_id) {
  return recalls.GetMessage<v1::RecallCase>(CaseKey(recall_id));
}

v1::RecallProgress ProgressOf(const v1::RecallCase& recall) {
  v1::RecallProgress progress;
  *progress.mutable_recall() = recall;
  std::map<std::string, bool> answered;  // party -> any removal, over parties holding stock
  for (const v1::RecallHolder& holder : recall.holders()) {
    if (holder.sold_to_consumers()) {
      progress.set_sold_to_consumers(progress.sold_to_consumers() + holder.distributed());
      continue;
    }
    progress.set_distributed(progress.distributed() + holder.distributed());
    progress.set_removed(progress.removed() + holder.removed());
    if (holder.in_scope()) answered[holder.party()] |= holder.answered();
  }
  progress.set_effectiveness_percent(
      progress.distributed() > 0 ? 100.0 * progress.removed() / progress.distributed() : 100.0);
  for (const auto& [party, did] : answered) {
    if (!did) progress.add_not_answered(party);
  }
  return progress;
}

Result<std::vector<std::string>> RecallsAddressedTo(const ViewReader& recalls,
                                                    std::string_view party, size_t limit) {
  std::vector<std::string> ids;
  const std::string prefix = Key("p").Str(party).str();
  TL_RETURN_IF_ERROR(recalls.Scan(prefix, [&](std::string_view key, std::string_view) {
    // key = prefix, 8-byte inverted sequence, recall id, 0x00
    std::string_view id = key.substr(prefix.size() + 8);
    if (!id.empty() && id.back() == '\0') id.remove_suffix(1);
    ids.emplace_back(id);
    return ids.size() < limit;
  }));
  return ids;
}

}  // namespace traceledger::projections
