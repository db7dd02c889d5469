#include "projections/all_views.h"

#include "projections/chain/genealogy.h"
#include "projections/chain/history.h"
#include "projections/oversight/cylinders.h"
#include "projections/oversight/enforcement.h"
#include "projections/oversight/serials.h"
#include "projections/recalls/recalls.h"

namespace traceledger::projections {

std::vector<std::unique_ptr<Projection>> AllViews() {
  std::vector<std::unique_ptr<Projection>> views;
  views.push_back(NewHistoryProjection());
  views.push_back(NewGenealogyProjection());
  views.push_back(NewRecallsProjection());
  views.push_back(NewSerialsProjection());
  views.push_back(NewCylindersProjection());
  views.push_back(NewEnforcementProjection());
  return views;
}

}  // namespace traceledger::projections
