// File: projections/chain/trace.h
//
// Trace: where an object came from (backward) and where it went and who holds it now
// (forward), answered from the genealogy view and its holdings (no rows of its own). The walk is
// time-aware, as docs/formats/supply-chain-model.md says; the exact rules are in README.md:
//
//  - Forward, the root is reached at the earliest time (int64 min) and every node at the
//    earliest time contamination could get there: an edge is followed only if its time is at or
//    after the time its source was reached (containment: only if it had not ended by then; the
//    container is reached at the later of the packing and the child's time). Containers of
//    reached objects are followed up; contents are followed down only from the root (and
//    its contents, recursively), so a contaminated item does not spread to the other cases on
//    its pallet. Parties are leaves.
//  - Backward mirrors it: the root is asked about at the latest time (int64 max), and an edge
//    into a node is followed only if its time is at or before the time the node is asked about.
//    Contents of reached containers are followed (a case used as an input brings its contents'
//    sources); containers are not (a pallet is no source of what is on it). Custody edges
//    (shipped, received, sold, destroyed) out of reached objects up to that time name the
//    parties upstream.
//
// Nodes are settled in time order (forward: earliest first; backward: latest first), so when a
// limit cuts the walk the answer holds the nodes reached first, and `truncated` says so.
// Reads are prefix scans of one node's edges at a time; nothing scans a whole view. A large
// forward walk has a second thread read the rows of the nodes it has queued ahead of it
// (TraceLimits::prefetch_after_nodes), from the same snapshot; it visits them in its own order.
//
// Thread-safety: thread-safe (reads only). A large forward walk runs one thread of its own
// while it lasts (the read-ahead), and a large answer's edges are sorted on one, then listed
// by it and the caller (TraceLimits::edges_for_a_thread); both are joined before Trace
// returns.
#ifndef TRACELEDGER_PROJECTIONS_CHAIN_TRACE_H_
#define TRACELEDGER_PROJECTIONS_CHAIN_TRACE_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ledger/base/status.h"
#include "projections/projection.h"
#include "tl/v1/view_chain.pb.h"

namespace traceledger::projections {

enum class TraceDirection { kBackward, kForward, kBoth };

struct TraceLimits {
  // Hops from the root; nodes this far away are listed but not expanded.
  uint32_t max_depth = 32;
  // Nodes in the answer (parties included; kBoth counts both directions together).
  size_t max_nodes = 10000;
  // Edge rows read, a bound on the work for nodes with very many edges.
  size_t max_edges_scanned = 2000000;
  // Forward walks: from this many nodes expanded on, a second thread reads ahead the rows of
  // the nodes queued, so that large answers come back sooner (the answer is the same). Only
  // for a reader of the database alone (not a runner's, with pending rows). SIZE_MAX: never.
  size_t prefetch_after_nodes = 64;
  // Forward walks that read ahead: wait for the reading thread to read every node it was asked
  // for, instead of scanning those it has not started. Slower; for tests, where every
  // expansion then visits rows the other thread read (TraceStats::nodes_read_ahead).
  bool wait_for_read_ahead = false;
  // From this many edges followed on, the answer's edges are sorted on a thread of their own
  // while the calling one lists the nodes and holders, then listed by both (the answer is the
  // same). SIZE_MAX: never.
  size_t edges_for_a_thread = 4096;
};

// How a trace was read (for tests and benchmarks): Trace fills it in if `stats` is not null.
struct TraceStats {
  size_t nodes_read_ahead = 0;  // forward expansions that visited rows the read-ahead had read
  size_t nodes_expanded = 0;    // objects whose edges were read (either direction)
  size_t edges_scanned = 0;     // edge rows read (what max_edges_scanned bounds)
  size_t edges_followed = 0;    // of those, followed to a node
  // Where the time went, in microseconds of wall time: the walks (with the holder rows they
  // left); then building the answer from them, of which the calling thread's listing of the
  // nodes and holders (the edges are listed beside it when there are many,
  // TraceLimits::edges_for_a_thread).
  double walk_micros = 0;
  double answer_micros = 0;
  double nodes_and_holders_micros = 0;
};

// The trace of `root_id` over the genealogy view (edges, and for holders its holdings), as it
// is now. Nodes: the root first, then the backward nodes, then the forward nodes, each in the
// order reached. Edges: every edge followed between nodes of the answer, by (time, sequence,
// kind, from, to). Holders (forward and kBoth only): every party holding a positive quantity of
// an object of the forward set now, and every seller whose `sold` edges the walk followed
// (sold_to_consumers, quantities added up), by (sold_to_consumers, party, object).
// A root the views do not know is answered with the root alone. Returns InvalidArgument if
// root_id is empty or max_nodes is 0, DataLoss if a row does not decode, or a storage error.
Result<v1::TraceResult> Trace(const ViewReader& genealogy, std::string_view root_id,
                              TraceDirection direction, const TraceLimits& limits,
                              TraceStats* stats = nullptr);

// "backward", "forward", "both"; and back. ParseTraceDirection returns InvalidArgument for
// anything else.
std::string_view TraceDirectionName(TraceDirection direction);
Result<TraceDirection> ParseTraceDirection(std::string_view name);

}  // namespace traceledger::projections

#endif  // TRACELEDGER_PROJECTIONS_CHAIN_TRACE_H_
