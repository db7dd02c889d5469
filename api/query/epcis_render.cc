#include "api/query/epcis_render.h"

#include <cmath>
#include <cstdint>
#include <map>
#include <string>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/time_util.h>

namespace traceledger::api {
namespace {

namespace pb = google::protobuf;

std::string Time(const pb::Timestamp& t) { return pb::util::TimeUtil::ToString(t); }

// Whole numbers within the exactly representable range of a double are written as integers
// (2000, not 2000.0); the decoder reads both as the same double.
OrderedJson Number(double value) {
  constexpr double kExactIntegerLimit = 9007199254740992.0;  // 2^53
  if (std::isfinite(value) && std::trunc(value) == value && std::fabs(value) < kExactIntegerLimit) {
    return static_cast<int64_t>(value);
  }
  return value;
}

OrderedJson FromValue(const pb::Value& value);

OrderedJson FromStruct(const pb::Struct& object) {
  OrderedJson out = OrderedJson::object();
  // Struct is a map: iterate in key order so the output is deterministic.
  std::map<std::string, const pb::Value*> sorted;
  for (const auto& [key, value] : object.fields()) sorted.emplace(key, &value);
  for (const auto& [key, value] : sorted) out[key] = FromValue(*value);
  return out;
}

OrderedJson FromValue(const pb::Value& value) {
  switch (value.kind_case()) {
    case pb::Value::kNullValue:
    case pb::Value::KIND_NOT_SET:
      return nullptr;
    case pb::Value::kNumberValue:
      // Extension numbers were stored as doubles; keep them doubles so 1.0 stays 1.0.
      return value.number_value();
    case pb::Value::kStringValue:
      return value.string_value();
    case pb::Value::kBoolValue:
      return value.bool_value();
    case pb::Value::kStructValue:
      return FromStruct(value.struct_value());
    case pb::Value::kListValue: {
      OrderedJson list = OrderedJson::array();
      for (const pb::Value& item : value.list_value().values()) list.push_back(FromValue(item));
      return list;
    }
  }
  return nullptr;
}

// Adds every extension key of `extensions` to `out`, as given.
void AddExtensions(const pb::Struct& extensions, OrderedJson& out) {
  OrderedJson rendered = FromStruct(extensions);
  for (auto it = rendered.begin(); it != rendered.end(); ++it) out[it.key()] = it.value();
}

OrderedJson StringList(const pb::RepeatedPtrField<std::string>& list) {
  OrderedJson out = OrderedJson::array();
  for (const std::string& item : list) out.push_back(item);
  return out;
}

OrderedJson QuantityList(const pb::RepeatedPtrField<v1::QuantityElement>& list) {
  OrderedJson out = OrderedJson::array();
  for (const v1::QuantityElement& q : list) {
    OrderedJson item = OrderedJson::object();
    item["epcClass"] = q.epc_class();
    if (q.has_quantity()) item["quantity"] = Number(q.quantity());
    if (!q.uom().empty()) item["uom"] = q.uom();
    out.push_back(std::move(item));
  }
  return out;
}

OrderedJson Location(const v1::Location& location) {
  OrderedJson out = OrderedJson::object();
  if (!location.id().empty()) out["id"] = location.id();
  AddExtensions(location.extensions(), out);
  return out;
}

std::string_view ActionName(v1::Action action) {
  switch (action) {
    case v1::ACTION_ADD: return "ADD";
    case v1::ACTION_OBSERVE: return "OBSERVE";
    case v1::ACTION_DELETE: return "DELETE";
    default: return "";
  }
}

void SetString(OrderedJson& out, const char* key, const std::string& value) {
  if (!value.empty()) out[key] = value;
}

OrderedJson SensorMetadata(const v1::SensorMetadata& m) {
  OrderedJson out = OrderedJson::object();
  if (m.has_time()) out["time"] = Time(m.time());
  SetString(out, "deviceID", m.device_id());
  SetString(out, "deviceMetadata", m.device_metadata());
  SetString(out, "rawData", m.raw_data());
  if (m.has_start_time()) out["startTime"] = Time(m.start_time());
  if (m.has_end_time()) out["endTime"] = Time(m.end_time());
  SetString(out, "dataProcessingMethod", m.data_processing_method());
  SetString(out, "bizRules", m.biz_rules());
  AddExtensions(m.extensions(), out);
  return out;
}

OrderedJson SensorReport(const v1::SensorReport& r) {
  OrderedJson out = OrderedJson::object();
  SetString(out, "type", r.type());
  SetString(out, "exception", r.exception());
  SetString(out, "deviceID", r.device_id());
  SetString(out, "deviceMetadata", r.device_metadata());
  SetString(out, "rawData", r.raw_data());
  SetString(out, "dataProcessingMethod", r.data_processing_method());
  SetString(out, "bizRules", r.biz_rules());
  if (r.has_time()) out["time"] = Time(r.time());
  SetString(out, "microorganism", r.microorganism());
  SetString(out, "chemicalSubstance", r.chemical_substance());
  SetString(out, "coordinateReferenceSystem", r.coordinate_reference_system());
  if (r.has_value()) out["value"] = Number(r.value());
  SetString(out, "component", r.component());
  if (r.has_string_value()) out["stringValue"] = r.string_value();
  if (r.has_boolean_value()) out["booleanValue"] = r.boolean_value();
  SetString(out, "hexBinaryValue", r.hex_binary_value());
  SetString(out, "uriValue", r.uri_value());
  if (r.has_min_value()) out["minValue"] = Number(r.min_value());
  if (r.has_max_value()) out["maxValue"] = Number(r.max_value());
  if (r.has_mean_value()) out["meanValue"] = Number(r.mean_value());
  if (r.has_s_dev()) out["sDev"] = Number(r.s_dev());
  if (r.has_perc_rank()) out["percRank"] = Number(r.perc_rank());
  if (r.has_perc_value()) out["percValue"] = Number(r.perc_value());
  SetString(out, "uom", r.uom());
  AddExtensions(r.extensions(), out);
  return out;
}

OrderedJson Ilmd(const v1::Ilmd& ilmd) {
  OrderedJson out = OrderedJson::object();
  SetString(out, "cbvmda:lotNumber", ilmd.lot_number());
  SetString(out, "cbvmda:itemExpirationDate", ilmd.item_expiration_date());
  SetString(out, "cbvmda:productionDate", ilmd.production_date());
  SetString(out, "cbvmda:bestBeforeDate", ilmd.best_before_date());
  SetString(out, "cbvmda:sellByDate", ilmd.sell_by_date());
  AddExtensions(ilmd.extensions(), out);
  return out;
}

// The fields every EPCIS event has, in the order the standard lists them; `what` adds the
// type's own fields (the "what" dimension) between the "when" and the "why".
template <typename AddWhat>
OrderedJson Render(const v1::Event& event, std::string_view type, const v1::EpcisCommon& c,
                   AddWhat add_what) {
  OrderedJson out = OrderedJson::object();
  out["type"] = type;
  if (c.has_error_declaration() && !c.error_declaration().erroneous_event_id().empty()) {
    out["eventID"] = c.error_declaration().erroneous_event_id();
  } else if (!event.event_id().empty()) {
    out["eventID"] = event.event_id();
  }
  if (c.has_event_time()) out["eventTime"] = Time(c.event_time());
  out["eventTimeZoneOffset"] =
      c.event_time_zone_offset().empty() ? "+00:00" : c.event_time_zone_offset();
  if (c.has_record_time()) out["recordTime"] = Time(c.record_time());
  if (c.certification_info_size() > 0) {
    out["certificationInfo"] = StringList(c.certification_info());
  }
  if (c.has_error_declaration()) {
    const v1::ErrorDeclaration& d = c.error_declaration();
    OrderedJson declaration = OrderedJson::object();
    if (d.has_declaration_time()) declaration["declarationTime"] = Time(d.declaration_time());
    SetString(declaration, "reason", d.reason());
    if (d.corrective_event_ids_size() > 0) {
      declaration["correctiveEventIDs"] = StringList(d.corrective_event_ids());
    }
    AddExtensions(d.extensions(), declaration);
    out["errorDeclaration"] = std::move(declaration);
  }
  add_what(out);
  SetString(out, "bizStep", c.biz_step());
  SetString(out, "disposition", c.disposition());
  if (c.has_persistent_disposition()) {
    OrderedJson persistent = OrderedJson::object();
    if (c.persistent_disposition().set_size() > 0) {
      persistent["set"] = StringList(c.persistent_disposition().set());
    }
    if (c.persistent_disposition().unset_size() > 0) {
      persistent["unset"] = StringList(c.persistent_disposition().unset());
    }
    out["persistentDisposition"] = std::move(persistent);
  }
  if (c.has_read_point()) out["readPoint"] = Location(c.read_point());
  if (c.has_biz_location()) out["bizLocation"] = Location(c.biz_location());
  if (c.biz_transaction_list_size() > 0) {
    OrderedJson list = OrderedJson::array();
    for (const v1::BizTransaction& t : c.biz_transaction_list()) {
      OrderedJson item = OrderedJson::object();
      SetString(item, "type", t.type());
      item["bizTransaction"] = t.biz_transaction();
      list.push_back(std::move(item));
    }
    out["bizTransactionList"] = std::move(list);
  }
  auto source_destination = [](const pb::RepeatedPtrField<v1::SourceDestination>& entries,
                               const char* id_key) {
    OrderedJson list = OrderedJson::array();
    for (const v1::SourceDestination& entry : entries) {
      OrderedJson item = OrderedJson::object();
      item["type"] = entry.type();
      item[id_key] = entry.id();
      list.push_back(std::move(item));
    }
    return list;
  };
  if (c.source_list_size() > 0) out["sourceList"] = source_destination(c.source_list(), "source");
  if (c.destination_list_size() > 0) {
    out["destinationList"] = source_destination(c.destination_list(), "destination");
  }
  if (c.sensor_element_list_size() > 0) {
    OrderedJson list = OrderedJson::array();
    for (const v1::SensorElement& element : c.sensor_element_list()) {
      OrderedJson item = OrderedJson::object();
      if (element.has_sensor_metadata()) {
        item["sensorMetadata"] = SensorMetadata(element.sensor_metadata());
      }
      OrderedJson reports = OrderedJson::array();
      for (const v1::SensorReport& report : element.sensor_reports()) {
        reports.push_back(SensorReport(report));
      }
      item["sensorReport"] = std::move(reports);
      AddExtensions(element.extensions(), item);
      list.push_back(std::move(item));
    }
    out["sensorElementList"] = std::move(list);
  }
  AddExtensions(c.extensions(), out);
  return out;
}

void SetAction(OrderedJson& out, v1::Action action) {
  const std::string_view name = ActionName(action);
  if (!name.empty()) out["action"] = name;
}

}  // namespace

Result<OrderedJson> RenderEpcisEvent(const v1::Event& event) {
  switch (event.body_case()) {
    case v1::Event::kObjectEvent: {
      const v1::ObjectEvent& e = event.object_event();
      return Render(event, "ObjectEvent", e.common(), [&](OrderedJson& out) {
        if (e.epc_list_size() > 0) out["epcList"] = StringList(e.epc_list());
        SetAction(out, e.action());
        if (e.quantity_list_size() > 0) out["quantityList"] = QuantityList(e.quantity_list());
        if (e.has_ilmd()) out["ilmd"] = Ilmd(e.ilmd());
      });
    }
    case v1::Event::kAggregationEvent: {
      const v1::AggregationEvent& e = event.aggregation_event();
      return Render(event, "AggregationEvent", e.common(), [&](OrderedJson& out) {
        SetString(out, "parentID", e.parent_id());
        if (e.child_epcs_size() > 0) out["childEPCs"] = StringList(e.child_epcs());
        SetAction(out, e.action());
        if (e.child_quantity_list_size() > 0) {
          out["childQuantityList"] = QuantityList(e.child_quantity_list());
        }
      });
    }
    case v1::Event::kTransactionEvent: {
      const v1::TransactionEvent& e = event.transaction_event();
      return Render(event, "TransactionEvent", e.common(), [&](OrderedJson& out) {
        SetString(out, "parentID", e.parent_id());
        if (e.epc_list_size() > 0) out["epcList"] = StringList(e.epc_list());
        SetAction(out, e.action());
        if (e.quantity_list_size() > 0) out["quantityList"] = QuantityList(e.quantity_list());
      });
    }
    case v1::Event::kTransformationEvent: {
      const v1::TransformationEvent& e = event.transformation_event();
      return Render(event, "TransformationEvent", e.common(), [&](OrderedJson& out) {
        if (e.input_epc_list_size() > 0) out["inputEPCList"] = StringList(e.input_epc_list());
        if (e.input_quantity_list_size() > 0) {
          out["inputQuantityList"] = QuantityList(e.input_quantity_list());
        }
        if (e.output_epc_list_size() > 0) out["outputEPCList"] = StringList(e.output_epc_list());
        if (e.output_quantity_list_size() > 0) {
          out["outputQuantityList"] = QuantityList(e.output_quantity_list());
        }
        SetString(out, "transformationID", e.transformation_id());
        if (e.has_ilmd()) out["ilmd"] = Ilmd(e.ilmd());
      });
    }
    case v1::Event::kAssociationEvent: {
      const v1::AssociationEvent& e = event.association_event();
      return Render(event, "AssociationEvent", e.common(), [&](OrderedJson& out) {
        SetString(out, "parentID", e.parent_id());
        if (e.child_epcs_size() > 0) out["childEPCs"] = StringList(e.child_epcs());
        SetAction(out, e.action());
        if (e.child_quantity_list_size() > 0) {
          out["childQuantityList"] = QuantityList(e.child_quantity_list());
        }
      });
    }
    default:
      return Status::InvalidArgument("event " + event.event_id() + ": body " +
                                     std::to_string(static_cast<int>(event.body_case())) +
                                     " is not an EPCIS event type");
  }
}

}  // namespace traceledger::api
