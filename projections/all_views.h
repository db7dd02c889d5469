// File: projections/all_views.h
//
// AllViews(): every view the product maintains, in one list, for the runners in `traceledger`
// (serve, project) and the tests and benchmarks that must build the same set.
#ifndef TRACELEDGER_PROJECTIONS_ALL_VIEWS_H_
#define TRACELEDGER_PROJECTIONS_ALL_VIEWS_H_

#include <memory>
#include <vector>

#include "projections/projection.h"

namespace traceledger::projections {

// history, genealogy with the holdings (chain/), recalls (recalls/), serials, cylinders,
// enforcement (oversight/).
std::vector<std::unique_ptr<Projection>> AllViews();

}  // namespace traceledger::projections

#endif  // TRACELEDGER_PROJECTIONS_ALL_VIEWS_H_
