// File: projections/chain/holdings.h
//
// The holdings view ("holdings"): for each (object, party), the quantity the party holds now,
// folded from events as docs/formats/supply-chain-model.md says: commissioning +q, receiving
// +q, shipping -q, selling / dispensing -q, destroying / decommissioning -q, transformation
// inputs -q and outputs +q, recall removals -q. A custody move of a container (ship, receive,
// sell, destroy) moves everything inside it then too (read from the genealogy view, which this
// view depends on). Balances may go negative and are kept: that reveals a missing receipt. A
// balance that returns to zero is removed. Rows (README.md):
//
//   o | object | party  -> Holding   (who holds an object: HoldingsOf)
//   p | party | object  -> ""        (what a party holds: HoldingsAt; key only, the holding
//                                      is the "o" row)
//
// Quantities are added as they come, without unit conversion; `uom` is the last one seen.
//
// Thread-safety: the projection is used by one runner thread; the queries are thread-safe.
#ifndef TRACELEDGER_PROJECTIONS_CHAIN_HOLDINGS_H_
#define TRACELEDGER_PROJECTIONS_CHAIN_HOLDINGS_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/base/status.h"
#include "projections/projection.h"
#include "tl/v1/view_chain.pb.h"

namespace traceledger::projections {

inline constexpr std::string_view kHoldingsView = "holdings";

// |quantity| below this is zero (quantities are doubles: 0.1 + 0.2 - 0.3 is not 0).
inline constexpr double kZeroQuantity = 1e-9;

// At most this many rows are returned by one query.
inline constexpr size_t kMaxHoldingsPerQuery = 100000;

// The holdings projection (name "holdings"; depends on "genealogy", which every runner that
// has holdings must also have).
std::unique_ptr<Projection> NewHoldingsProjection();

// Every party holding a non-zero quantity of `object_id` now, by party id. Returns DataLoss if
// a row does not decode, or a storage error.
Result<std::vector<v1::Holding>> HoldingsOf(const ViewReader& holdings, std::string_view object_id);

// The key prefix of the rows HoldingsOf(object_id) reads (for a ViewScanner).
std::string HoldingsByObjectPrefix(std::string_view object_id);

// Everything `party` holds now (non-zero, negative included), by object id.
Result<std::vector<v1::Holding>> HoldingsAt(const ViewReader& holdings, std::string_view party);

}  // namespace traceledger::projections

#endif  // TRACELEDGER_PROJECTIONS_CHAIN_HOLDINGS_H_
