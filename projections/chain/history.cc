#include "projections/chain/history.h"

#include <algorithm>
#include <functional>
#include <utility>

#include "projections/internal/wire.h"
#include "projections/keys.h"

namespace traceledger::projections {
namespace {

bool Lists(const std::vector<ObjectQuantity>& list, std::string_view id) {
  return std::any_of(list.begin(), list.end(),
                     [&](const ObjectQuantity& q) { return q.object_id == id; });
}

// How the event names `id`; the first that applies of parent, input, output, child (the
// objects of aggregations and associations), object.
std::string_view RoleOf(const EventFacts& facts, std::string_view id) {
  if (id == facts.parent) return "parent";
  if (Lists(facts.inputs, id)) return "input";
  if (Lists(facts.outputs, id)) return "output";
  if (facts.type == "AggregationEvent" || facts.type == "AssociationEvent") return "child";
  return "object";
}

class HistoryProjection final : public Projection {
 public:
  std::string_view name() const override { return kHistoryView; }
  uint32_t version() const override { return 1; }

  Status Apply(const AppliedEntry& entry, ViewRows& rows) override {
    if (entry.facts == nullptr) return Status::Ok();
    const EventFacts& facts = *entry.facts;
    v1::HistoryItem item;
    item.set_sequence(entry.sequence);
    item.set_event_time_unix_micros(facts.time_micros);
    item.set_event_type(facts.type);
    item.set_biz_step(facts.biz_step);
    item.set_movement(std::string(MovementName(facts.movement)));
    item.set_submitter_id(entry.entry->submitter_id());
    item.set_event_id(entry.entry->event_id());
    // The rows differ only in `role`, the last field: the rest is serialized once per event and
    // each row appends its role, the bytes DeterministicBytes(item) would give with role set.
    // Why: serializing the item once per object was most of this view's CPU.
    static_assert(v1::HistoryItem::kRoleFieldNumber == 8);  // the highest: written last
    value_ = DeterministicBytes(item);
    const size_t common = value_.size();
    for (const std::string& id : facts.mentioned) {
      const std::string_view role = RoleOf(facts, id);
      value_.resize(common + wire::BytesFieldSize(v1::HistoryItem::kRoleFieldNumber, role));
      wire::WriteBytesField(v1::HistoryItem::kRoleFieldNumber, role, value_.data() + common);
      rows.Put(Key("h").Str(id).Time(facts.time_micros).U64(entry.sequence).str(), value_);
    }
    return Status::Ok();
  }

 private:
  std::string value_;  // a row's value, kept for its memory
};

}  // namespace

std::unique_ptr<Projection> NewHistoryProjection() { return std::make_unique<HistoryProjection>(); }

namespace {

// Visits the history items of `object_id` in order until `visit` returns false (it may move
// the item away: the next row is parsed into it afresh). Returns DataLoss if a row does not
// decode, or a storage error.
Status ForEachItem(const ViewReader& history, std::string_view object_id,
                   const std::function<bool(v1::HistoryItem&)>& visit) {
  v1::HistoryItem item;
  bool decoded = true;
  TL_RETURN_IF_ERROR(
      history.Scan(Key("h").Str(object_id).str(), [&](std::string_view, std::string_view value) {
        decoded = item.ParseFromArray(value.data(), static_cast<int>(value.size()));
        return decoded && visit(item);
      }));
  if (!decoded) {
    return Status::DataLoss("history row of " + std::string(object_id) +
                            " does not decode as traceledger.v1.HistoryItem");
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<v1::HistoryItem>> ObjectHistory(const ViewReader& history,
                                                   std::string_view object_id, size_t limit) {
  std::vector<v1::HistoryItem> out;
  if (limit == 0) return out;
  TL_RETURN_IF_ERROR(ForEachItem(history, object_id, [&](v1::HistoryItem& item) {
    out.push_back(std::move(item));
    return out.size() < limit;
  }));
  return out;
}

Result<bool> SubmittedEventNaming(const ViewReader& history, std::string_view object_id,
                                  std::string_view submitter_id) {
  bool found = false;
  TL_RETURN_IF_ERROR(ForEachItem(history, object_id, [&](v1::HistoryItem& item) {
    found = item.submitter_id() == submitter_id;
    return !found;
  }));
  return found;
}

}  // namespace traceledger::projections
