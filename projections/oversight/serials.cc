#include "projections/oversight/serials.h"

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "ledger/base/encoding.h"
#include "projections/internal/wire.h"
#include "projections/keys.h"

namespace traceledger::projections {
namespace {

// Version 1: the first layout. Version 2: the "s" rows leave out the serial (the key has it)
// and hold only the sequence of each event they refer to; the rest of the reference (event
// id, time, party) is stored once per entry, in its "e" row (README.md).
constexpr uint32_t kSerialsVersion = 2;

// What an event does to one serial.
enum class Op {
  kObserve,       // named without moving it: only the unknown-serial check
  kCommission,    // created at the submitter
  kPack,          // put into a container
  kUnpack,        // taken out of its container
  kShip,          // leaves the submitter towards the owning_party destination
  kReceive,       // arrives at the submitter
  kSell,          // dispensed or sold
  kDecommission,  // decommissioned (or consumed by a transformation)
  kDestroy,       // destroyed
};

std::string_view OpVerb(Op op) {
  switch (op) {
    case Op::kObserve: return "observed";
    case Op::kCommission: return "commissioned";
    case Op::kPack: return "packed";
    case Op::kUnpack: return "unpacked";
    case Op::kShip: return "shipped";
    case Op::kReceive: return "received";
    case Op::kSell: return "dispensed";
    case Op::kDecommission: return "decommissioned";
    case Op::kDestroy: return "destroyed";
  }
  return "named";
}

std::string_view StageName(v1::SerialStage stage) {
  switch (stage) {
    case v1::SERIAL_STAGE_COMMISSIONED: return "commissioned";
    case v1::SERIAL_STAGE_PACKED: return "packed";
    case v1::SERIAL_STAGE_SHIPPED: return "shipped";
    case v1::SERIAL_STAGE_RECEIVED: return "received";
    case v1::SERIAL_STAGE_DISPENSED: return "dispensed";
    case v1::SERIAL_STAGE_DECOMMISSIONED: return "decommissioned";
    case v1::SERIAL_STAGE_DESTROYED: return "destroyed";
    default: return "seen";
  }
}

bool IsEnded(v1::SerialStage stage) {
  return stage == v1::SERIAL_STAGE_DISPENSED || stage == v1::SERIAL_STAGE_DECOMMISSIONED ||
         stage == v1::SERIAL_STAGE_DESTROYED;
}

// One serial an event touches.
struct Target {
  std::string serial;
  Op op = Op::kObserve;
  std::string via_container;  // the container the event moved, if reached through one
  std::string pack_into;      // kPack: the new container
};

// What is the same for every serial of one event.
struct EventContext {
  uint64_t sequence = 0;
  const AppliedEntry* entry = nullptr;
  const EventFacts* facts = nullptr;
  // The entry, in full (its "e" row, alerts) and as the states refer to it (the sequence).
  v1::OversightEventRef ref;
  v1::OversightEventRef slim_ref;
  // kReceive: the ids the receiver goes by (its submitter id and the receipt's own
  // owning_party destination).
  std::vector<std::string> receiver_ids;
  // The owning_party id the submitter gives itself in this transfer: the shipment's source or
  // the receipt's destination ("" if none).
  std::string own_alias;
};

std::string StateKey(std::string_view serial) {
  return Key("s", 1 + StrBytes(serial)).Str(serial).str();
}
std::string EventKey(uint64_t sequence) { return Key("e").U64(sequence).str(); }
std::string ContainerKey(std::string_view container) {
  return Key("m", 1 + StrBytes(container)).Str(container).str();
}
std::string ChildKey(std::string_view container, std::string_view child) {
  return Key("c", 1 + StrBytes(container) + StrBytes(child)).Str(container).Str(child).str();
}
std::string ChildPrefix(std::string_view container) {
  return Key("c", 1 + StrBytes(container)).Str(container).str();
}
constexpr std::string_view kAlertCountKey = "n";
std::string AlertKey(uint64_t index) { return Key("a").U64(index).str(); }
std::string SerialAlertPrefix(std::string_view serial) { return Key("x").Str(serial).str(); }

std::string OwningParty(const google::protobuf::RepeatedPtrField<v1::SourceDestination>& list) {
  for (const v1::SourceDestination& entry : list) {
    if (CbvShortName(entry.type()) == "owning_party") return entry.id();
  }
  return "";
}

const v1::EpcisCommon* CommonOf(const v1::Event& event) {
  if (event.has_object_event()) return &event.object_event().common();
  if (event.has_aggregation_event()) return &event.aggregation_event().common();
  return nullptr;
}

// How the submitter names itself in a transfer: a shipment's owning_party source, or a
// receipt's owning_party destination (the receiver as the shipper named it).
std::string OwnAlias(const v1::Event& event, Movement movement) {
  const v1::EpcisCommon* common = CommonOf(event);
  if (common == nullptr) return "";
  if (movement == Movement::kShip) return OwningParty(common->source_list());
  if (movement == Movement::kReceive) return OwningParty(common->destination_list());
  return "";
}

void AppendRef(std::string* out, const v1::OversightEventRef& ref) {
  out->append("entry ");
  out->append(std::to_string(ref.sequence()));
  out->append(" (");
  out->append(ref.event_id());
  out->append(")");
}

// `ref`: full; null (a state without that event) appends "no entry".
void AppendRef(std::string* out, const v1::OversightEventRef* ref) {
  if (ref == nullptr) {
    out->append("no entry");
    return;
  }
  AppendRef(out, *ref);
}

// The full references of the earlier events the states name by sequence, read from their "e"
// rows when an alert or a check needs more than the sequence (an event id for a message, a
// party), once per entry each. A row that is missing or does not decode sets status() (and
// the reference returned is an empty one): the caller returns it, so nothing is written.
class EventRefs {
 public:
  void Reset() {
    read_.clear();
    status_ = Status::Ok();
  }
  // The full reference `slim` (a state's) stands for.
  const v1::OversightEventRef& Full(const ViewReader& rows, const v1::OversightEventRef& slim) {
    const auto known = read_.find(slim.sequence());
    if (known != read_.end()) return known->second;
    v1::OversightEventRef& full = read_[slim.sequence()];
    Result<bool> found = rows.ReadMessage(EventKey(slim.sequence()), &full);
    if (!found.ok() || !*found) {
      if (status_.ok()) {
        status_ = found.ok() ? Status::DataLoss("serials: no event row for entry " +
                                                std::to_string(slim.sequence()))
                             : found.status();
      }
      full.Clear();
    }
    return full;
  }
  const Status& status() const { return status_; }

 private:
  std::map<uint64_t, v1::OversightEventRef> read_;
  Status status_;
};

// An alert about to be raised: its kind, the earlier event it conflicts with, and the text.
struct AlertDraft {
  v1::SerialAlertKind kind = v1::SERIAL_ALERT_KIND_UNSPECIFIED;
  std::optional<v1::OversightEventRef> conflict;
  std::string message;
};

// What an event does to a known serial: an alert or none, and whether the state follows it.
// The state follows events that pass the checks, and events that only reveal a missing record
// (the receiver of an in-transit serial dispensing or shipping it: a missing receipt; a
// receipt from the holder: a missing shipment). It does not follow an event by a party with
// no claim on the serial, a second commissioning, or any movement of an ended serial, so one
// bad event raises one alert instead of a cascade along the rest of the chain.
struct Verdict {
  std::optional<AlertDraft> alert;
  bool apply = true;
};

class SerialsProjection : public Projection {
 public:
  std::string_view name() const override { return kSerialsViewName; }
  uint32_t version() const override { return kSerialsVersion; }

  Status Apply(const AppliedEntry& entry, ViewRows& rows) override {
    if (entry.event == nullptr || !IsEpcisEvent(*entry.event)) return Status::Ok();
    const EventFacts& facts = *entry.facts;
    EventContext ctx;
    ctx.sequence = entry.sequence;
    ctx.entry = &entry;
    ctx.facts = &facts;
    ctx.ref.set_sequence(entry.sequence);
    ctx.ref.set_event_id(entry.entry->event_id());
    ctx.ref.set_time_unix_micros(facts.time_micros);
    ctx.ref.set_party(facts.party);
    ctx.slim_ref.set_sequence(entry.sequence);
    ctx.own_alias = OwnAlias(*entry.event, facts.movement);
    if (facts.movement == Movement::kReceive) {
      ctx.receiver_ids.push_back(facts.party);
      if (!ctx.own_alias.empty()) ctx.receiver_ids.push_back(ctx.own_alias);
    }

    std::deque<Target> targets;
    TL_RETURN_IF_ERROR(CollectTargets(ctx, rows, &targets));
    if (targets.empty()) return Status::Ok();
    // The states this entry writes refer to it by sequence: the rest once, here.
    rows.PutMessage(EventKey(entry.sequence), ctx.ref);
    refs_.Reset();
    pending_alert_count_.reset();
    for (const Target& target : targets) TL_RETURN_IF_ERROR(ApplyTarget(ctx, target, rows));
    if (pending_alert_count_.has_value()) {
      std::string value;
      PutFixed64BigEndian(&value, *pending_alert_count_);
      rows.Put(kAlertCountKey, value);
    }
    return Status::Ok();
  }

 private:
  // The serials the event touches, each once: those reached through a moved container first
  // (they stay in it), then the ones the event names directly.
  // A deque: `seen` points into the targets added, which stay put as it grows.
  Status CollectTargets(const EventContext& ctx, ViewRows& rows, std::deque<Target>* targets) {
    const EventFacts& facts = *ctx.facts;
    std::set<std::string_view> seen;  // the serials of `targets`
    auto add = [&](Target target) {
      if (seen.count(target.serial) != 0) return;
      targets->push_back(std::move(target));
      seen.insert(targets->back().serial);
    };
    // Objects that a movement applies to, containers expanded.
    auto moved = [&](const std::vector<ObjectQuantity>& objects, Op op) -> Status {
      std::vector<Target> through_containers;
      std::vector<std::string_view> direct;  // ids of `objects`
      for (const ObjectQuantity& object : objects) {
        TL_ASSIGN_OR_RETURN(std::optional<std::string> container,
                            rows.Get(ContainerKey(object.object_id)));
        if (container.has_value()) {
          std::set<std::string> visited = {object.object_id};
          TL_RETURN_IF_ERROR(Expand(rows, object.object_id, object.object_id, op, 1, &visited,
                                    &through_containers));
        }
        TL_ASSIGN_OR_RETURN(const bool serial,
                            IsSerial(rows, object.object_id, container.has_value()));
        if (serial) direct.push_back(object.object_id);
      }
      for (Target& target : through_containers) add(std::move(target));
      for (const std::string_view serial : direct) add({std::string(serial), op, "", ""});
      return Status::Ok();
    };

    switch (facts.movement) {
      case Movement::kCommission:
        for (const ObjectQuantity& object : facts.objects) {
          if (IsTrackedSerial(object.object_id)) add({object.object_id, Op::kCommission, "", ""});
        }
        break;
      case Movement::kShip:
        return moved(facts.objects, Op::kShip);
      case Movement::kReceive:
        return moved(facts.objects, Op::kReceive);
      case Movement::kSell:
        return moved(facts.objects, Op::kSell);
      case Movement::kDestroy:
        return moved(facts.objects,
                     facts.biz_step == "decommissioning" ? Op::kDecommission : Op::kDestroy);
      case Movement::kTransform:
        for (const ObjectQuantity& object : facts.inputs) {
          if (IsTrackedSerial(object.object_id)) add({object.object_id, Op::kDecommission, "", ""});
        }
        for (const ObjectQuantity& object : facts.outputs) {
          if (IsTrackedSerial(object.object_id)) add({object.object_id, Op::kCommission, "", ""});
        }
        break;
      case Movement::kPack:
        return CollectPack(ctx, rows, add);
      case Movement::kUnpack:
        return CollectUnpack(ctx, rows, add);
      case Movement::kNone:
      case Movement::kRemoval: {
        for (const std::string& id : facts.mentioned) {
          if (!IsTrackedSerial(id)) continue;
          TL_ASSIGN_OR_RETURN(std::optional<std::string> container, rows.Get(ContainerKey(id)));
          if (!container.has_value()) add({id, Op::kObserve, "", ""});
        }
        break;
      }
    }
    return Status::Ok();
  }

  // Whether `id`, named by the event, is a target itself (a container may be one too): it has
  // a state row, or it is a tracked serial that is not a container. State rows exist for
  // tracked serials only (ApplyTarget, the one writer, asserts it), so the state row needs
  // reading only for a tracked container; for any other id the answer is implied. Why: that
  // read was made for every moved lot, case and serial, and missed for all but serials.
  static Result<bool> IsSerial(ViewRows& rows, std::string_view id, bool is_container) {
    if (!IsTrackedSerial(id)) return false;
    if (!is_container) return true;
    return rows.Contains(StateKey(id));
  }

  // Serials packed (transitively) in `container`, depth first in key order, as targets of `op`
  // through `moved_container`.
  Status Expand(ViewRows& rows, const std::string& container, const std::string& moved_container,
                Op op, int depth, std::set<std::string>* visited, std::vector<Target>* out) {
    std::vector<std::string> children;
    const std::string prefix = ChildPrefix(container);
    TL_RETURN_IF_ERROR(rows.Scan(prefix, [&](std::string_view key, std::string_view) {
      std::string_view child = key.substr(prefix.size());
      if (!child.empty() && child.back() == '\0') child.remove_suffix(1);
      children.emplace_back(child);
      return true;
    }));
    for (const std::string& child : children) {
      if (!visited->insert(child).second) continue;  // a cycle in bad data
      const bool tracked = IsTrackedSerial(child);
      if (!tracked && depth >= kMaxContainerDepth) continue;
      TL_ASSIGN_OR_RETURN(std::optional<std::string> inner, rows.Get(ContainerKey(child)));
      // Only tracked serials have a state row. A child without a container row ("m") was
      // packed as a serial (CollectPack), in the write of its state (Effect); state and
      // container rows are never deleted, so only a container child's state row needs
      // reading (IsSerial).
      TL_ASSIGN_OR_RETURN(const bool serial, IsSerial(rows, child, inner.has_value()));
      if (serial) out->push_back(Target{child, op, moved_container, ""});
      if (depth >= kMaxContainerDepth) continue;
      if (inner.has_value()) {
        TL_RETURN_IF_ERROR(Expand(rows, child, moved_container, op, depth + 1, visited, out));
      }
    }
    return Status::Ok();
  }

  // Packing: containers among the children are linked here; serial children become kPack
  // targets (ApplyTarget links them, in the same write as their state).
  template <typename Add>
  Status CollectPack(const EventContext& ctx, ViewRows& rows, Add& add) {
    const EventFacts& facts = *ctx.facts;
    if (facts.parent.empty()) return Status::Ok();
    bool linked = false;
    for (const ObjectQuantity& object : facts.objects) {
      const std::string& child = object.object_id;
      if (child == facts.parent) continue;
      TL_ASSIGN_OR_RETURN(std::optional<std::string> inner, rows.Get(ContainerKey(child)));
      TL_ASSIGN_OR_RETURN(const bool serial, IsSerial(rows, child, inner.has_value()));
      if (serial) {
        add({child, Op::kPack, "", facts.parent});
        linked = true;
      } else if (inner.has_value()) {
        if (!inner->empty() && *inner != facts.parent) rows.Delete(ChildKey(*inner, child));
        rows.Put(ContainerKey(child), facts.parent);
        rows.Put(ChildKey(facts.parent, child), "");
        linked = true;
      }
    }
    if (linked) {
      TL_ASSIGN_OR_RETURN(std::optional<std::string> marker, rows.Get(ContainerKey(facts.parent)));
      if (!marker.has_value()) rows.Put(ContainerKey(facts.parent), "");
    }
    return Status::Ok();
  }

  // Unpacking the listed children, or every child when the event lists none.
  template <typename Add>
  Status CollectUnpack(const EventContext& ctx, ViewRows& rows, Add& add) {
    const EventFacts& facts = *ctx.facts;
    if (facts.parent.empty()) return Status::Ok();
    std::vector<std::string> children;
    if (facts.objects.empty()) {
      const std::string prefix = ChildPrefix(facts.parent);
      TL_RETURN_IF_ERROR(rows.Scan(prefix, [&](std::string_view key, std::string_view) {
        std::string_view child = key.substr(prefix.size());
        if (!child.empty() && child.back() == '\0') child.remove_suffix(1);
        children.emplace_back(child);
        return true;
      }));
    } else {
      for (const ObjectQuantity& object : facts.objects) children.push_back(object.object_id);
    }
    for (const std::string& child : children) {
      TL_ASSIGN_OR_RETURN(std::optional<std::string> inner, rows.Get(ContainerKey(child)));
      TL_ASSIGN_OR_RETURN(const bool serial, IsSerial(rows, child, inner.has_value()));
      if (serial) {
        add({child, Op::kUnpack, "", ""});
      } else if (inner.has_value() && *inner == facts.parent) {
        rows.Put(ContainerKey(child), "");
        rows.Delete(ChildKey(facts.parent, child));
      }
    }
    return Status::Ok();
  }

  // The rule an event breaks for a known serial, if any, and whether the state follows it
  // (README.md "Alert rules").
  // The references in `state` are slim: what an alert names is read through refs_ (whose
  // status the caller checks).
  Verdict Check(const EventContext& ctx, const Target& target, const v1::SerialState& state,
                const ViewReader& rows) {
    const std::string& party = ctx.facts->party;
    // A reference of the state's, full; null if the state has none (`has` false).
    auto full = [&](bool has, const v1::OversightEventRef& slim) -> const v1::OversightEventRef* {
      return has ? &refs_.Full(rows, slim) : nullptr;
    };
    const bool ended = IsEnded(state.stage());
    const bool in_transit = state.stage() == v1::SERIAL_STAGE_SHIPPED;
    auto text = [&](std::string_view what) {
      std::string message = target.serial;
      message.append(": ");
      message.append(OpVerb(target.op));
      message.append(" by ");
      message.append(party);
      if (!target.via_container.empty()) {
        message.append(" (in ");
        message.append(target.via_container);
        message.append(")");
      }
      message.append(", but ");
      message.append(what);
      return message;
    };
    // `conflict`: full, or null when the state has no such event.
    auto alert = [&](v1::SerialAlertKind kind, const v1::OversightEventRef* conflict,
                     std::string what, bool apply) {
      Verdict verdict;
      verdict.alert = AlertDraft{kind, std::nullopt, text(what)};
      if (conflict != nullptr) verdict.alert->conflict = *conflict;
      verdict.apply = apply;
      return verdict;
    };
    auto party_of = [](const v1::OversightEventRef* ref) {
      return ref != nullptr ? ref->party() : std::string("an unknown party");
    };
    auto ended_alert = [&](v1::SerialAlertKind kind) {
      const v1::OversightEventRef* ended_by = full(state.has_ended_by(), state.ended_by());
      std::string what = "it was ";
      what.append(StageName(state.stage()));
      what.append(" by ");
      what.append(party_of(ended_by));
      what.append(" at ");
      AppendRef(&what, ended_by);
      return alert(kind, ended_by, std::move(what), /*apply=*/false);
    };
    auto last_shipment = [&] { return full(state.has_last_shipment(), state.last_shipment()); };
    auto last_movement = [&] { return full(state.has_last_movement(), state.last_movement()); };
    Verdict ok;
    Verdict unchanged;
    unchanged.apply = false;
    switch (target.op) {
      case Op::kObserve:
      case Op::kUnpack:
        return ok;
      case Op::kCommission: {
        if (!state.commissioned()) return ok;  // first seen earlier (alerted then)
        if (ended) return ended_alert(v1::SERIAL_ALERT_KIND_REAPPEARED);
        const v1::OversightEventRef* commissioned_by =
            full(state.has_commissioned_by(), state.commissioned_by());
        std::string what = "it was already commissioned by ";
        what.append(party_of(commissioned_by));
        what.append(" at ");
        AppendRef(&what, commissioned_by);
        return alert(v1::SERIAL_ALERT_KIND_DUPLICATE_COMMISSIONING, commissioned_by,
                     std::move(what), /*apply=*/false);
      }
      case Op::kSell:
        if (ended) {
          return ended_alert(state.stage() == v1::SERIAL_STAGE_DISPENSED
                                 ? v1::SERIAL_ALERT_KIND_DOUBLE_DISPENSING
                                 : v1::SERIAL_ALERT_KIND_REAPPEARED);
        }
        if (in_transit) {
          return alert(v1::SERIAL_ALERT_KIND_NOT_HOLDER, last_shipment(),
                       InTransitText(state, last_shipment()), /*apply=*/IsDestination(ctx, state));
        }
        if (state.holder() != party) {
          return alert(v1::SERIAL_ALERT_KIND_NOT_HOLDER, last_movement(),
                       HeldByText(state, last_movement()), /*apply=*/false);
        }
        return ok;
      case Op::kShip:
        if (ended) return ended_alert(v1::SERIAL_ALERT_KIND_REAPPEARED);
        if (in_transit) {
          // The same shipment reported again (e.g. per aggregation level) is not a conflict.
          if (state.holder() == party && state.shipped_to() == ctx.facts->counterparty) {
            return unchanged;
          }
          return alert(v1::SERIAL_ALERT_KIND_NOT_HOLDER, last_shipment(),
                       InTransitText(state, last_shipment()), /*apply=*/IsDestination(ctx, state));
        }
        if (state.holder() != party) {
          return alert(v1::SERIAL_ALERT_KIND_NOT_HOLDER, last_movement(),
                       HeldByText(state, last_movement()), /*apply=*/false);
        }
        return ok;
      case Op::kReceive: {
        if (ended) return ended_alert(v1::SERIAL_ALERT_KIND_REAPPEARED);
        if (in_transit) {
          if (state.shipped_to().empty()) return ok;
          for (const std::string& id : ctx.receiver_ids) {
            if (id == state.shipped_to()) return ok;
          }
          std::string what = "it was shipped to ";
          what.append(state.shipped_to());
          what.append(" by ");
          what.append(state.holder());
          what.append(" at ");
          AppendRef(&what, last_shipment());
          return alert(v1::SERIAL_ALERT_KIND_RECEIPT_WITHOUT_SHIPMENT, last_shipment(),
                       std::move(what), /*apply=*/false);
        }
        // Receiving again what this party already received (e.g. the case, then its packs).
        if (state.holder() == party && state.has_last_receipt() &&
            full(true, state.last_receipt())->party() == party) {
          return unchanged;
        }
        // A receipt from the holder itself only lacks the shipment record.
        const std::string& source = ctx.facts->counterparty;
        const bool from_holder =
            !source.empty() && (source == state.holder() || source == state.holder_alias());
        std::string what = "it was not shipped to it (";
        what.append(StageName(state.stage()));
        what.append(" at ");
        what.append(state.holder());
        what.append(", ");
        AppendRef(&what, last_movement());
        what.append(from_holder ? "; no shipment recorded)" : ")");
        return alert(v1::SERIAL_ALERT_KIND_RECEIPT_WITHOUT_SHIPMENT, last_movement(),
                     std::move(what), /*apply=*/from_holder);
      }
      case Op::kPack:
      case Op::kDecommission:
      case Op::kDestroy:
        if (ended) return ended_alert(v1::SERIAL_ALERT_KIND_REAPPEARED);
        return ok;
    }
    return ok;
  }

  // True if the submitter is the party an in-transit serial was shipped to.
  static bool IsDestination(const EventContext& ctx, const v1::SerialState& state) {
    if (state.shipped_to().empty()) return false;
    return state.shipped_to() == ctx.facts->party || state.shipped_to() == ctx.own_alias;
  }

  // `last_shipment`: the state's, full (null if none).
  static std::string InTransitText(const v1::SerialState& state,
                                   const v1::OversightEventRef* last_shipment) {
    std::string what = "it is in transit from ";
    what.append(state.holder());
    what.append(" to ");
    what.append(state.shipped_to().empty() ? std::string("an unnamed party") : state.shipped_to());
    what.append(" since ");
    AppendRef(&what, last_shipment);
    what.append(" and was not received");
    return what;
  }

  // `last_movement`: the state's, full (null if none).
  static std::string HeldByText(const v1::SerialState& state,
                                const v1::OversightEventRef* last_movement) {
    std::string what = "it is held by ";
    what.append(state.holder());
    what.append(" (");
    what.append(StageName(state.stage()));
    what.append(" at ");
    AppendRef(&what, last_movement);
    what.append(")");
    return what;
  }

  // The stage change an operation makes (checked or not).
  static void Effect(const EventContext& ctx, const Target& target, v1::SerialState* state,
                     ViewRows& rows) {
    const std::string& party = ctx.facts->party;
    // How the shipper named the receiver: an alias of whoever ends the transit.
    const std::string named_receiver =
        state->stage() == v1::SERIAL_STAGE_SHIPPED ? state->shipped_to() : std::string();
    auto unlink = [&]() {
      if (state->packed_in().empty()) return;
      rows.Delete(ChildKey(state->packed_in(), target.serial));
      state->clear_packed_in();
    };
    auto moved = [&](v1::SerialStage stage) {
      state->set_stage(stage);
      if (state->holder() != party) {
        state->set_holder(party);
        state->set_holder_alias(named_receiver);
      }
      if (!ctx.own_alias.empty()) state->set_holder_alias(ctx.own_alias);
      *state->mutable_last_movement() = ctx.slim_ref;
    };
    switch (target.op) {
      case Op::kObserve:
        if (state->holder().empty()) {  // first seen here: this party is the only one known
          state->set_holder(party);
          *state->mutable_last_movement() = ctx.slim_ref;
        }
        return;
      case Op::kCommission:
        moved(v1::SERIAL_STAGE_COMMISSIONED);
        state->set_commissioned(true);
        *state->mutable_commissioned_by() = ctx.slim_ref;
        state->clear_shipped_to();
        return;
      case Op::kPack:
        if (!state->packed_in().empty() && state->packed_in() != target.pack_into) unlink();
        state->set_packed_in(target.pack_into);
        rows.Put(ChildKey(target.pack_into, target.serial), "");
        moved(v1::SERIAL_STAGE_PACKED);
        state->clear_shipped_to();
        return;
      case Op::kUnpack:
        unlink();
        if (state->stage() == v1::SERIAL_STAGE_PACKED) {
          state->set_stage(state->has_last_receipt() ? v1::SERIAL_STAGE_RECEIVED
                                                     : v1::SERIAL_STAGE_COMMISSIONED);
          *state->mutable_last_movement() = ctx.slim_ref;
        }
        return;
      case Op::kShip:
        if (target.via_container.empty()) unlink();
        moved(v1::SERIAL_STAGE_SHIPPED);
        state->set_shipped_to(ctx.facts->counterparty);
        *state->mutable_last_shipment() = ctx.slim_ref;
        return;
      case Op::kReceive:
        moved(v1::SERIAL_STAGE_RECEIVED);
        state->clear_shipped_to();
        *state->mutable_last_receipt() = ctx.slim_ref;
        return;
      case Op::kSell:
      case Op::kDecommission:
      case Op::kDestroy:
        if (target.via_container.empty()) unlink();
        moved(target.op == Op::kSell           ? v1::SERIAL_STAGE_DISPENSED
              : target.op == Op::kDecommission ? v1::SERIAL_STAGE_DECOMMISSIONED
                                               : v1::SERIAL_STAGE_DESTROYED);
        state->clear_shipped_to();
        *state->mutable_ended_by() = ctx.slim_ref;
        return;
    }
  }

  Status ApplyTarget(const EventContext& ctx, const Target& target, ViewRows& rows) {
    // State rows are written here only, for tracked serials only: CollectTargets (IsSerial,
    // Expand) reads them for tracked ids only.
    TL_ASSERT(IsTrackedSerial(target.serial));
    v1::SerialState& state = state_;
    const std::string key = StateKey(target.serial);
    TL_ASSIGN_OR_RETURN(const bool stored,
                        rows.ReadDecoded(key, v1::SerialState::descriptor()->full_name(),
                                         [&](std::string_view bytes) {
                                           return DecodeSerialState(bytes, &state) ||
                                                  state.ParseFromArray(
                                                      bytes.data(),
                                                      static_cast<int>(bytes.size()));
                                         }));
    if (!stored) state.Clear();
    std::optional<AlertDraft> alert;
    bool apply = true;
    if (stored) {
      Verdict verdict = Check(ctx, target, state, rows);
      TL_RETURN_IF_ERROR(refs_.status());
      alert = std::move(verdict.alert);
      apply = verdict.apply;
    } else {
      if (target.op != Op::kCommission) {
        AlertDraft draft;
        draft.kind = v1::SERIAL_ALERT_KIND_UNKNOWN_SERIAL;
        draft.message = target.serial;
        draft.message.append(": ");
        draft.message.append(OpVerb(target.op));
        draft.message.append(" by ");
        draft.message.append(ctx.facts->party);
        if (!target.via_container.empty()) {
          draft.message.append(" (in ");
          draft.message.append(target.via_container);
          draft.message.append(")");
        }
        draft.message.append(", but it was never commissioned");
        alert = std::move(draft);
      }
    }
    if (apply) {
      Effect(ctx, target, &state, rows);
      if (target.op != Op::kObserve) state.set_movement_count(state.movement_count() + 1);
    }
    if (alert.has_value()) {
      state.set_alert_count(state.alert_count() + 1);
      TL_RETURN_IF_ERROR(RaiseAlert(ctx, target, *alert, rows));
    }
    EncodeSerialState(state, &state_bytes_);
    rows.Put(key, state_bytes_);
    return Status::Ok();
  }

  Status RaiseAlert(const EventContext& ctx, const Target& target, const AlertDraft& draft,
                    ViewRows& rows) {
    if (!pending_alert_count_.has_value()) {
      TL_ASSIGN_OR_RETURN(std::optional<std::string> count, rows.Get(kAlertCountKey));
      pending_alert_count_ = count.has_value() ? DecodeFixed64BigEndian(*count) : 0;
    }
    const uint64_t index = (*pending_alert_count_)++;
    v1::SerialAlert alert;
    alert.set_alert_index(index);
    alert.set_kind(draft.kind);
    alert.set_serial(target.serial);
    if (draft.conflict.has_value()) {
      TL_ASSERT(draft.conflict->sequence() < ctx.sequence);  // states hold earlier entries only
      alert.add_sequences(draft.conflict->sequence());
      alert.add_event_ids(draft.conflict->event_id());
    }
    alert.add_sequences(ctx.sequence);
    alert.add_event_ids(ctx.ref.event_id());
    alert.set_message(draft.message);
    alert.set_time_unix_micros(ctx.ref.time_unix_micros());
    alert.set_sequence(ctx.sequence);
    alert.set_party(ctx.ref.party());
    alert.set_via_container(target.via_container);
    rows.PutMessage(AlertKey(index), alert);
    rows.PutMessage(Key("x").Str(target.serial).U64(index).str(), alert);
    return Status::Ok();
  }

  // The entry's reads of earlier events' "e" rows.
  EventRefs refs_;
  // Alerts numbered so far in the entry being applied (read once per entry from "n").
  std::optional<uint64_t> pending_alert_count_;
  // The serial state ApplyTarget works on, read into again for every target, and its row's
  // bytes (both kept for their memory).
  v1::SerialState state_;
  std::string state_bytes_;
};

Result<uint64_t> AlertCount(const ViewReader& reader) {
  TL_ASSIGN_OR_RETURN(std::optional<std::string> count, reader.Get(kAlertCountKey));
  if (!count.has_value()) return uint64_t{0};
  if (count->size() != 8) return Status::DataLoss("serials: alert count row is not 8 bytes");
  return DecodeFixed64BigEndian(*count);
}

Result<v1::SerialAlert> AlertAt(const ViewReader& reader, uint64_t index) {
  TL_ASSIGN_OR_RETURN(std::optional<v1::SerialAlert> alert,
                      reader.GetMessage<v1::SerialAlert>(AlertKey(index)));
  if (!alert.has_value()) {
    return Status::DataLoss("serials: alert " + std::to_string(index) + " is missing");
  }
  return std::move(*alert);
}

}  // namespace

bool IsTrackedSerial(std::string_view object_id) {
  if (object_id.substr(0, 8) == "cn-drug:") return true;
  if (object_id.substr(0, 17) == "urn:epc:id:sgtin:") return true;
  if (object_id.substr(0, 4) == "http") {
    return object_id.find("/01/") != std::string_view::npos &&
           object_id.find("/21/") != std::string_view::npos;
  }
  return false;
}

namespace {

// The codec below names fields by number, as in view_oversight.proto.
using State = v1::SerialState;
using Ref = v1::OversightEventRef;
static_assert(State::kSerialFieldNumber == 1 && State::kStageFieldNumber == 2 &&
              State::kCommissionedFieldNumber == 3 && State::kHolderFieldNumber == 4 &&
              State::kShippedToFieldNumber == 5 && State::kPackedInFieldNumber == 6 &&
              State::kCommissionedByFieldNumber == 7 && State::kLastMovementFieldNumber == 8 &&
              State::kLastShipmentFieldNumber == 9 && State::kLastReceiptFieldNumber == 10 &&
              State::kEndedByFieldNumber == 11 && State::kMovementCountFieldNumber == 12 &&
              State::kAlertCountFieldNumber == 13 && State::kHolderAliasFieldNumber == 14);
static_assert(Ref::kSequenceFieldNumber == 1 && Ref::kEventIdFieldNumber == 2 &&
              Ref::kTimeUnixMicrosFieldNumber == 3 && Ref::kPartyFieldNumber == 4);

// OversightEventRef's fields.
struct RefView {
  uint64_t sequence = 0;
  std::string_view event_id;
  int64_t time_unix_micros = 0;
  std::string_view party;
};

size_t RefSize(const v1::OversightEventRef& ref) {
  return wire::VarintFieldSize(1, ref.sequence()) + wire::BytesFieldSize(2, ref.event_id()) +
         wire::VarintFieldSize(3, static_cast<uint64_t>(ref.time_unix_micros())) +
         wire::BytesFieldSize(4, ref.party());
}

char* WriteRef(uint32_t field, const v1::OversightEventRef& ref, size_t size, char* p) {
  p = wire::WriteMessageHead(field, size, p);
  p = wire::WriteVarintField(1, ref.sequence(), p);
  p = wire::WriteBytesField(2, ref.event_id(), p);
  p = wire::WriteVarintField(3, static_cast<uint64_t>(ref.time_unix_micros()), p);
  return wire::WriteBytesField(4, ref.party(), p);
}

bool DecodeRef(std::string_view bytes, RefView* ref) {
  bool known = true;
  const bool well_formed = wire::ForEachField(
      bytes,
      [&](uint32_t field, uint64_t number) {
        if (field == 1) {
          ref->sequence = number;
        } else if (field == 3) {
          ref->time_unix_micros = static_cast<int64_t>(number);
        } else {
          known = false;
        }
      },
      [&](uint32_t, uint64_t) { known = false; },
      [&](uint32_t field, std::string_view text) {
        if (field == 2) {
          ref->event_id = text;
        } else if (field == 4) {
          ref->party = text;
        } else {
          known = false;
        }
      },
      [&](uint32_t, uint32_t) { known = false; });
  return well_formed && known;
}

// `*field` = `text`, keeping the string's memory (an empty one stays unallocated).
template <typename Clear, typename Mutable>
void AssignText(std::string_view text, Clear&& clear, Mutable&& mutable_field) {
  if (text.empty()) {
    clear();
  } else {
    mutable_field()->assign(text.data(), text.size());
  }
}

void AssignRef(const RefView& view, v1::OversightEventRef* ref) {
  ref->set_sequence(view.sequence);
  ref->set_time_unix_micros(view.time_unix_micros);
  AssignText(view.event_id, [&] { ref->clear_event_id(); },
             [&] { return ref->mutable_event_id(); });
  AssignText(view.party, [&] { ref->clear_party(); }, [&] { return ref->mutable_party(); });
}

}  // namespace

void EncodeSerialState(const v1::SerialState& state, std::string* out) {
  // The event references present (fields 7 to 11), and their sizes.
  const v1::OversightEventRef* refs[5] = {
      state.has_commissioned_by() ? &state.commissioned_by() : nullptr,
      state.has_last_movement() ? &state.last_movement() : nullptr,
      state.has_last_shipment() ? &state.last_shipment() : nullptr,
      state.has_last_receipt() ? &state.last_receipt() : nullptr,
      state.has_ended_by() ? &state.ended_by() : nullptr};
  size_t ref_sizes[5] = {};
  const auto stage = static_cast<uint64_t>(static_cast<int64_t>(state.stage()));
  size_t size = wire::BytesFieldSize(1, state.serial()) + wire::VarintFieldSize(2, stage) +
                wire::VarintFieldSize(3, state.commissioned() ? 1 : 0) +
                wire::BytesFieldSize(4, state.holder()) +
                wire::BytesFieldSize(5, state.shipped_to()) +
                wire::BytesFieldSize(6, state.packed_in()) +
                wire::VarintFieldSize(12, state.movement_count()) +
                wire::VarintFieldSize(13, state.alert_count()) +
                wire::BytesFieldSize(14, state.holder_alias());
  for (int i = 0; i < 5; ++i) {
    if (refs[i] == nullptr) continue;
    ref_sizes[i] = RefSize(*refs[i]);
    size += wire::MessageFieldSize(static_cast<uint32_t>(7 + i), ref_sizes[i]);
  }
  out->resize(size);
  char* p = out->data();
  p = wire::WriteBytesField(1, state.serial(), p);
  p = wire::WriteVarintField(2, stage, p);
  p = wire::WriteVarintField(3, state.commissioned() ? 1 : 0, p);
  p = wire::WriteBytesField(4, state.holder(), p);
  p = wire::WriteBytesField(5, state.shipped_to(), p);
  p = wire::WriteBytesField(6, state.packed_in(), p);
  for (int i = 0; i < 5; ++i) {
    if (refs[i] != nullptr) p = WriteRef(static_cast<uint32_t>(7 + i), *refs[i], ref_sizes[i], p);
  }
  p = wire::WriteVarintField(12, state.movement_count(), p);
  p = wire::WriteVarintField(13, state.alert_count(), p);
  p = wire::WriteBytesField(14, state.holder_alias(), p);
  TL_ASSERT(p == out->data() + out->size());
}

bool DecodeSerialState(std::string_view bytes, v1::SerialState* state) {
  std::string_view text[15];  // by field number: 1, 4, 5, 6, 14
  uint64_t number[15] = {};   // 2, 3, 12, 13
  std::optional<RefView> refs[15];  // 7 to 11
  bool known = true;
  const bool well_formed = wire::ForEachField(
      bytes,
      [&](uint32_t field, uint64_t value) {
        if (field == 2 || field == 3 || field == 12 || field == 13) {
          number[field] = value;
        } else {
          known = false;
        }
      },
      [&](uint32_t, uint64_t) { known = false; },
      [&](uint32_t field, std::string_view value) {
        if (field == 1 || field == 4 || field == 5 || field == 6 || field == 14) {
          text[field] = value;
        } else if (field >= 7 && field <= 11 && !refs[field].has_value()) {
          known = DecodeRef(value, &refs[field].emplace()) && known;
        } else {
          known = false;  // unknown, or a message field twice (protobuf would merge them)
        }
      },
      [&](uint32_t, uint32_t) { known = false; });
  if (!well_formed || !known) return false;
  // Only values protobuf would have parsed: an enum or uint32 field beyond 32 bits is not one.
  if (number[2] > UINT32_MAX && number[2] < (uint64_t{0xffffffff} << 32)) return false;
  if (number[12] > UINT32_MAX || number[13] > UINT32_MAX) return false;
  AssignText(text[1], [&] { state->clear_serial(); }, [&] { return state->mutable_serial(); });
  state->set_stage(static_cast<v1::SerialStage>(static_cast<int32_t>(number[2])));
  state->set_commissioned(number[3] != 0);
  AssignText(text[4], [&] { state->clear_holder(); }, [&] { return state->mutable_holder(); });
  AssignText(text[5], [&] { state->clear_shipped_to(); },
             [&] { return state->mutable_shipped_to(); });
  AssignText(text[6], [&] { state->clear_packed_in(); },
             [&] { return state->mutable_packed_in(); });
  auto assign_ref = [&](uint32_t field, auto&& clear, auto&& mutable_ref) {
    if (refs[field].has_value()) {
      AssignRef(*refs[field], mutable_ref());
    } else {
      clear();
    }
  };
  assign_ref(7, [&] { state->clear_commissioned_by(); },
             [&] { return state->mutable_commissioned_by(); });
  assign_ref(8, [&] { state->clear_last_movement(); },
             [&] { return state->mutable_last_movement(); });
  assign_ref(9, [&] { state->clear_last_shipment(); },
             [&] { return state->mutable_last_shipment(); });
  assign_ref(10, [&] { state->clear_last_receipt(); },
             [&] { return state->mutable_last_receipt(); });
  assign_ref(11, [&] { state->clear_ended_by(); }, [&] { return state->mutable_ended_by(); });
  state->set_movement_count(static_cast<uint32_t>(number[12]));
  state->set_alert_count(static_cast<uint32_t>(number[13]));
  AssignText(text[14], [&] { state->clear_holder_alias(); },
             [&] { return state->mutable_holder_alias(); });
  return true;
}

std::unique_ptr<Projection> NewSerialsProjection() {
  return std::make_unique<SerialsProjection>();
}

Result<v1::SerialReport> SerialStatus(const ViewReader& reader, std::string_view serial) {
  TL_ASSIGN_OR_RETURN(std::optional<v1::SerialState> state,
                      reader.GetMessage<v1::SerialState>(StateKey(serial)));
  if (!state.has_value()) {
    std::string message = "no event names serial ";
    message.append(serial);
    return Status::NotFound(std::move(message));
  }
  v1::SerialReport report;
  v1::SerialState& out = *report.mutable_state();
  out = std::move(*state);
  // The row names its events by sequence; each one's "e" row has the rest.
  out.set_serial(std::string(serial));
  for (v1::OversightEventRef* ref :
       {out.has_commissioned_by() ? out.mutable_commissioned_by() : nullptr,
        out.has_last_movement() ? out.mutable_last_movement() : nullptr,
        out.has_last_shipment() ? out.mutable_last_shipment() : nullptr,
        out.has_last_receipt() ? out.mutable_last_receipt() : nullptr,
        out.has_ended_by() ? out.mutable_ended_by() : nullptr}) {
    if (ref == nullptr) continue;
    const uint64_t sequence = ref->sequence();
    TL_ASSIGN_OR_RETURN(const bool found, reader.ReadMessage(EventKey(sequence), ref));
    if (!found || ref->sequence() != sequence) {
      return Status::DataLoss("serials: the event row of entry " + std::to_string(sequence) +
                              " that serial " + std::string(serial) +
                              " names is missing or names another entry");
    }
  }
  bool corrupt = false;
  TL_RETURN_IF_ERROR(reader.Scan(SerialAlertPrefix(serial), [&](std::string_view,
                                                                std::string_view value) {
    if (!report.add_alerts()->ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      corrupt = true;
      return false;
    }
    return static_cast<size_t>(report.alerts_size()) < kMaxAlertsPerReport;
  }));
  if (corrupt) return Status::DataLoss("serials: an alert row does not decode");
  return report;
}

Result<v1::SerialAlertPage> SerialAlertsFrom(const ViewReader& reader, uint64_t from_alert_index,
                                             size_t limit) {
  TL_ASSIGN_OR_RETURN(const uint64_t count, AlertCount(reader));
  const uint64_t wanted = std::min(limit, kMaxAlertsPerPage);
  const uint64_t begin = std::min(from_alert_index, count);
  const uint64_t end = begin + std::min(wanted, count - begin);
  v1::SerialAlertPage page;
  for (uint64_t index = begin; index < end; ++index) {
    TL_ASSIGN_OR_RETURN(*page.add_alerts(), AlertAt(reader, index));
  }
  page.set_next_alert_index(end);
  page.set_more(end < count);
  return page;
}

Result<v1::SerialAlertPage> SerialAlerts(const ViewReader& reader, uint64_t since_sequence,
                                         size_t limit) {
  TL_ASSIGN_OR_RETURN(const uint64_t count, AlertCount(reader));
  // Alerts are numbered in ledger order: find the first one at or after since_sequence.
  uint64_t low = 0;
  uint64_t high = count;
  while (low < high) {
    const uint64_t middle = low + (high - low) / 2;
    TL_ASSIGN_OR_RETURN(const v1::SerialAlert alert, AlertAt(reader, middle));
    if (alert.sequence() < since_sequence) {
      low = middle + 1;
    } else {
      high = middle;
    }
  }
  return SerialAlertsFrom(reader, low, limit);
}

}  // namespace traceledger::projections
