#include "projections/chain/genealogy.h"

#include <algorithm>
#include <deque>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "projections/chain/holdings.h"
#include "projections/internal/wire.h"
#include "projections/keys.h"

namespace traceledger::projections {
namespace {

// One event never writes more edges than this (a TransformationEvent with n inputs and m
// outputs makes n*m): the edges it names after that many distinct ones are not written (the
// same ones for the same event, so a rebuild writes what the first build did).
constexpr size_t kMaxEdgesPerEvent = 100000;

std::string OutEdgeKey(std::string_view from, int64_t time, uint64_t sequence,
                       std::string_view kind, std::string_view to) {
  return Key("o", 1 + StrBytes(from) + 2 * kU64Bytes + StrBytes(kind) + StrBytes(to))
      .Str(from).Time(time).U64(sequence).Str(kind).Str(to).str();
}
std::string InEdgeKey(std::string_view to, int64_t time, uint64_t sequence, std::string_view kind,
                      std::string_view from) {
  return Key("i", 1 + StrBytes(to) + 2 * kU64Bytes + StrBytes(kind) + StrBytes(from))
      .Str(to).Time(time).U64(sequence).Str(kind).Str(from).str();
}
std::string ChildKey(std::string_view parent, std::string_view child) {
  return Key("c", 1 + StrBytes(parent) + StrBytes(child)).Str(parent).Str(child).str();
}
// The prefix of `parent`'s "c" rows (its current contents).
std::string ChildrenPrefix(std::string_view parent) {
  return Key("c", 1 + StrBytes(parent)).Str(parent).str();
}

// An edge row's key taken apart, as the parts of the edge: 'o' | from 0x00 | time (8) |
// sequence (8) | kind 0x00 | to 0x00 (an out-edge row), or 'i' and the ends the other way round
// (an in-edge row). nullopt if the key is malformed or a string in it is empty.
std::optional<OutEdgeKeyParts> SplitEdgeKey(std::string_view key, char tag) {
  const size_t node_end = FirstComponentPrefixLength(key);
  // At least one byte each of node, kind and other, with their 0x00s.
  if (key.empty() || key[0] != tag || node_end < 3 || key.size() < node_end + 16 + 4) {
    return std::nullopt;
  }
  const std::string_view rest = key.substr(node_end + 16);
  const size_t kind_end = rest.find('\0');
  if (kind_end == 0 || kind_end == std::string_view::npos) return std::nullopt;
  std::string_view other = rest.substr(kind_end + 1);
  if (other.size() < 2 || other.back() != '\0') return std::nullopt;
  other.remove_suffix(1);
  if (other.find('\0') != std::string_view::npos) return std::nullopt;
  const std::string_view node = key.substr(1, node_end - 2);
  return OutEdgeKeyParts{tag == 'o' ? node : other, DecodeTime(key.substr(node_end, 8)),
                         DecodeFixed64BigEndian(key.substr(node_end + 8, 8)),
                         rest.substr(0, kind_end), tag == 'o' ? other : node};
}

// An out-edge row's value: the edge without the fields its key says (from, to, kind, time,
// sequence), which ParseOutEdge puts back. They were over half of the value's bytes.
std::string OutEdgeValue(v1::GenealogyEdge edge) {
  edge.clear_from();
  edge.clear_to();
  edge.clear_kind();
  edge.clear_time_unix_micros();
  edge.clear_sequence();
  return DeterministicBytes(edge);
}

// The edges one event makes, one per (from, kind, to): a lot named twice in a list adds up.
// They are kept as their keys and what their rows hold besides (NewEdgeValue), not as
// GenealogyEdge messages: building, copying and serializing those was a tenth of this view's
// instructions (docs/BENCHMARKS.md, "session 18").
class EventEdges {
 public:
  // An edge of the entry `sequence` from `facts` (its party and location; EventFacts outlives
  // the edges); `counterparty` and `via` for custody moves.
  void Add(const EventFacts& facts, uint64_t sequence, std::string_view kind,
           std::string_view from, std::string_view to, v1::NodeKind to_kind, double quantity,
           std::string_view uom, std::string_view counterparty = {}, std::string_view via = {}) {
    std::string key = OutEdgeKey(from, facts.time_micros, sequence, kind, to);
    auto it = edges_.find(key);
    if (it != edges_.end()) {
      it->second.value.quantity += quantity;
      return;
    }
    if (edges_.size() >= kMaxEdgesPerEvent) return;
    Edge& edge = edges_[std::move(key)];
    edge.value.to_kind = to_kind;
    edge.value.quantity = quantity;
    edge.value.uom = uom;
    edge.value.party = facts.party;
    edge.value.counterparty = counterparty;
    edge.value.location = facts.location;
    edge.value.via = via;
    // What the key's `to` says is not stored again (EdgeOfRow and the trace put it back).
    if (IsToParty(kind)) edge.value.party = {};
    if (IsToCounterparty(kind, to_kind)) edge.value.counterparty = {};
    if (HasInEdgeRow(kind)) edge.in_key = InEdgeKey(to, facts.time_micros, sequence, kind, from);
  }
  // The out-edge row and, for the kinds a walk follows backward (HasInEdgeRow), the in-edge
  // row with the same value, so that a walk into the node needs no second read. Once.
  void Write(ViewRows& rows) {
    std::string value;
    for (const auto& [key, edge] : edges_) {
      EncodeNewEdgeValue(edge.value, &value);
      if (!edge.in_key.empty()) rows.Put(edge.in_key, value);
      rows.Put(key, value);
    }
    edges_.clear();
  }

 private:
  struct Edge {
    NewEdgeValue value;
    std::string in_key;  // "" if the kind has no in-edge row
  };
  std::map<std::string, Edge> edges_;  // by out-edge key
};

// Objects of a list with the same id merged (quantities added), in first-seen order.
std::vector<ObjectQuantity> Merged(const std::vector<ObjectQuantity>& list,
                                   std::string_view skip_id) {
  std::vector<ObjectQuantity> out;
  std::map<std::string, size_t, std::less<>> index;
  for (const ObjectQuantity& q : list) {
    if (q.object_id.empty() || q.object_id == skip_id) continue;
    auto [it, inserted] = index.try_emplace(q.object_id, out.size());
    if (inserted) {
      out.push_back(q);
    } else {
      out[it->second].quantity += q.quantity;
    }
  }
  return out;
}

Status ParseRow(std::string_view bytes, google::protobuf::Message* message) {
  if (!message->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Status::DataLoss("genealogy row does not decode as " +
                            message->GetDescriptor()->full_name());
  }
  return Status::Ok();
}

// The edge an edge row stands for: `parts` from its key, the rest from its value.
Status EdgeOfRow(const OutEdgeKeyParts& parts, std::string_view value, v1::GenealogyEdge* edge) {
  TL_RETURN_IF_ERROR(ParseRow(value, edge));
  edge->set_from(std::string(parts.from));
  edge->set_to(std::string(parts.to));
  if (IsToParty(parts.kind)) edge->set_party(std::string(parts.to));
  if (IsToCounterparty(parts.kind, edge->to_kind())) edge->set_counterparty(std::string(parts.to));
  edge->set_kind(std::string(parts.kind));
  edge->set_time_unix_micros(parts.time_unix_micros);
  edge->set_sequence(parts.sequence);
  return Status::Ok();
}

}  // namespace

Status DecodeContainedObject(std::string_view bytes, ContainedObject* content) {
  using C = v1::ContainedChild;
  content->child.clear();
  content->quantity = 0;
  content->uom.clear();
  bool known = true;
  const bool well_formed = wire::ForEachField(
      bytes, [&](uint32_t, uint64_t) { known = false; },
      [&](uint32_t field, uint64_t bits) {
        if (field == C::kQuantityFieldNumber) {
          content->quantity = wire::DoubleOfBits(bits);
        } else {
          known = false;
        }
      },
      [&](uint32_t field, std::string_view text) {
        if (field == C::kChildFieldNumber) {
          content->child.assign(text.data(), text.size());
        } else if (field == C::kUomFieldNumber) {
          content->uom.assign(text.data(), text.size());
        } else if (field != C::kPackingsFieldNumber) {
          known = false;
        }
      });
  if (well_formed && known) return Status::Ok();
  C row;
  TL_RETURN_IF_ERROR(ParseRow(bytes, &row));
  content->child = row.child();
  content->quantity = row.quantity();
  content->uom = row.uom();
  return Status::Ok();
}

namespace {

class GenealogyProjection final : public Projection {
 public:
  std::string_view name() const override { return kGenealogyView; }
  // 2: in-edge rows are key only. 3: in-edge rows of transform and contains edges only.
  // 4: out-edge values without what their key says (OutEdgeValue). 5: the holdings, in the
  // place of the custody expansions ("x" rows) the holdings view read. 6: in-edge rows with
  // the out-edge row's value. 7: holder rows without the object and party their key says.
  // 8: no in-edge rows of contains edges (the container's contained_by rows say the same).
  // 9: custody edge values without the party or counterparty that is their `to`.
  uint32_t version() const override { return 9; }

  Status Apply(const AppliedEntry& entry, ViewRows& rows) override {
    if (entry.facts == nullptr) return Status::Ok();  // undecodable: nothing to link
    const EventFacts& facts = *entry.facts;
    v1::Action aggregation = v1::ACTION_UNSPECIFIED;
    if (entry.event->has_aggregation_event()) {
      aggregation = entry.event->aggregation_event().action();
    }
    const bool packs = aggregation == v1::ACTION_ADD && !facts.parent.empty();
    const bool unpacks = aggregation == v1::ACTION_DELETE && !facts.parent.empty();

    EventEdges edges;
    // What a custody move moved inside the containers it listed, pointing into `contents`.
    std::deque<ContainedObject> contents;
    std::vector<MovedObject> moved;
    // Packing comes before a custody move in the same event (a pallet packed and shipped in one
    // AggregationEvent ADD ships its new contents); unpacking comes after (a pallet received
    // and unpacked in one DELETE was received with its contents).
    if (packs) TL_RETURN_IF_ERROR(Pack(facts, entry.sequence, rows, edges));
    switch (facts.movement) {
      case Movement::kShip:
      case Movement::kReceive:
      case Movement::kSell:
      case Movement::kDestroy: {
        TL_ASSIGN_OR_RETURN(moved, Custody(facts, entry.sequence, rows, edges, &contents));
        break;
      }
      case Movement::kTransform:
        for (const ObjectQuantity& input : Merged(facts.inputs, "")) {
          for (const ObjectQuantity& output : Merged(facts.outputs, "")) {
            if (input.object_id == output.object_id) continue;  // no self loops
            edges.Add(facts, entry.sequence, kEdgeTransform, input.object_id,
                      output.object_id, v1::NODE_KIND_OBJECT, input.quantity, input.uom);
          }
        }
        break;
      default:
        break;
    }
    edges.Write(rows);
    if (unpacks) TL_RETURN_IF_ERROR(Unpack(facts, entry.sequence, rows));
    return ApplyHoldings(entry, moved, rows, &holding_);
  }

 private:
  v1::Holding holding_;  // ApplyHoldings' scratch, kept for its memory

  static Status Pack(const EventFacts& facts, uint64_t sequence, ViewRows& rows,
                     EventEdges& edges) {
    for (const ObjectQuantity& child : Merged(facts.objects, facts.parent)) {
      edges.Add(facts, sequence, kEdgeContains, child.object_id, facts.parent,
                v1::NODE_KIND_OBJECT, child.quantity, child.uom);
      edges.Add(facts, sequence, kEdgeContainedBy, facts.parent, child.object_id,
                v1::NODE_KIND_OBJECT, child.quantity, child.uom);
      const std::string key = ChildKey(facts.parent, child.object_id);
      TL_ASSIGN_OR_RETURN(std::optional<v1::ContainedChild> row,
                          rows.GetMessage<v1::ContainedChild>(key));
      if (!row.has_value()) {
        row.emplace();
        row->set_child(child.object_id);
        row->set_uom(child.uom);
      }
      // Packed again while still inside (no DELETE between): both packings stay open.
      row->set_quantity(row->quantity() + child.quantity);
      v1::ContainedChild::Packing* packing = row->add_packings();
      packing->set_time_unix_micros(facts.time_micros);
      packing->set_sequence(sequence);
      rows.PutMessage(key, *row);
    }
    return Status::Ok();
  }

  // Ends the containment of the listed children (all of them if none is listed): the edges of
  // every open packing get the removal, and the "c" row goes.
  static Status Unpack(const EventFacts& facts, uint64_t sequence, ViewRows& rows) {
    std::vector<v1::ContainedChild> children;
    const std::vector<ObjectQuantity> listed = Merged(facts.objects, facts.parent);
    if (listed.empty()) {
      TL_ASSIGN_OR_RETURN(children, CurrentChildren(rows, facts.parent));
    } else {
      for (const ObjectQuantity& child : listed) {
        TL_ASSIGN_OR_RETURN(std::optional<v1::ContainedChild> row,
                            rows.GetMessage<v1::ContainedChild>(ChildKey(facts.parent,
                                                                         child.object_id)));
        if (row.has_value()) children.push_back(std::move(*row));
      }
    }
    for (const v1::ContainedChild& child : children) {
      for (const v1::ContainedChild::Packing& packing : child.packings()) {
        for (const auto& [kind, from, to] :
             {std::tuple{kEdgeContains, std::string_view(child.child()),
                         std::string_view(facts.parent)},
              std::tuple{kEdgeContainedBy, std::string_view(facts.parent),
                         std::string_view(child.child())}}) {
          const std::string out_key =
              OutEdgeKey(from, packing.time_unix_micros(), packing.sequence(), kind, to);
          TL_ASSIGN_OR_RETURN(std::optional<std::string> value, rows.Get(out_key));
          if (!value.has_value()) continue;  // cut by kMaxEdgesPerEvent when it was packed
          v1::GenealogyEdge edge;
          TL_RETURN_IF_ERROR(ParseRow(*value, &edge));
          edge.set_removed(true);
          edge.set_removed_time_unix_micros(facts.time_micros);
          edge.set_removed_sequence(sequence);
          std::string removed = OutEdgeValue(std::move(edge));
          if (HasInEdgeRow(kind)) {
            rows.Put(InEdgeKey(to, packing.time_unix_micros(), packing.sequence(), kind, from),
                     removed);
          }
          rows.Put(out_key, std::move(removed));
        }
      }
      rows.Delete(ChildKey(facts.parent, child.child()));
    }
    return Status::Ok();
  }

  // Custody edges of the listed objects and of everything inside them now; returns the
  // contents moved with them (for the holdings), which point into `*contents`: the containment
  // rows read, which the caller keeps until then.
  static Result<std::vector<MovedObject>> Custody(const EventFacts& facts, uint64_t sequence,
                                                  ViewRows& rows, EventEdges& edges,
                                                  std::deque<ContainedObject>* contents) {
    std::string_view kind;
    std::string to;
    v1::NodeKind to_kind = v1::NODE_KIND_PARTY;
    switch (facts.movement) {
      case Movement::kShip:
        kind = kEdgeShipped;
        to = facts.counterparty;
        if (to.empty()) {  // no owning_party destination: the place is all we know
          to = facts.location;
          to_kind = v1::NODE_KIND_LOCATION;
        }
        break;
      case Movement::kReceive:
        kind = kEdgeReceived;
        to = facts.party;
        break;
      case Movement::kSell:
        kind = kEdgeSold;
        to = ConsumerNode(facts.party);
        break;
      default:
        kind = kEdgeDestroyed;
        to = facts.party;
        break;
    }
    const bool has_target = !to.empty();
    auto add = [&](std::string_view object, double quantity, std::string_view uom,
                   std::string_view via) {
      if (!has_target) return;
      edges.Add(facts, sequence, kind, object, to, to_kind, quantity, uom, facts.counterparty,
                via);
    };
    const std::vector<ObjectQuantity> listed = Merged(facts.objects, "");
    // Every listed object's contents first (this only reads), then the edges in the listed
    // order: the views into `contents` are taken once it no longer grows.
    std::vector<size_t> ends;  // listed[i]'s contents end at (*contents)[ends[i]]
    ends.reserve(listed.size());
    for (const ObjectQuantity& object : listed) {
      TL_RETURN_IF_ERROR(AppendContainedObjects(rows, object.object_id, contents));
      ends.push_back(contents->size());
    }
    std::set<std::string_view> seen;  // listed, or moved already (in two containers)
    for (const ObjectQuantity& object : listed) seen.insert(object.object_id);
    std::vector<MovedObject> moved;
    size_t begin = 0;
    for (size_t i = 0; i < listed.size(); ++i) {
      add(listed[i].object_id, listed[i].quantity, listed[i].uom, "");
      for (size_t c = begin; c < ends[i]; ++c) {
        const ContainedObject& inside = (*contents)[c];
        if (!seen.insert(inside.child).second) continue;
        add(inside.child, inside.quantity, inside.uom, listed[i].object_id);
        moved.push_back(MovedObject{inside.child, inside.quantity, inside.uom});
      }
      begin = ends[i];
    }
    return moved;
  }
};

// Which of a node's out-edge rows OutEdgeRows gives: all, or only its contained_by rows, as the
// contains edges into it they stand for (ContainsEdgeOf).
enum class EdgeRows { kAll, kContentsAsContains };

Result<std::vector<v1::GenealogyEdge>> OutEdgeRows(const ViewReader& genealogy,
                                                   const std::string& prefix, size_t limit,
                                                   EdgeRows which = EdgeRows::kAll) {
  std::vector<v1::GenealogyEdge> out;
  Status parsed;
  if (limit == 0) return out;
  TL_RETURN_IF_ERROR(genealogy.Scan(prefix, [&](std::string_view key, std::string_view value) {
    const std::optional<OutEdgeKeyParts> parts = ParseOutEdgeKey(key);
    if (!parts.has_value()) {
      parsed = Status::DataLoss("genealogy out-edge key is malformed");
      return false;
    }
    if (IsHolderRow(*parts)) return false;  // the holder rows come after every edge
    if (which == EdgeRows::kContentsAsContains) {
      if (parts->kind != kEdgeContainedBy) return true;
      parsed = EdgeOfRow(ContainsEdgeOf(*parts), value, &out.emplace_back());
    } else {
      parsed = EdgeOfRow(*parts, value, &out.emplace_back());
    }
    return parsed.ok() && out.size() < limit;
  }));
  TL_RETURN_IF_ERROR(parsed);
  return out;
}

// In-edges: each row's key says the edge's ends, kind, time and sequence; its value is the
// out-edge row's.
Result<std::vector<v1::GenealogyEdge>> InEdgeRows(const ViewReader& genealogy,
                                                  const std::string& prefix, size_t limit) {
  std::vector<v1::GenealogyEdge> out;
  if (limit == 0) return out;
  Status parsed;
  TL_RETURN_IF_ERROR(genealogy.Scan(prefix, [&](std::string_view key, std::string_view value) {
    const std::optional<OutEdgeKeyParts> parts = ParseInEdgeKey(key);
    if (!parts.has_value()) {
      parsed = Status::DataLoss("genealogy in-edge key is malformed");
      return false;
    }
    parsed = EdgeOfRow(*parts, value, &out.emplace_back());
    return parsed.ok() && out.size() < limit;
  }));
  TL_RETURN_IF_ERROR(parsed);
  return out;
}

}  // namespace

bool HasInEdgeRow(std::string_view kind) { return kind == kEdgeTransform; }

std::string ConsumerNode(std::string_view seller) {
  std::string node = "consumer@";
  node.append(seller);
  return node;
}

std::string OutEdgePrefix(std::string_view from) { return Key("o").Str(from).str(); }

std::optional<OutEdgeKeyParts> ParseOutEdgeKey(std::string_view key) {
  return SplitEdgeKey(key, 'o');
}


bool ParseOutEdgeValue(std::string_view value, OutEdgeValueView* view) {
  *view = OutEdgeValueView();
  return wire::ForEachField(
      value,
      [&](uint32_t field, uint64_t number) {
        if (field == v1::GenealogyEdge::kToKindFieldNumber) {
          view->to_kind = static_cast<v1::NodeKind>(static_cast<int32_t>(number));
        } else if (field == v1::GenealogyEdge::kRemovedFieldNumber) {
          view->removed = number != 0;
        } else if (field == v1::GenealogyEdge::kRemovedTimeUnixMicrosFieldNumber) {
          view->removed_time_unix_micros = static_cast<int64_t>(number);
        }
      },
      [&](uint32_t field, uint64_t bits) {
        if (field == v1::GenealogyEdge::kQuantityFieldNumber) {
          view->quantity = wire::DoubleOfBits(bits);
        }
      },
      [&](uint32_t field, std::string_view bytes) {
        if (field == v1::GenealogyEdge::kUomFieldNumber) {
          view->uom = bytes;
        } else if (field == v1::GenealogyEdge::kPartyFieldNumber) {
          view->party = bytes;
        } else if (field == v1::GenealogyEdge::kLocationFieldNumber) {
          view->location = bytes;
        }
      });
}

bool ParseHolderValue(std::string_view value, HolderValueView* view) {
  *view = HolderValueView();
  return wire::ForEachField(
      value, [](uint32_t, uint64_t) {},
      [&](uint32_t field, uint64_t bits) {
        if (field == v1::Holding::kQuantityFieldNumber) view->quantity = wire::DoubleOfBits(bits);
      },
      [&](uint32_t field, std::string_view bytes) {
        if (field == v1::Holding::kUomFieldNumber) {
          view->uom = bytes;
        } else if (field == v1::Holding::kLocationFieldNumber) {
          view->location = bytes;
        }
      });
}

void EncodeNewEdgeValue(const NewEdgeValue& value, std::string* out) {
  using E = v1::GenealogyEdge;
  const auto to_kind = static_cast<uint64_t>(static_cast<int64_t>(value.to_kind));
  out->resize(wire::VarintFieldSize(E::kToKindFieldNumber, to_kind) +
              wire::DoubleFieldSize(E::kQuantityFieldNumber, value.quantity) +
              wire::BytesFieldSize(E::kUomFieldNumber, value.uom) +
              wire::BytesFieldSize(E::kPartyFieldNumber, value.party) +
              wire::BytesFieldSize(E::kCounterpartyFieldNumber, value.counterparty) +
              wire::BytesFieldSize(E::kLocationFieldNumber, value.location) +
              wire::BytesFieldSize(E::kViaFieldNumber, value.via));
  char* p = out->data();
  p = wire::WriteVarintField(E::kToKindFieldNumber, to_kind, p);
  p = wire::WriteDoubleField(E::kQuantityFieldNumber, value.quantity, p);
  p = wire::WriteBytesField(E::kUomFieldNumber, value.uom, p);
  p = wire::WriteBytesField(E::kPartyFieldNumber, value.party, p);
  p = wire::WriteBytesField(E::kCounterpartyFieldNumber, value.counterparty, p);
  p = wire::WriteBytesField(E::kLocationFieldNumber, value.location, p);
  p = wire::WriteBytesField(E::kViaFieldNumber, value.via, p);
  TL_ASSERT(p == out->data() + out->size());
}

Status ParseOutEdge(std::string_view key, std::string_view value, v1::GenealogyEdge* edge) {
  const std::optional<OutEdgeKeyParts> parts = ParseOutEdgeKey(key);
  if (!parts.has_value()) return Status::DataLoss("genealogy out-edge key is malformed");
  return EdgeOfRow(*parts, value, edge);
}

std::string InEdgePrefix(std::string_view to) { return Key("i").Str(to).str(); }

std::optional<OutEdgeKeyParts> ParseInEdgeKey(std::string_view key) {
  return SplitEdgeKey(key, 'i');
}

std::unique_ptr<Projection> NewGenealogyProjection() {
  return std::make_unique<GenealogyProjection>();
}

Result<std::vector<v1::GenealogyEdge>> OutEdges(const ViewReader& genealogy,
                                                std::string_view node, size_t limit) {
  return OutEdgeRows(genealogy, OutEdgePrefix(node), limit);
}

Result<std::vector<v1::GenealogyEdge>> InEdges(const ViewReader& genealogy, std::string_view node,
                                               size_t limit) {
  TL_ASSIGN_OR_RETURN(std::vector<v1::GenealogyEdge> in,
                      InEdgeRows(genealogy, InEdgePrefix(node), limit));
  TL_ASSIGN_OR_RETURN(
      std::vector<v1::GenealogyEdge> contents,
      OutEdgeRows(genealogy, OutEdgePrefix(node), limit, EdgeRows::kContentsAsContains));
  // Both lists are in key order (time, sequence, kind, other end); merged, the same order the
  // in-edge rows of both kinds had.
  const auto order = [](const v1::GenealogyEdge& a, const v1::GenealogyEdge& b) {
    return std::make_tuple(a.time_unix_micros(), a.sequence(), std::string_view(a.kind()),
                           std::string_view(a.from())) <
           std::make_tuple(b.time_unix_micros(), b.sequence(), std::string_view(b.kind()),
                           std::string_view(b.from()));
  };
  std::vector<v1::GenealogyEdge> out;
  out.reserve(in.size() + contents.size());
  std::merge(std::make_move_iterator(in.begin()), std::make_move_iterator(in.end()),
             std::make_move_iterator(contents.begin()), std::make_move_iterator(contents.end()),
             std::back_inserter(out), order);
  if (out.size() > limit) out.resize(limit);
  return out;
}

Result<std::vector<v1::ContainedChild>> CurrentChildren(const ViewReader& genealogy,
                                                        std::string_view parent) {
  std::vector<v1::ContainedChild> out;
  Status parsed;
  TL_RETURN_IF_ERROR(
      genealogy.Scan(ChildrenPrefix(parent), [&](std::string_view, std::string_view value) {
        parsed = ParseRow(value, &out.emplace_back());
        return parsed.ok() && out.size() < kMaxContainedObjects;
      }));
  TL_RETURN_IF_ERROR(parsed);
  return out;
}

Status AppendContainedObjects(const ViewReader& genealogy, std::string_view container,
                              std::deque<ContainedObject>* out) {
  const size_t first = out->size();
  std::set<std::string_view> seen = {container};  // the container's id, and children in `out`
  std::vector<std::string_view> level = {container};
  ContainedObject row;
  Status decoded;
  for (int depth = 0; depth < kMaxContainmentDepth && !level.empty(); ++depth) {
    const size_t level_end = out->size();
    for (const std::string_view parent : level) {
      bool full = false;
      const std::string prefix = ChildrenPrefix(parent);
      TL_RETURN_IF_ERROR(genealogy.Scan(prefix, [&](std::string_view, std::string_view value) {
        if (out->size() - first >= kMaxContainedObjects) {
          full = true;
          return false;
        }
        decoded = DecodeContainedObject(value, &row);
        if (!decoded.ok()) return false;
        if (seen.count(row.child) != 0) return true;  // a cycle, or two parents
        out->push_back(std::move(row));
        seen.insert(out->back().child);
        return true;
      }));
      TL_RETURN_IF_ERROR(decoded);
      if (full) return Status::Ok();
    }
    // The next level's parents: the children this level added (the deque keeps them put).
    level.clear();
    for (size_t i = level_end; i < out->size(); ++i) level.push_back((*out)[i].child);
  }
  return Status::Ok();
}

}  // namespace traceledger::projections
