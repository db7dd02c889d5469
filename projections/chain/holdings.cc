#include "projections/chain/holdings.h"

#include <cmath>
#include <map>
#include <optional>
#include <string>

#include "projections/chain/genealogy.h"
#include "projections/internal/wire.h"
#include "projections/keys.h"

namespace traceledger::projections {
namespace {

// A holder row's key is an out-edge key of kind "holds" at the latest time and sequence there
// are (IsHolderRow), so it comes after every edge of the object: no event has that time, as
// event times are validated to years 0001..9999.
// `more`: room for what the caller appends (a party).
Key HoldersKeyPrefix(std::string_view object, size_t more = 0) {
  Key key("o", 1 + StrBytes(object) + 2 * kU64Bytes + StrBytes(kHolderKind) + more);
  key.Str(object).Time(kHolderTime).U64(kHolderSequence).Str(kHolderKind);
  return key;
}

std::string ByPartyKey(std::string_view party, std::string_view object) {
  return Key("p", 1 + StrBytes(party) + StrBytes(object)).Str(party).Str(object).str();
}

struct Change {
  double quantity = 0;
  std::string_view uom;  // the entry's, or a row's the genealogy read for it
};

Status Update(ViewRows& rows, std::string_view object, std::string_view party,
              const EventFacts& facts, uint64_t sequence, const Change& change,
              v1::Holding* holding, std::string* bytes) {
  const std::string by_object = HolderKey(object, party);
  TL_ASSIGN_OR_RETURN(const bool existed,
                      rows.ReadDecoded(by_object, v1::Holding::descriptor()->full_name(),
                                       [&](std::string_view value) {
                                         return DecodeHolding(value, holding) ||
                                                holding->ParseFromArray(
                                                    value.data(), static_cast<int>(value.size()));
                                       }));
  if (!existed) holding->Clear();
  // The key says them (the queries fill them in); not stored.
  holding->clear_object_id();
  holding->clear_party();
  holding->set_quantity(holding->quantity() + change.quantity);
  if (!change.uom.empty()) holding->mutable_uom()->assign(change.uom.data(), change.uom.size());
  if (!facts.location.empty()) holding->set_location(facts.location);
  holding->set_last_sequence(sequence);
  holding->set_last_time_unix_micros(facts.time_micros);
  if (std::fabs(holding->quantity()) < kZeroQuantity) {
    rows.Delete(by_object);
    rows.Delete(ByPartyKey(party, object));
    return Status::Ok();
  }
  EncodeHolding(*holding, bytes);
  rows.Put(by_object, *bytes);
  // The by-party row is key only: written when the holding appears, then left alone.
  if (!existed) rows.Put(ByPartyKey(party, object), "");
  return Status::Ok();
}

// The holding of `object` at `party` in holder row value `value`.
Status ParseHolding(std::string_view value, std::string_view object, std::string_view party,
                    v1::Holding* holding) {
  if (!holding->ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return Status::DataLoss("holdings row does not decode as traceledger.v1.Holding");
  }
  holding->set_object_id(std::string(object));
  holding->set_party(std::string(party));
  return Status::Ok();
}

}  // namespace

std::string HolderKey(std::string_view object, std::string_view party) {
  return HoldersKeyPrefix(object, StrBytes(party)).Str(party).str();
}

std::string HoldersPrefix(std::string_view object) { return HoldersKeyPrefix(object).str(); }

void EncodeHolding(const v1::Holding& holding, std::string* out) {
  using H = v1::Holding;
  const auto last_time = static_cast<uint64_t>(holding.last_time_unix_micros());
  out->resize(wire::BytesFieldSize(H::kObjectIdFieldNumber, holding.object_id()) +
              wire::BytesFieldSize(H::kPartyFieldNumber, holding.party()) +
              wire::DoubleFieldSize(H::kQuantityFieldNumber, holding.quantity()) +
              wire::BytesFieldSize(H::kUomFieldNumber, holding.uom()) +
              wire::BytesFieldSize(H::kLocationFieldNumber, holding.location()) +
              wire::VarintFieldSize(H::kLastSequenceFieldNumber, holding.last_sequence()) +
              wire::VarintFieldSize(H::kLastTimeUnixMicrosFieldNumber, last_time));
  char* p = out->data();
  p = wire::WriteBytesField(H::kObjectIdFieldNumber, holding.object_id(), p);
  p = wire::WriteBytesField(H::kPartyFieldNumber, holding.party(), p);
  p = wire::WriteDoubleField(H::kQuantityFieldNumber, holding.quantity(), p);
  p = wire::WriteBytesField(H::kUomFieldNumber, holding.uom(), p);
  p = wire::WriteBytesField(H::kLocationFieldNumber, holding.location(), p);
  p = wire::WriteVarintField(H::kLastSequenceFieldNumber, holding.last_sequence(), p);
  p = wire::WriteVarintField(H::kLastTimeUnixMicrosFieldNumber, last_time, p);
  TL_ASSERT(p == out->data() + out->size());
}

bool DecodeHolding(std::string_view bytes, v1::Holding* holding) {
  std::string_view object_id, party, uom, location;
  uint64_t quantity_bits = 0;
  uint64_t last_sequence = 0;
  uint64_t last_time = 0;
  bool known = true;
  const bool well_formed = wire::ForEachField(
      bytes,
      [&](uint32_t field, uint64_t number) {
        if (field == v1::Holding::kLastSequenceFieldNumber) {
          last_sequence = number;
        } else if (field == v1::Holding::kLastTimeUnixMicrosFieldNumber) {
          last_time = number;
        } else {
          known = false;
        }
      },
      [&](uint32_t field, uint64_t bits) {
        if (field == v1::Holding::kQuantityFieldNumber) {
          quantity_bits = bits;
        } else {
          known = false;
        }
      },
      [&](uint32_t field, std::string_view text) {
        if (field == v1::Holding::kObjectIdFieldNumber) {
          object_id = text;
        } else if (field == v1::Holding::kPartyFieldNumber) {
          party = text;
        } else if (field == v1::Holding::kUomFieldNumber) {
          uom = text;
        } else if (field == v1::Holding::kLocationFieldNumber) {
          location = text;
        } else {
          known = false;
        }
      },
      [&](uint32_t, uint32_t) { known = false; });
  if (!well_formed || !known) return false;
  holding->mutable_object_id()->assign(object_id.data(), object_id.size());
  holding->mutable_party()->assign(party.data(), party.size());
  holding->set_quantity(wire::DoubleOfBits(quantity_bits));
  holding->mutable_uom()->assign(uom.data(), uom.size());
  holding->mutable_location()->assign(location.data(), location.size());
  holding->set_last_sequence(last_sequence);
  holding->set_last_time_unix_micros(static_cast<int64_t>(last_time));
  return true;
}

Status ApplyHoldings(const AppliedEntry& entry, const std::vector<MovedObject>& moved,
                     ViewRows& rows, v1::Holding* scratch) {
  if (entry.facts == nullptr) return Status::Ok();
  const EventFacts& facts = *entry.facts;
  // A recall removal counts for the holder it names (a regulator may record it for them).
  std::string_view party = facts.party;
  if (entry.event->has_recall_removal() && !entry.event->recall_removal().holder_id().empty()) {
    party = entry.event->recall_removal().holder_id();
  }
  if (party.empty()) return Status::Ok();
  // Ordered by object id, so rows are written in one order whatever the event's order. The
  // ids are the entry's and the moved objects', which outlive the call.
  std::map<std::string_view, Change> changes;
  auto add = [&](std::string_view object, double quantity, std::string_view uom) {
    if (object.empty()) return;
    Change& change = changes[object];
    change.quantity += quantity;
    change.uom = uom;
  };
  auto add_all = [&](const std::vector<ObjectQuantity>& list, double sign) {
    for (const ObjectQuantity& q : list) add(q.object_id, sign * q.quantity, q.uom);
  };
  switch (facts.movement) {
    case Movement::kCommission:
      add_all(facts.objects, +1);
      break;
    case Movement::kTransform:
      add_all(facts.inputs, -1);
      add_all(facts.outputs, +1);
      break;
    case Movement::kRemoval:
      add_all(facts.objects, -1);
      break;
    case Movement::kShip:
    case Movement::kReceive:
    case Movement::kSell:
    case Movement::kDestroy: {
      const double sign = facts.movement == Movement::kReceive ? +1 : -1;
      add_all(facts.objects, sign);
      // The contents of listed containers, as the genealogy found them at this entry.
      for (const MovedObject& inside : moved) {
        add(inside.object_id, sign * inside.quantity, inside.uom);
      }
      break;
    }
    default:
      return Status::Ok();
  }
  std::string bytes;
  for (const auto& [object, change] : changes) {
    TL_RETURN_IF_ERROR(
        Update(rows, object, party, facts, entry.sequence, change, scratch, &bytes));
  }
  return Status::Ok();
}

Result<std::vector<v1::Holding>> HoldingsOf(const ViewReader& genealogy,
                                            std::string_view object_id) {
  std::vector<v1::Holding> out;
  Status decoded;
  const std::string prefix = HoldersPrefix(object_id);
  TL_RETURN_IF_ERROR(genealogy.Scan(prefix, [&](std::string_view key, std::string_view value) {
    // A holder row's key is an out-edge key whose `to` is the party.
    const std::optional<OutEdgeKeyParts> parts = ParseOutEdgeKey(key);
    if (!parts.has_value() || !IsHolderRow(*parts)) {
      decoded = Status::DataLoss("holder row key of " + std::string(object_id) +
                                 " is malformed");
      return false;
    }
    decoded = ParseHolding(value, object_id, parts->to, &out.emplace_back());
    return decoded.ok() && out.size() < kMaxHoldingsPerQuery;
  }));
  TL_RETURN_IF_ERROR(decoded);
  return out;
}

Result<std::vector<v1::Holding>> HoldingsAt(const ViewReader& genealogy, std::string_view party) {
  // The by-party rows name the objects; each holding is the holder row, read through the same
  // iterator (as of one moment, as a scan of full rows was).
  const std::string prefix = Key("p").Str(party).str();
  ViewScanner scanner(genealogy);
  std::vector<std::string> objects;
  bool well_formed = true;
  TL_RETURN_IF_ERROR(scanner.Scan(prefix, [&](std::string_view key, std::string_view) {
    std::string_view object = key.substr(prefix.size());
    well_formed = !object.empty() && object.back() == '\0';
    if (!well_formed) return false;
    object.remove_suffix(1);
    objects.emplace_back(object);
    return objects.size() < kMaxHoldingsPerQuery;
  }));
  if (!well_formed) return Status::DataLoss("holdings by-party key is malformed");
  std::vector<v1::Holding> out;
  out.reserve(objects.size());
  for (const std::string& object : objects) {
    const std::string key = HolderKey(object, party);
    bool found = false;
    Status decoded;
    TL_RETURN_IF_ERROR(scanner.Scan(key, [&](std::string_view row_key, std::string_view value) {
      found = row_key.size() == key.size();
      if (found) decoded = ParseHolding(value, object, party, &out.emplace_back());
      return false;
    }));
    TL_RETURN_IF_ERROR(decoded);
    if (!found) {
      return Status::DataLoss("holdings of " + object + " at " + std::string(party) +
                              ": by-party row without its holder row");
    }
  }
  return out;
}

}  // namespace traceledger::projections
