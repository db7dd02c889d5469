#include "projections/event_facts.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>

namespace traceledger::projections {
namespace {

int64_t Micros(const google::protobuf::Timestamp& t) {
  return t.seconds() * 1000000 + t.nanos() / 1000;
}

bool IsOwningParty(std::string_view type) { return CbvShortName(type) == "owning_party"; }

std::string OwningParty(const google::protobuf::RepeatedPtrField<v1::SourceDestination>& list) {
  for (const v1::SourceDestination& entry : list) {
    if (IsOwningParty(entry.type())) return entry.id();
  }
  return "";
}

void AddEpcs(const google::protobuf::RepeatedPtrField<std::string>& epcs,
             std::vector<ObjectQuantity>* out) {
  for (const std::string& epc : epcs) out->push_back({epc, 1, "EA"});
}

void AddQuantities(const google::protobuf::RepeatedPtrField<v1::QuantityElement>& list,
                   std::string_view lot, std::vector<ObjectQuantity>* out) {
  for (const v1::QuantityElement& q : list) {
    out->push_back({LotObjectId(q.epc_class(), lot), q.has_quantity() ? q.quantity() : 1,
                    q.uom().empty() ? "EA" : q.uom()});
  }
}

void Common(const v1::EpcisCommon& common, EventFacts* facts) {
  facts->time_micros = Micros(common.event_time());
  facts->location = common.biz_location().id();
  facts->biz_step = CbvShortName(common.biz_step());
}

Movement ObjectMovement(const std::string& biz_step, v1::Action action) {
  if (biz_step == "commissioning" && action == v1::ACTION_ADD) return Movement::kCommission;
  if (biz_step == "shipping" || biz_step == "departing") return Movement::kShip;
  if (biz_step == "receiving" || biz_step == "arriving") return Movement::kReceive;
  if (biz_step == "retail_selling" || biz_step == "dispensing") return Movement::kSell;
  if (biz_step == "destroying" || biz_step == "decommissioning") return Movement::kDestroy;
  return Movement::kNone;
}

}  // namespace

std::string_view MovementName(Movement movement) {
  switch (movement) {
    case Movement::kNone: return "none";
    case Movement::kCommission: return "commission";
    case Movement::kShip: return "ship";
    case Movement::kReceive: return "receive";
    case Movement::kSell: return "sell";
    case Movement::kDestroy: return "destroy";
    case Movement::kTransform: return "transform";
    case Movement::kPack: return "pack";
    case Movement::kUnpack: return "unpack";
    case Movement::kRemoval: return "removal";
  }
  return "none";
}

bool IsEpcisEvent(const v1::Event& event) {
  switch (event.body_case()) {
    case v1::Event::kObjectEvent:
    case v1::Event::kAggregationEvent:
    case v1::Event::kTransactionEvent:
    case v1::Event::kTransformationEvent:
    case v1::Event::kAssociationEvent:
      return true;
    default:
      return false;
  }
}

std::string CbvShortName(std::string_view value) {
  for (std::string_view marker : {std::string_view("urn:epcglobal:cbv:bizstep:"),
                                  std::string_view("urn:epcglobal:cbv:sdt:"),
                                  std::string_view("urn:epcglobal:cbv:disp:")}) {
    if (value.substr(0, marker.size()) == marker) return std::string(value.substr(marker.size()));
  }
  // https://ref.gs1.org/cbv/BizStep-shipping, .../SDT-owning_party, .../Disp-active
  const size_t slash = value.rfind('/');
  if (value.substr(0, 4) == "http" && slash != std::string_view::npos) {
    std::string_view last = value.substr(slash + 1);
    const size_t dash = last.find('-');
    if (dash != std::string_view::npos) return std::string(last.substr(dash + 1));
  }
  return std::string(value);
}

std::string LotObjectId(std::string_view epc_class, std::string_view ilmd_lot) {
  // An LGTIN class (urn:epc:class:lgtin:...) or a Digital Link with /10/ names its lot already.
  const bool carries_lot = epc_class.find(":lgtin:") != std::string_view::npos ||
                           epc_class.find("/10/") != std::string_view::npos;
  std::string id(epc_class);
  if (!carries_lot && !ilmd_lot.empty()) {
    id.append("#lot=");
    id.append(ilmd_lot);
  }
  return id;
}

EventFacts FactsOf(const v1::Event& event) {
  EventFacts facts;
  facts.party = event.submitter_id();
  switch (event.body_case()) {
    case v1::Event::kObjectEvent: {
      const v1::ObjectEvent& e = event.object_event();
      facts.type = "ObjectEvent";
      Common(e.common(), &facts);
      AddEpcs(e.epc_list(), &facts.objects);
      AddQuantities(e.quantity_list(), e.ilmd().lot_number(), &facts.objects);
      facts.movement = ObjectMovement(facts.biz_step, e.action());
      if (facts.movement == Movement::kShip) {
        facts.counterparty = OwningParty(e.common().destination_list());
      } else if (facts.movement == Movement::kReceive) {
        facts.counterparty = OwningParty(e.common().source_list());
      }
      break;
    }
    case v1::Event::kAggregationEvent: {
      const v1::AggregationEvent& e = event.aggregation_event();
      facts.type = "AggregationEvent";
      Common(e.common(), &facts);
      facts.parent = e.parent_id();
      AddEpcs(e.child_epcs(), &facts.objects);
      AddQuantities(e.child_quantity_list(), "", &facts.objects);
      if (e.action() == v1::ACTION_ADD) facts.movement = Movement::kPack;
      if (e.action() == v1::ACTION_DELETE) facts.movement = Movement::kUnpack;
      // Shipping or receiving a whole pallet with an AggregationEvent moves it too.
      const Movement moved = ObjectMovement(facts.biz_step, e.action());
      if (moved == Movement::kShip || moved == Movement::kReceive) {
        facts.movement = moved;
        facts.objects.insert(facts.objects.begin(), {facts.parent, 1, "EA"});
        facts.counterparty = OwningParty(moved == Movement::kShip ? e.common().destination_list()
                                                                  : e.common().source_list());
      }
      break;
    }
    case v1::Event::kTransactionEvent: {
      const v1::TransactionEvent& e = event.transaction_event();
      facts.type = "TransactionEvent";
      Common(e.common(), &facts);
      facts.parent = e.parent_id();
      AddEpcs(e.epc_list(), &facts.objects);
      AddQuantities(e.quantity_list(), "", &facts.objects);
      break;
    }
    case v1::Event::kTransformationEvent: {
      const v1::TransformationEvent& e = event.transformation_event();
      facts.type = "TransformationEvent";
      Common(e.common(), &facts);
      AddEpcs(e.input_epc_list(), &facts.inputs);
      AddQuantities(e.input_quantity_list(), "", &facts.inputs);
      AddEpcs(e.output_epc_list(), &facts.outputs);
      AddQuantities(e.output_quantity_list(), e.ilmd().lot_number(), &facts.outputs);
      facts.movement = Movement::kTransform;
      break;
    }
    case v1::Event::kAssociationEvent: {
      const v1::AssociationEvent& e = event.association_event();
      facts.type = "AssociationEvent";
      Common(e.common(), &facts);
      facts.parent = e.parent_id();
      AddEpcs(e.child_epcs(), &facts.objects);
      AddQuantities(e.child_quantity_list(), "", &facts.objects);
      break;
    }
    case v1::Event::kInspection:
      facts.type = "Inspection";
      facts.time_micros = Micros(event.inspection().inspected_at());
      facts.location = event.inspection().location();
      break;
    case v1::Event::kSamplingResult:
      facts.type = "SamplingResult";
      facts.time_micros = Micros(event.sampling_result().sampled_at());
      for (const std::string& id : event.sampling_result().object_ids()) {
        facts.objects.push_back({id, 1, "EA"});
      }
      break;
    case v1::Event::kEnforcementAction:
      facts.type = "EnforcementAction";
      facts.time_micros = Micros(event.enforcement_action().decided_at());
      break;
    case v1::Event::kRecall:
      facts.type = "Recall";
      facts.time_micros = Micros(event.recall().issued_at());
      for (const std::string& id : event.recall().root_ids()) facts.objects.push_back({id, 1, "EA"});
      break;
    case v1::Event::kRecallRemoval: {
      const v1::RecallRemoval& e = event.recall_removal();
      facts.type = "RecallRemoval";
      facts.time_micros = Micros(e.removed_at());
      facts.location = e.location();
      facts.movement = Movement::kRemoval;
      facts.objects.push_back({e.object_id(), e.quantity(), e.uom().empty() ? "EA" : e.uom()});
      break;
    }
    case v1::Event::kCylinderRegistration:
      facts.type = "CylinderRegistration";
      facts.time_micros = Micros(event.cylinder_registration().registered_at());
      facts.objects.push_back({event.cylinder_registration().cylinder_id(), 1, "EA"});
      break;
    case v1::Event::kCylinderInspection:
      facts.type = "CylinderInspection";
      facts.time_micros = Micros(event.cylinder_inspection().inspected_at());
      facts.objects.push_back({event.cylinder_inspection().cylinder_id(), 1, "EA"});
      break;
    case v1::Event::kCylinderFill:
      facts.type = "CylinderFill";
      facts.time_micros = Micros(event.cylinder_fill().filled_at());
      facts.objects.push_back({event.cylinder_fill().cylinder_id(), 1, "EA"});
      break;
    case v1::Event::BODY_NOT_SET:
      facts.type = "Unknown";
      break;
  }
  auto mention = [&](const std::string& id) {
    if (!id.empty()) facts.mentioned.push_back(id);
  };
  mention(facts.parent);
  for (const auto* list : {&facts.objects, &facts.inputs, &facts.outputs}) {
    for (const ObjectQuantity& q : *list) mention(q.object_id);
  }
  std::sort(facts.mentioned.begin(), facts.mentioned.end());
  facts.mentioned.erase(std::unique(facts.mentioned.begin(), facts.mentioned.end()),
                        facts.mentioned.end());
  return facts;
}

}  // namespace traceledger::projections
