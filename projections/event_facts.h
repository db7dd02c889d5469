// File: projections/event_facts.h
//
// EventFacts: what an event says about the supply chain, read the one way every view reads it
// (docs/formats/supply-chain-model.md): who recorded it, where, when, which objects moved how,
// and every object it mentions. Pure functions; thread-safe.
#ifndef TRACELEDGER_PROJECTIONS_EVENT_FACTS_H_
#define TRACELEDGER_PROJECTIONS_EVENT_FACTS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tl/v1/events.pb.h"

namespace traceledger::projections {

// How an event moves custody or quantities.
enum class Movement {
  kNone,        // recorded only (observations, transactions, associations, regulator events)
  kCommission,  // objects created at the party
  kShip,        // objects leave the party towards `counterparty`
  kReceive,     // objects arrive at the party from `counterparty`
  kSell,        // objects leave the chain (retail sale, dispensing)
  kDestroy,     // objects destroyed or decommissioned
  kTransform,   // inputs consumed, outputs created
  kPack,        // children put into `parent`
  kUnpack,      // children taken out of `parent` (all of them if `objects` is empty)
  kRemoval,     // a recall removal by the party
};
std::string_view MovementName(Movement movement);

struct ObjectQuantity {
  std::string object_id;
  double quantity = 1;
  std::string uom = "EA";
};

struct EventFacts {
  std::string type;          // "ObjectEvent", "Inspection", ... (the body's message name)
  int64_t time_micros = 0;   // eventTime, or the regulator event's *_at time
  std::string party;         // the submitter
  std::string counterparty;  // ship: the owning_party destination; receive: the source
  std::string location;      // bizLocation id, or the regulator event's location
  std::string biz_step;      // CBV short name ("shipping"), "" if none
  Movement movement = Movement::kNone;
  std::vector<ObjectQuantity> objects;  // what moved (Object/Transaction events, children)
  std::vector<ObjectQuantity> inputs;   // transformation inputs
  std::vector<ObjectQuantity> outputs;  // transformation outputs
  std::string parent;                   // aggregation/association/transaction parent
  std::vector<std::string> mentioned;   // every object id the event names, deduplicated
};

EventFacts FactsOf(const v1::Event& event);

// True if `event`'s body is one of the five EPCIS event types (not a regulator's event).
bool IsEpcisEvent(const v1::Event& event);

// "urn:epcglobal:cbv:bizstep:shipping", "https://ref.gs1.org/cbv/BizStep-shipping" and
// "shipping" are all "shipping".
std::string CbvShortName(std::string_view value);

// The object id of a quantity element: the class, or "<class>#lot=<lot>" when the class does
// not carry the lot itself and the event's ILMD names one.
std::string LotObjectId(std::string_view epc_class, std::string_view ilmd_lot);

}  // namespace traceledger::projections

#endif  // TRACELEDGER_PROJECTIONS_EVENT_FACTS_H_
