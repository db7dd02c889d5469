#include "projections/chain/history.h"

#include <algorithm>
#include <functional>
#include <iterator>
#include <optional>
#include <string>
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

std::string EventKey(uint64_t sequence) { return Key("e").U64(sequence).str(); }

class HistoryProjection final : public Projection {
 public:
  std::string_view name() const override { return kHistoryView; }
  // 2: no sequence and time in the rows (the key says them); an event naming several objects
  // keeps what its rows share once, in an `e` row.
  uint32_t version() const override { return 2; }

  Status Apply(const AppliedEntry& entry, ViewRows& rows) override {
    if (entry.facts == nullptr) return Status::Ok();
    const EventFacts& facts = *entry.facts;
    if (facts.mentioned.empty()) return Status::Ok();
    // The rows differ only in `role`, the last field: the rest is serialized once per event and
    // each row appends its role, the bytes DeterministicBytes(item) would give with role set.
    // Why: serializing the item once per object was most of this view's CPU. An event naming
    // several objects (an aggregation, a case commissioned, a pallet shipped) stores the rest
    // once, in its `e` row, and its rows only their role: those rest bytes were two thirds of
    // the view's bytes, and the view a third of all the views' (docs/BENCHMARKS.md, "session 20").
    // The rest is written by hand, field by field in number order as protobuf does (a
    // HistoryItem filled in and serialized cost five string copies per event).
    using Item = v1::HistoryItem;
    static_assert(Item::kRoleFieldNumber == 8);  // the highest: written last
    const std::string_view fields[] = {facts.type, facts.biz_step, MovementName(facts.movement),
                                       entry.entry->submitter_id(), entry.entry->event_id()};
    static_assert(Item::kEventTypeFieldNumber == 3 && Item::kBizStepFieldNumber == 4 &&
                  Item::kMovementFieldNumber == 5 && Item::kSubmitterIdFieldNumber == 6 &&
                  Item::kEventIdFieldNumber == 7);
    size_t size = 0;
    for (uint32_t i = 0; i < std::size(fields); ++i) {
      size += wire::BytesFieldSize(Item::kEventTypeFieldNumber + i, fields[i]);
    }
    value_.resize(size);
    char* p = value_.data();
    for (uint32_t i = 0; i < std::size(fields); ++i) {
      p = wire::WriteBytesField(Item::kEventTypeFieldNumber + i, fields[i], p);
    }
    TL_ASSERT(p == value_.data() + size);
    if (facts.mentioned.size() >= 2) {
      TL_ASSERT(!facts.type.empty());  // how a reader tells a row of such an event
      rows.Put(EventKey(entry.sequence), value_);
      value_.clear();
    }
    const size_t common = value_.size();
    for (const std::string& id : facts.mentioned) {
      const std::string_view role = RoleOf(facts, id);
      value_.resize(common + wire::BytesFieldSize(v1::HistoryItem::kRoleFieldNumber, role));
      wire::WriteBytesField(v1::HistoryItem::kRoleFieldNumber, role, value_.data() + common);
      rows.Put(Key("h", 1 + StrBytes(id) + 2 * kU64Bytes)
                   .Str(id)
                   .Time(facts.time_micros)
                   .U64(entry.sequence)
                   .str(),
               value_);
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
// decode or an `e` row is missing, or a storage error.
Status ForEachItem(const ViewReader& history, std::string_view object_id,
                   const std::function<bool(v1::HistoryItem&)>& visit) {
  v1::HistoryItem item;
  Status read;
  const std::string prefix = Key("h").Str(object_id).str();
  TL_RETURN_IF_ERROR(history.Scan(prefix, [&](std::string_view key, std::string_view value) {
    const std::optional<HistoryKeyParts> parts = ParseHistoryKey(key);
    read = parts.has_value() ? HistoryItemOfRow(history, *parts, value, &item)
                             : Status::DataLoss("history row key of " + std::string(object_id) +
                                                " is not h|object|time|sequence");
    return read.ok() && visit(item);
  }));
  return read;
}

}  // namespace

std::optional<HistoryKeyParts> ParseHistoryKey(std::string_view key) {
  const size_t object_end = FirstComponentPrefixLength(key);
  if (key.empty() || key[0] != 'h' || object_end < 3 || key.size() != object_end + 16) {
    return std::nullopt;
  }
  return HistoryKeyParts{key.substr(1, object_end - 2), DecodeTime(key.substr(object_end, 8)),
                         DecodeFixed64BigEndian(key.substr(object_end + 8, 8))};
}

Status HistoryItemOfRow(const ViewReader& history, const HistoryKeyParts& key,
                        std::string_view value, v1::HistoryItem* item) {
  const auto corrupt = [&](std::string_view what) {
    return Status::DataLoss("history row of " + std::string(key.object) + " at sequence " +
                            std::to_string(key.sequence) + " " + std::string(what));
  };
  if (!item->ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return corrupt("does not decode as traceledger.v1.HistoryItem");
  }
  if (item->event_type().empty()) {  // the event's `e` row has the rest
    std::string role = std::move(*item->mutable_role());
    TL_ASSIGN_OR_RETURN(std::optional<std::string> shared, history.Get(EventKey(key.sequence)));
    if (!shared.has_value() ||
        !item->ParseFromArray(shared->data(), static_cast<int>(shared->size()))) {
      return corrupt("names an event row that is missing or does not decode");
    }
    item->set_role(std::move(role));
  }
  item->set_sequence(key.sequence);
  item->set_event_time_unix_micros(key.time_unix_micros);
  return Status::Ok();
}

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
