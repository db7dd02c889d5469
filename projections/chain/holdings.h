// File: projections/chain/holdings.h
//
// Holdings: for each (object, party), the quantity the party holds now, folded from events as
// docs/formats/supply-chain-model.md says: commissioning +q, receiving +q, shipping -q, selling
// / dispensing -q, destroying / decommissioning -q, transformation inputs -q and outputs +q,
// recall removals -q. A custody move of a container (ship, receive, sell, destroy) moves
// everything inside it then too. Balances may go negative and are kept: that reveals a missing
// receipt. A balance that returns to zero is removed.
//
// The genealogy projection keeps them, in its view, at the end of each object's out-edges, so
// that a forward trace reads an object's holders with its edges, in one seek (a seek per object
// into a view of their own was a third of a large forward trace). Rows (README.md):
//
//   o | object | time max | sequence max | "holds" | party  -> Holding without object_id and
//                                                             party, which the key says (who
//                                                             holds an object: HoldingsOf;
//                                                             after every out-edge)
//   p | party | object                                     -> ""      (what a party holds:
//                                                             HoldingsAt; key only)
//
// Quantities are added as they come, without unit conversion; `uom` is the last one seen.
//
// Thread-safety: ApplyHoldings is called by the genealogy projection's thread; the queries are
// thread-safe.
#ifndef TRACELEDGER_PROJECTIONS_CHAIN_HOLDINGS_H_
#define TRACELEDGER_PROJECTIONS_CHAIN_HOLDINGS_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/base/status.h"
#include "projections/chain/genealogy.h"
#include "projections/projection.h"
#include "tl/v1/view_chain.pb.h"

namespace traceledger::projections {

// |quantity| below this is zero (quantities are doubles: 0.1 + 0.2 - 0.3 is not 0).
inline constexpr double kZeroQuantity = 1e-9;

// At most this many rows are returned by one query.
inline constexpr size_t kMaxHoldingsPerQuery = 100000;

// The key of the holder row of (`object`, `party`), and the prefix of all of `object`'s.
std::string HolderKey(std::string_view object, std::string_view party);
std::string HoldersPrefix(std::string_view object);

// The codec of holder rows, by hand: EncodeHolding gives the bytes DeterministicBytes(holding)
// would, DecodeHolding reads them back, every field set (a Holding read into again and again
// keeps its memory). Why: protobuf's parsing and serializing of these rows, read and written
// for every object an event moves, was ~3 % of a catch-up's instructions (UTF-8 checks of
// four strings each way; docs/BENCHMARKS.md, "session 18"). DecodeHolding returns false for
// bytes it did not write (an unknown field); then parse them with protobuf. A holder row is
// encoded without object_id and party (ApplyHoldings leaves them empty; the queries below
// fill them in from the key): they were half of its ~125 bytes, rewritten whenever the
// holding changes.
void EncodeHolding(const v1::Holding& holding, std::string* out);
bool DecodeHolding(std::string_view bytes, v1::Holding* holding);

// An object a custody event moved inside a container it listed (the genealogy's custody
// expansion), and its quantity there. The views point into rows the genealogy read for the
// entry. Why not a CustodyExpansion message, as before: copying every moved object's id and
// unit into it, into a set and into the holdings' map cost 1.7 % of the instructions of
// applying a batch (docs/BENCHMARKS.md, "session 22").
struct MovedObject {
  std::string_view object_id;
  double quantity = 0;
  std::string_view uom;
};

// Folds `entry` into the holdings in `rows` (the genealogy view's). `moved` is what a custody
// event moved inside the containers it listed. Holder rows are read into `scratch`, the
// caller's to keep from one entry to the next so that its memory is reused
// (ViewReader::ReadMessage).
Status ApplyHoldings(const AppliedEntry& entry, const std::vector<MovedObject>& moved,
                     ViewRows& rows, v1::Holding* scratch);

// Every party holding a non-zero quantity of `object_id` now, by party id. Returns DataLoss if
// a row does not decode, or a storage error.
Result<std::vector<v1::Holding>> HoldingsOf(const ViewReader& genealogy,
                                            std::string_view object_id);

// Everything `party` holds now (non-zero, negative included), by object id.
Result<std::vector<v1::Holding>> HoldingsAt(const ViewReader& genealogy, std::string_view party);

}  // namespace traceledger::projections

#endif  // TRACELEDGER_PROJECTIONS_CHAIN_HOLDINGS_H_
