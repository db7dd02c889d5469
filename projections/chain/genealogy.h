// File: projections/chain/genealogy.h
//
// The genealogy view ("genealogy"): the supply-chain graph the trace follows, with edges read
// from events exactly as docs/formats/supply-chain-model.md says:
//
//   transform     input -> output              TransformationEvent (quantity: the input's)
//   contains      child -> parent              AggregationEvent ADD, ended by DELETE
//   contained_by  parent -> child              (the same containment, the other way)
//   shipped       object -> receiving party    ObjectEvent shipping (party: the sender)
//   received      object -> receiver           ObjectEvent receiving (counterparty: the source)
//   sold          object -> consumer@<seller>  retail_selling / dispensing
//   destroyed     object -> destroying party   destroying / decommissioning
//
// A custody edge of a container is also recorded for everything inside it at that moment
// (recursively), with `via` naming the container. Each edge is stored under its source and
// under its target, keyed so that a node's edges come out in time order (rows: README.md):
//
//   o | from | time | sequence | kind | to    -> GenealogyEdge    (out-edges, without what
//                                                                  the key says: ParseOutEdge)
//   i | to   | time | sequence | kind | from  -> the out-edge row's value (in-edges of
//                                                transform edges)
//   c | parent | child                         -> ContainedChild   (current contents)
//
// The projection also keeps the holdings (holdings.h): an object's holder rows are keyed as
// out-edges of kind "holds" at the latest time (IsHolderRow), so they come after its edges
// and a forward walk reads them in the same scan.
//
// Containment edges are keyed by the time of the ADD; a DELETE rewrites the out-edge row with
// `removed` and the removal's time and sequence. A contains edge has no in-edge row: the
// container's contained_by row (same time, sequence and value) is it, turned around.
//
// Thread-safety: the projection is used by one runner thread; the queries are thread-safe.
#ifndef TRACELEDGER_PROJECTIONS_CHAIN_GENEALOGY_H_
#define TRACELEDGER_PROJECTIONS_CHAIN_GENEALOGY_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/base/status.h"
#include "projections/projection.h"
#include "tl/v1/view_chain.pb.h"

namespace traceledger::projections {

inline constexpr std::string_view kGenealogyView = "genealogy";

// Edge kinds.
inline constexpr std::string_view kEdgeTransform = "transform";
inline constexpr std::string_view kEdgeContains = "contains";
inline constexpr std::string_view kEdgeContainedBy = "contained_by";
inline constexpr std::string_view kEdgeShipped = "shipped";
inline constexpr std::string_view kEdgeReceived = "received";
inline constexpr std::string_view kEdgeSold = "sold";
inline constexpr std::string_view kEdgeDestroyed = "destroyed";

// The out-edge key parts of a holder row (holdings.h): no edge has this time and sequence.
inline constexpr std::string_view kHolderKind = "holds";
inline constexpr int64_t kHolderTime = std::numeric_limits<int64_t>::max();
inline constexpr uint64_t kHolderSequence = std::numeric_limits<uint64_t>::max();

// Containers inside containers are followed this deep, and at most this many objects are moved
// with one container (the rest is cut, deterministically, in key order).
inline constexpr int kMaxContainmentDepth = 8;
inline constexpr size_t kMaxContainedObjects = 50000;

// The node that stands for the consumers a party sold or dispensed to: "consumer@<party>".
std::string ConsumerNode(std::string_view seller);

// Key prefixes of a node's out-edges and in-edges; a row's key continues with Time(time) and
// U64(sequence).
std::string OutEdgePrefix(std::string_view from);
std::string InEdgePrefix(std::string_view to);

// An out-edge row's key taken apart: "o" from 0x00 | time | sequence | kind 0x00 | to 0x00.
// The views point into the key.
struct OutEdgeKeyParts {
  std::string_view from;
  int64_t time_unix_micros;
  uint64_t sequence;
  std::string_view kind;
  std::string_view to;
};
// nullopt if `key` is no well-formed out-edge key (empty from, kind or to included).
std::optional<OutEdgeKeyParts> ParseOutEdgeKey(std::string_view key);

// The contains edge (child -> container) that a contained_by out-edge row (container ->
// child) also stands for: same time, sequence and value, ends the other way round. Since
// version 8 it has no row of its own; InEdges and the backward trace read it this way.
inline OutEdgeKeyParts ContainsEdgeOf(const OutEdgeKeyParts& contained_by) {
  return OutEdgeKeyParts{contained_by.to, contained_by.time_unix_micros, contained_by.sequence,
                         kEdgeContains, contained_by.from};
}

// Whether an out-edge key is a holder row's (after every edge of its object; its value is a
// Holding, its `to` the party).
inline bool IsHolderRow(const OutEdgeKeyParts& key) {
  return key.time_unix_micros == kHolderTime && key.sequence == kHolderSequence &&
         key.kind == kHolderKind;
}

// Custody edges whose `to` is also a party of their event, which their row's value leaves out
// (genealogy version 9; ParseOutEdge and the trace put it back): a receipt's and a
// destruction's `party` (the receiver, the destroyer), and the `counterparty` of a shipment
// to a party (its receiver; a shipment to a place has none). Why: on the most numerous rows
// of the view, that party id was a fifth of the value.
inline bool IsToParty(std::string_view kind) {
  return kind == kEdgeReceived || kind == kEdgeDestroyed;
}
inline bool IsToCounterparty(std::string_view kind, v1::NodeKind to_kind) {
  return kind == kEdgeShipped && to_kind == v1::NODE_KIND_PARTY;
}

// An out-edge row as the edge it stands for: its value holds the fields its key does not say,
// and from, to, kind, time and sequence are set from the key. Returns DataLoss if the key is
// malformed or the value does not decode as traceledger.v1.GenealogyEdge.
Status ParseOutEdge(std::string_view key, std::string_view value, v1::GenealogyEdge* edge);

// The fields of an out-edge row's value a walk uses, read without building a GenealogyEdge:
// the strings point into the value (and, unlike a parse, are not checked for UTF-8: the view
// wrote them). Fields not listed here are skipped, as are unknown ones. `party` is empty for
// the kinds IsToParty (the key's `to` is it).
struct OutEdgeValueView {
  v1::NodeKind to_kind = v1::NODE_KIND_UNSPECIFIED;
  double quantity = 0;
  std::string_view uom;
  std::string_view party;
  std::string_view location;
  bool removed = false;
  int64_t removed_time_unix_micros = 0;
};
// False if `value` is not well-formed protobuf wire format. For the trace, which reads tens of
// thousands of rows: parsing each into a GenealogyEdge, strings copied, was 7 % of a large one.
bool ParseOutEdgeValue(std::string_view value, OutEdgeValueView* view);

// What a new edge's rows hold besides their keys: the GenealogyEdge without the fields the key
// says (from, to, kind, time, sequence) and before any removal.
struct NewEdgeValue {
  v1::NodeKind to_kind = v1::NODE_KIND_UNSPECIFIED;
  double quantity = 0;
  std::string uom;
  std::string_view party;  // the event's: they outlive the value where the view makes them
  std::string_view counterparty;
  std::string_view location;
  std::string via;
};
// Its bytes, by hand: what DeterministicBytes gives for a GenealogyEdge with these fields set and
// no other.
void EncodeNewEdgeValue(const NewEdgeValue& value, std::string* out);

// The fields of a holder row's value (a Holding) a walk uses, read the same way.
struct HolderValueView {
  double quantity = 0;
  std::string_view uom;
  std::string_view location;
};
// False if `value` is not well-formed protobuf wire format. Parsing each holder row into a
// Holding (strings copied and checked) was a sixth of the largest forward traces' CPU
// (docs/BENCHMARKS.md, "session 17").
bool ParseHolderValue(std::string_view value, HolderValueView* view);

// An in-edge row's key taken apart: "i" to 0x00 | time | sequence | kind 0x00 | from 0x00,
// as the parts of the edge it stands for (its value is the out-edge row's). nullopt if `key`
// is no well-formed in-edge key (empty to, kind or from included).
std::optional<OutEdgeKeyParts> ParseInEdgeKey(std::string_view key);

// The genealogy projection (name "genealogy", no dependencies), which keeps the holdings too.
std::unique_ptr<Projection> NewGenealogyProjection();

// Whether edges of `kind` have an in-edge row: transform edges only, the object-to-object
// edges a backward walk follows into a node besides containment (whose contained_by out-edge
// rows serve). Custody edges into a party (its receipts, sales, destructions) are found through
// the holdings and the out-edges of the objects. Why not every kind: the other in-edge rows
// were a third of the genealogy rows, and nothing read them; those of contains edges (5 % of
// the rows a build writes) repeated the container's contained_by rows (version 8).
bool HasInEdgeRow(std::string_view kind);

// Up to `limit` edges leaving `node` (every kind; not its holder rows) / entering `node`
// (transform and contains edges: the in-edge rows, and the contained_by rows of `node` as
// the contains edges they mirror), oldest first. Returns DataLoss if a row does not decode,
// or a storage error.
Result<std::vector<v1::GenealogyEdge>> OutEdges(const ViewReader& genealogy,
                                                std::string_view node, size_t limit);
Result<std::vector<v1::GenealogyEdge>> InEdges(const ViewReader& genealogy, std::string_view node,
                                               size_t limit);

// The children inside `parent` now (not recursive), in child id order.
Result<std::vector<v1::ContainedChild>> CurrentChildren(const ViewReader& genealogy,
                                                        std::string_view parent);

// An object inside a container as a custody move carries it: what its "c" row (a
// ContainedChild) says besides the packings.
struct ContainedObject {
  std::string child;
  double quantity = 0;
  std::string uom;
};

// The child, quantity and unit of a "c" row's value (a ContainedChild), read by hand without
// its packings into `*out` (every field set, so that one is read into again and again). Bytes
// it does not read (an unknown field, or not well-formed) are parsed with protobuf: DataLoss if
// they do not decode.
Status DecodeContainedObject(std::string_view bytes, ContainedObject* out);

// Everything inside `container` now, recursively (children, then their children, ...), at most
// kMaxContainmentDepth levels deep and kMaxContainedObjects objects, each once, breadth first,
// appended to `out`. `container` itself is never included. A deque, so that what a caller
// points into stays where it is as it grows. Its rows are read by hand, without their
// packings: parsing them into ContainedChild messages (their strings and packings) cost 1.5 %
// of the instructions of applying a batch (docs/BENCHMARKS.md, "session 22").
Status AppendContainedObjects(const ViewReader& genealogy, std::string_view container,
                              std::deque<ContainedObject>* out);

}  // namespace traceledger::projections

#endif  // TRACELEDGER_PROJECTIONS_CHAIN_GENEALOGY_H_
