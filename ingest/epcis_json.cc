#include "ingest/epcis_json.h"

#include <functional>
#include <string>

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/time_util.h>
#include <nlohmann/json.hpp>

#include "ingest/internal/strict_json.h"

namespace traceledger::ingest {
namespace {

namespace pb = google::protobuf;
namespace v1 = traceledger::v1;
using Json = nlohmann::json;

// Namespaced keys are user extensions: "ext1:foo" (compact IRI) or a full URI.
bool IsExtensionKey(const std::string& key) { return key.find(':') != std::string::npos; }

std::string Child(const std::string& path, std::string_view name) {
  return path.empty() ? std::string(name) : path + "/" + std::string(name);
}
std::string Child(const std::string& path, size_t index) {
  return Child(path, std::to_string(index));
}

// Maps JSON values of one event onto protobuf fields. Every accessor checks the JSON type
// before reading, so nlohmann never throws.
class EpcisMapper {
 public:
  explicit EpcisMapper(std::string event_type) : event_type_(std::move(event_type)) {}

  Status Error(const std::string& path, std::string_view what) const {
    return Status::InvalidArgument("EPCIS " + event_type_ + ": " + path + ": " +
                                   std::string(what));
  }

  Status String(const Json& value, const std::string& path, std::string* out) const {
    if (!value.is_string()) return Error(path, "want a string");
    *out = value.get_ref<const std::string&>();
    return Status::Ok();
  }

  Status Number(const Json& value, const std::string& path, double* out) const {
    if (!value.is_number()) return Error(path, "want a number");
    *out = value.get<double>();
    return Status::Ok();
  }

  Status Time(const Json& value, const std::string& path, pb::Timestamp* out) const {
    if (!value.is_string()) return Error(path, "want an RFC 3339 date-time string");
    if (!pb::util::TimeUtil::FromString(value.get_ref<const std::string&>(), out)) {
      return Error(path, "\"" + value.get_ref<const std::string&>() +
                             "\" is not an RFC 3339 date-time with offset");
    }
    return Status::Ok();
  }

  Status StringList(const Json& value, const std::string& path,
                    pb::RepeatedPtrField<std::string>* out) const {
    if (!value.is_array()) return Error(path, "want an array of strings");
    for (size_t i = 0; i < value.size(); ++i) {
      TL_RETURN_IF_ERROR(String(value[i], Child(path, i), out->Add()));
    }
    return Status::Ok();
  }

  Status Object(const Json& value, const std::string& path) const {
    if (!value.is_object()) return Error(path, "want an object");
    return Status::Ok();
  }

  Status UnknownKey(const std::string& path, const std::string& key) const {
    return Error(Child(path, key), "unknown EPCIS field (extension fields need a namespace " +
                                       std::string("prefix such as \"ext1:\")"));
  }

  // Converts any JSON value into a google.protobuf.Value. Numbers become doubles.
  Status ToValue(const Json& value, const std::string& path, size_t depth,
                 pb::Value* out) const {
    if (depth > internal::kMaxJsonDepth) return Error(path, "nested too deeply");
    switch (value.type()) {
      case Json::value_t::null:
        out->set_null_value(pb::NULL_VALUE);
        return Status::Ok();
      case Json::value_t::boolean:
        out->set_bool_value(value.get<bool>());
        return Status::Ok();
      case Json::value_t::number_integer:
      case Json::value_t::number_unsigned:
      case Json::value_t::number_float:
        out->set_number_value(value.get<double>());
        return Status::Ok();
      case Json::value_t::string:
        out->set_string_value(value.get_ref<const std::string&>());
        return Status::Ok();
      case Json::value_t::array: {
        pb::ListValue* list = out->mutable_list_value();
        for (size_t i = 0; i < value.size(); ++i) {
          TL_RETURN_IF_ERROR(ToValue(value[i], Child(path, i), depth + 1, list->add_values()));
        }
        return Status::Ok();
      }
      case Json::value_t::object: {
        pb::Struct* object = out->mutable_struct_value();
        for (auto it = value.begin(); it != value.end(); ++it) {
          TL_RETURN_IF_ERROR(ToValue(it.value(), Child(path, it.key()), depth + 1,
                                     &(*object->mutable_fields())[it.key()]));
        }
        return Status::Ok();
      }
      default:
        return Error(path, "unsupported JSON value");
    }
  }

  // An array of objects: checks the shapes, adds one element per item and lets `parse_item`
  // fill it from the item's keys.
  template <typename Item, typename ParseItem>
  Status ObjectList(const Json& value, const std::string& path, pb::RepeatedPtrField<Item>* out,
                    ParseItem parse_item) const {
    if (!value.is_array()) return Error(path, "want an array");
    for (size_t i = 0; i < value.size(); ++i) {
      const std::string item_path = Child(path, i);
      TL_RETURN_IF_ERROR(Object(value[i], item_path));
      TL_RETURN_IF_ERROR(parse_item(value[i], item_path, out->Add()));
    }
    return Status::Ok();
  }

  Status Extension(const std::string& key, const Json& value, const std::string& path,
                   pb::Struct* extensions) const {
    return ToValue(value, Child(path, key), 1, &(*extensions->mutable_fields())[key]);
  }

  Status Location(const Json& value, const std::string& path, v1::Location* out) const {
    TL_RETURN_IF_ERROR(Object(value, path));
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (it.key() == "id") {
        TL_RETURN_IF_ERROR(String(it.value(), Child(path, "id"), out->mutable_id()));
      } else if (IsExtensionKey(it.key())) {
        TL_RETURN_IF_ERROR(Extension(it.key(), it.value(), path, out->mutable_extensions()));
      } else {
        return UnknownKey(path, it.key());
      }
    }
    return Status::Ok();
  }

  Status ErrorDeclaration(const Json& value, const std::string& path,
                          v1::ErrorDeclaration* out) const {
    TL_RETURN_IF_ERROR(Object(value, path));
    for (auto it = value.begin(); it != value.end(); ++it) {
      const std::string& key = it.key();
      const std::string child = Child(path, key);
      if (key == "declarationTime") {
        TL_RETURN_IF_ERROR(Time(it.value(), child, out->mutable_declaration_time()));
      } else if (key == "reason") {
        TL_RETURN_IF_ERROR(String(it.value(), child, out->mutable_reason()));
      } else if (key == "correctiveEventIDs") {
        TL_RETURN_IF_ERROR(StringList(it.value(), child, out->mutable_corrective_event_ids()));
      } else if (IsExtensionKey(key)) {
        TL_RETURN_IF_ERROR(Extension(key, it.value(), path, out->mutable_extensions()));
      } else {
        return UnknownKey(path, key);
      }
    }
    return Status::Ok();
  }

  Status PersistentDisposition(const Json& value, const std::string& path,
                               v1::PersistentDisposition* out) const {
    TL_RETURN_IF_ERROR(Object(value, path));
    for (auto it = value.begin(); it != value.end(); ++it) {
      const std::string child = Child(path, it.key());
      if (it.key() == "set") {
        TL_RETURN_IF_ERROR(StringList(it.value(), child, out->mutable_set()));
      } else if (it.key() == "unset") {
        TL_RETURN_IF_ERROR(StringList(it.value(), child, out->mutable_unset()));
      } else {
        return UnknownKey(path, it.key());
      }
    }
    return Status::Ok();
  }

  Status BizTransactionList(const Json& value, const std::string& path,
                            pb::RepeatedPtrField<v1::BizTransaction>* out) const {
    return ObjectList(value, path, out,
                      [&](const Json& item, const std::string& item_path,
                          v1::BizTransaction* transaction) -> Status {
      for (auto it = item.begin(); it != item.end(); ++it) {
        const std::string child = Child(item_path, it.key());
        if (it.key() == "type") {
          TL_RETURN_IF_ERROR(String(it.value(), child, transaction->mutable_type()));
        } else if (it.key() == "bizTransaction") {
          TL_RETURN_IF_ERROR(String(it.value(), child, transaction->mutable_biz_transaction()));
        } else {
          return UnknownKey(item_path, it.key());
        }
      }
      return Status::Ok();
    });
  }

  // sourceList (`id_key` "source") or destinationList (`id_key` "destination").
  Status SourceDestinationList(const Json& value, const std::string& path,
                               std::string_view id_key,
                               pb::RepeatedPtrField<v1::SourceDestination>* out) const {
    return ObjectList(value, path, out,
                      [&](const Json& item, const std::string& item_path,
                          v1::SourceDestination* entry) -> Status {
      for (auto it = item.begin(); it != item.end(); ++it) {
        const std::string child = Child(item_path, it.key());
        if (it.key() == "type") {
          TL_RETURN_IF_ERROR(String(it.value(), child, entry->mutable_type()));
        } else if (it.key() == id_key) {
          TL_RETURN_IF_ERROR(String(it.value(), child, entry->mutable_id()));
        } else {
          return UnknownKey(item_path, it.key());
        }
      }
      return Status::Ok();
    });
  }

  Status SensorMetadata(const Json& value, const std::string& path,
                        v1::SensorMetadata* out) const {
    TL_RETURN_IF_ERROR(Object(value, path));
    for (auto it = value.begin(); it != value.end(); ++it) {
      const std::string& key = it.key();
      const Json& v = it.value();
      const std::string child = Child(path, key);
      if (key == "time") {
        TL_RETURN_IF_ERROR(Time(v, child, out->mutable_time()));
      } else if (key == "deviceID") {
        TL_RETURN_IF_ERROR(String(v, child, out->mutable_device_id()));
      } else if (key == "deviceMetadata") {
        TL_RETURN_IF_ERROR(String(v, child, out->mutable_device_metadata()));
      } else if (key == "rawData") {
        TL_RETURN_IF_ERROR(String(v, child, out->mutable_raw_data()));
      } else if (key == "startTime") {
        TL_RETURN_IF_ERROR(Time(v, child, out->mutable_start_time()));
      } else if (key == "endTime") {
        TL_RETURN_IF_ERROR(Time(v, child, out->mutable_end_time()));
      } else if (key == "dataProcessingMethod") {
        TL_RETURN_IF_ERROR(String(v, child, out->mutable_data_processing_method()));
      } else if (key == "bizRules") {
        TL_RETURN_IF_ERROR(String(v, child, out->mutable_biz_rules()));
      } else if (IsExtensionKey(key)) {
        TL_RETURN_IF_ERROR(Extension(key, v, path, out->mutable_extensions()));
      } else {
        return UnknownKey(path, key);
      }
    }
    return Status::Ok();
  }

  Status SensorReport(const Json& value, const std::string& path, v1::SensorReport* out) const {
    TL_RETURN_IF_ERROR(Object(value, path));
    for (auto it = value.begin(); it != value.end(); ++it) {
      const std::string& key = it.key();
      const Json& v = it.value();
      const std::string child = Child(path, key);
      double number = 0;
      if (key == "type") {
        TL_RETURN_IF_ERROR(String(v, child, out->mutable_type()));
      } else if (key == "exception") {
        TL_RETURN_IF_ERROR(String(v, child, out->mutable_exception()));
      } else if (key == "deviceID") {
        TL_RETURN_IF_ERROR(String(v, child, out->mutable_device_id()));
      } else if (key == "deviceMetadata") {
        TL_RETURN_IF_ERROR(String(v, child, out->mutable_device_metadata()));
      } else if (key == "rawData") {
        TL_RETURN_IF_ERROR(String(v, child, out->mutable_raw_data()));
      } else if (key == "dataProcessingMethod") {
        TL_RETURN_IF_ERROR(String(v, child, out->mutable_data_processing_method()));
      } else if (key == "bizRules") {
        TL_RETURN_IF_ERROR(String(v, child, out->mutable_biz_rules()));
      } else if (key == "time") {
        TL_RETURN_IF_ERROR(Time(v, child, out->mutable_time()));
      } else if (key == "microorganism") {
        TL_RETURN_IF_ERROR(String(v, child, out->mutable_microorganism()));
      } else if (key == "chemicalSubstance") {
        TL_RETURN_IF_ERROR(String(v, child, out->mutable_chemical_substance()));
      } else if (key == "coordinateReferenceSystem") {
        TL_RETURN_IF_ERROR(String(v, child, out->mutable_coordinate_reference_system()));
      } else if (key == "value") {
        TL_RETURN_IF_ERROR(Number(v, child, &number));
        out->set_value(number);
      } else if (key == "component") {
        TL_RETURN_IF_ERROR(String(v, child, out->mutable_component()));
      } else if (key == "stringValue") {
        TL_RETURN_IF_ERROR(String(v, child, out->mutable_string_value()));
      } else if (key == "booleanValue") {
        if (!v.is_boolean()) return Error(child, "want true or false");
        out->set_boolean_value(v.get<bool>());
      } else if (key == "hexBinaryValue") {
        TL_RETURN_IF_ERROR(String(v, child, out->mutable_hex_binary_value()));
      } else if (key == "uriValue") {
        TL_RETURN_IF_ERROR(String(v, child, out->mutable_uri_value()));
      } else if (key == "minValue") {
        TL_RETURN_IF_ERROR(Number(v, child, &number));
        out->set_min_value(number);
      } else if (key == "maxValue") {
        TL_RETURN_IF_ERROR(Number(v, child, &number));
        out->set_max_value(number);
      } else if (key == "meanValue") {
        TL_RETURN_IF_ERROR(Number(v, child, &number));
        out->set_mean_value(number);
      } else if (key == "sDev") {
        TL_RETURN_IF_ERROR(Number(v, child, &number));
        out->set_s_dev(number);
      } else if (key == "percRank") {
        TL_RETURN_IF_ERROR(Number(v, child, &number));
        out->set_perc_rank(number);
      } else if (key == "percValue") {
        TL_RETURN_IF_ERROR(Number(v, child, &number));
        out->set_perc_value(number);
      } else if (key == "uom") {
        TL_RETURN_IF_ERROR(String(v, child, out->mutable_uom()));
      } else if (IsExtensionKey(key)) {
        TL_RETURN_IF_ERROR(Extension(key, v, path, out->mutable_extensions()));
      } else {
        return UnknownKey(path, key);
      }
    }
    return Status::Ok();
  }

  Status SensorElementList(const Json& value, const std::string& path,
                           pb::RepeatedPtrField<v1::SensorElement>* out) const {
    return ObjectList(value, path, out,
                      [&](const Json& item, const std::string& item_path,
                          v1::SensorElement* element) -> Status {
      for (auto it = item.begin(); it != item.end(); ++it) {
        const std::string& key = it.key();
        const std::string child = Child(item_path, key);
        if (key == "sensorMetadata") {
          TL_RETURN_IF_ERROR(SensorMetadata(it.value(), child, element->mutable_sensor_metadata()));
        } else if (key == "sensorReport") {
          if (!it.value().is_array()) return Error(child, "want an array");
          for (size_t r = 0; r < it.value().size(); ++r) {
            TL_RETURN_IF_ERROR(SensorReport(it.value()[r], Child(child, r),
                                            element->add_sensor_reports()));
          }
        } else if (IsExtensionKey(key)) {
          TL_RETURN_IF_ERROR(Extension(key, it.value(), item_path, element->mutable_extensions()));
        } else {
          return UnknownKey(item_path, key);
        }
      }
      return Status::Ok();
    });
  }

  Status QuantityList(const Json& value, const std::string& path,
                      pb::RepeatedPtrField<v1::QuantityElement>* out) const {
    return ObjectList(value, path, out,
                      [&](const Json& item, const std::string& item_path,
                          v1::QuantityElement* element) -> Status {
      for (auto it = item.begin(); it != item.end(); ++it) {
        const std::string child = Child(item_path, it.key());
        if (it.key() == "epcClass") {
          TL_RETURN_IF_ERROR(String(it.value(), child, element->mutable_epc_class()));
        } else if (it.key() == "quantity") {
          double quantity = 0;
          TL_RETURN_IF_ERROR(Number(it.value(), child, &quantity));
          element->set_quantity(quantity);
        } else if (it.key() == "uom") {
          TL_RETURN_IF_ERROR(String(it.value(), child, element->mutable_uom()));
        } else {
          return UnknownKey(item_path, it.key());
        }
      }
      return Status::Ok();
    });
  }

  // Known CBV master data attributes get their own fields; everything else is kept, keyed as
  // given, in ilmd.extensions.
  Status Ilmd(const Json& value, const std::string& path, v1::Ilmd* out) const {
    TL_RETURN_IF_ERROR(Object(value, path));
    for (auto it = value.begin(); it != value.end(); ++it) {
      const std::string& key = it.key();
      std::string_view local = key;
      for (std::string_view prefix : {"cbvmda:", "urn:epcglobal:cbv:mda#"}) {
        if (local.substr(0, prefix.size()) == prefix) local.remove_prefix(prefix.size());
      }
      const bool is_cbv = local.size() != key.size();
      std::string* field = nullptr;
      if (is_cbv && it.value().is_string()) {
        if (local == "lotNumber") field = out->mutable_lot_number();
        if (local == "itemExpirationDate") field = out->mutable_item_expiration_date();
        if (local == "productionDate") field = out->mutable_production_date();
        if (local == "bestBeforeDate") field = out->mutable_best_before_date();
        if (local == "sellByDate") field = out->mutable_sell_by_date();
      }
      if (field != nullptr) {
        *field = it.value().get_ref<const std::string&>();
      } else {
        TL_RETURN_IF_ERROR(Extension(key, it.value(), path, out->mutable_extensions()));
      }
    }
    return Status::Ok();
  }

  Status Action(const Json& value, const std::string& path, v1::Action* out) const {
    if (value == "ADD") {
      *out = v1::ACTION_ADD;
    } else if (value == "OBSERVE") {
      *out = v1::ACTION_OBSERVE;
    } else if (value == "DELETE") {
      *out = v1::ACTION_DELETE;
    } else {
      return Error(path, "want \"ADD\", \"OBSERVE\" or \"DELETE\"");
    }
    return Status::Ok();
  }

  // Maps a key shared by all event types; sets *handled if `key` was one.
  Status CommonField(const std::string& key, const Json& value, v1::Event* event,
                     v1::EpcisCommon* common, bool* handled) const {
    *handled = true;
    const std::string& path = key;
    if (key == "@context" || key == "type") return Status::Ok();
    if (key == "eventID") return String(value, path, event->mutable_event_id());
    if (key == "eventTime") return Time(value, path, common->mutable_event_time());
    if (key == "eventTimeZoneOffset") {
      return String(value, path, common->mutable_event_time_zone_offset());
    }
    if (key == "recordTime") return Time(value, path, common->mutable_record_time());
    if (key == "certificationInfo") {
      if (value.is_string()) return String(value, path, common->add_certification_info());
      return StringList(value, path, common->mutable_certification_info());
    }
    if (key == "errorDeclaration") {
      return ErrorDeclaration(value, path, common->mutable_error_declaration());
    }
    if (key == "readPoint") return Location(value, path, common->mutable_read_point());
    if (key == "bizLocation") return Location(value, path, common->mutable_biz_location());
    if (key == "bizStep") return String(value, path, common->mutable_biz_step());
    if (key == "disposition") return String(value, path, common->mutable_disposition());
    if (key == "persistentDisposition") {
      return PersistentDisposition(value, path, common->mutable_persistent_disposition());
    }
    if (key == "bizTransactionList") {
      return BizTransactionList(value, path, common->mutable_biz_transaction_list());
    }
    if (key == "sourceList") {
      return SourceDestinationList(value, path, "source", common->mutable_source_list());
    }
    if (key == "destinationList") {
      return SourceDestinationList(value, path, "destination",
                                   common->mutable_destination_list());
    }
    if (key == "sensorElementList") {
      return SensorElementList(value, path, common->mutable_sensor_element_list());
    }
    if (IsExtensionKey(key)) return Extension(key, value, "", common->mutable_extensions());
    *handled = false;
    return Status::Ok();
  }

  // Walks the event's keys: shared ones via CommonField, the rest via `specific`, which sets
  // *handled when it knows the key.
  Status Fields(const Json& object, v1::Event* event, v1::EpcisCommon* common,
                const std::function<Status(const std::string&, const Json&, bool*)>& specific)
      const {
    for (auto it = object.begin(); it != object.end(); ++it) {
      bool handled = false;
      TL_RETURN_IF_ERROR(CommonField(it.key(), it.value(), event, common, &handled));
      if (!handled) TL_RETURN_IF_ERROR(specific(it.key(), it.value(), &handled));
      if (!handled) return UnknownKey("", it.key());
    }
    return Status::Ok();
  }

 private:
  std::string event_type_;
};

Status MapObjectEvent(const Json& object, const EpcisMapper& m, v1::Event* event) {
  v1::ObjectEvent* out = event->mutable_object_event();
  return m.Fields(object, event, out->mutable_common(),
                  [&](const std::string& key, const Json& value, bool* handled) -> Status {
                    *handled = true;
                    if (key == "action") {
                      v1::Action action = v1::ACTION_UNSPECIFIED;
                      TL_RETURN_IF_ERROR(m.Action(value, key, &action));
                      out->set_action(action);
                      return Status::Ok();
                    }
                    if (key == "epcList") return m.StringList(value, key, out->mutable_epc_list());
                    if (key == "quantityList") {
                      return m.QuantityList(value, key, out->mutable_quantity_list());
                    }
                    if (key == "ilmd") return m.Ilmd(value, key, out->mutable_ilmd());
                    *handled = false;
                    return Status::Ok();
                  });
}

// AggregationEvent and AssociationEvent share their shape.
template <typename ParentChildEvent>
Status MapParentChildEvent(const Json& object, const EpcisMapper& m, v1::Event* event,
                           ParentChildEvent* out) {
  return m.Fields(object, event, out->mutable_common(),
                  [&](const std::string& key, const Json& value, bool* handled) -> Status {
                    *handled = true;
                    if (key == "action") {
                      v1::Action action = v1::ACTION_UNSPECIFIED;
                      TL_RETURN_IF_ERROR(m.Action(value, key, &action));
                      out->set_action(action);
                      return Status::Ok();
                    }
                    if (key == "parentID") return m.String(value, key, out->mutable_parent_id());
                    if (key == "childEPCs") {
                      return m.StringList(value, key, out->mutable_child_epcs());
                    }
                    if (key == "childQuantityList") {
                      return m.QuantityList(value, key, out->mutable_child_quantity_list());
                    }
                    *handled = false;
                    return Status::Ok();
                  });
}

Status MapTransactionEvent(const Json& object, const EpcisMapper& m, v1::Event* event) {
  v1::TransactionEvent* out = event->mutable_transaction_event();
  return m.Fields(object, event, out->mutable_common(),
                  [&](const std::string& key, const Json& value, bool* handled) -> Status {
                    *handled = true;
                    if (key == "action") {
                      v1::Action action = v1::ACTION_UNSPECIFIED;
                      TL_RETURN_IF_ERROR(m.Action(value, key, &action));
                      out->set_action(action);
                      return Status::Ok();
                    }
                    if (key == "parentID") return m.String(value, key, out->mutable_parent_id());
                    if (key == "epcList") return m.StringList(value, key, out->mutable_epc_list());
                    if (key == "quantityList") {
                      return m.QuantityList(value, key, out->mutable_quantity_list());
                    }
                    *handled = false;
                    return Status::Ok();
                  });
}

Status MapTransformationEvent(const Json& object, const EpcisMapper& m, v1::Event* event) {
  v1::TransformationEvent* out = event->mutable_transformation_event();
  return m.Fields(
      object, event, out->mutable_common(),
      [&](const std::string& key, const Json& value, bool* handled) -> Status {
        *handled = true;
        if (key == "inputEPCList") return m.StringList(value, key, out->mutable_input_epc_list());
        if (key == "inputQuantityList") {
          return m.QuantityList(value, key, out->mutable_input_quantity_list());
        }
        if (key == "outputEPCList") {
          return m.StringList(value, key, out->mutable_output_epc_list());
        }
        if (key == "outputQuantityList") {
          return m.QuantityList(value, key, out->mutable_output_quantity_list());
        }
        if (key == "transformationID") {
          return m.String(value, key, out->mutable_transformation_id());
        }
        if (key == "ilmd") return m.Ilmd(value, key, out->mutable_ilmd());
        *handled = false;
        return Status::Ok();
      });
}


}  // namespace

Result<v1::Event> DecodeEpcisJsonEvent(std::string_view json) {
  if (Status syntax = internal::CheckStrictJsonObject(json); !syntax.ok()) {
    return Status::InvalidArgument("EPCIS " + syntax.message());
  }
  // The strict check above guarantees a well-formed object, so this parse cannot fail.
  const Json object = Json::parse(json.begin(), json.end(), /*cb=*/nullptr,
                                  /*allow_exceptions=*/false);
  TL_ASSERT(object.is_object());

  const auto type = object.find("type");
  if (type == object.end() || !type->is_string()) {
    return Status::InvalidArgument("EPCIS: event has no \"type\" string");
  }
  const std::string& type_name = type->get_ref<const std::string&>();
  const EpcisMapper mapper(type_name);
  v1::Event event;
  if (type_name == "ObjectEvent") {
    TL_RETURN_IF_ERROR(MapObjectEvent(object, mapper, &event));
  } else if (type_name == "AggregationEvent") {
    TL_RETURN_IF_ERROR(
        MapParentChildEvent(object, mapper, &event, event.mutable_aggregation_event()));
  } else if (type_name == "TransactionEvent") {
    TL_RETURN_IF_ERROR(MapTransactionEvent(object, mapper, &event));
  } else if (type_name == "TransformationEvent") {
    TL_RETURN_IF_ERROR(MapTransformationEvent(object, mapper, &event));
  } else if (type_name == "AssociationEvent") {
    TL_RETURN_IF_ERROR(
        MapParentChildEvent(object, mapper, &event, event.mutable_association_event()));
  } else {
    return Status::InvalidArgument("EPCIS: event type \"" + type_name +
                                   "\": want ObjectEvent, AggregationEvent, TransactionEvent, " +
                                   "TransformationEvent or AssociationEvent");
  }
  // EPCIS repeats the erroneous event's eventID in the declaring event; the ledger needs a
  // unique id, so the declaration gets a derived one and points at the original.
  v1::EpcisCommon* common = MutableEpcisCommon(&event);
  if (common != nullptr && common->has_error_declaration() && !event.event_id().empty()) {
    common->mutable_error_declaration()->set_erroneous_event_id(event.event_id());
    event.set_event_id(event.event_id() + std::string(kErrorDeclarationIdSuffix));
  }
  return event;
}

v1::EpcisCommon* MutableEpcisCommon(v1::Event* event) {
  switch (event->body_case()) {
    case v1::Event::kObjectEvent:
      return event->mutable_object_event()->mutable_common();
    case v1::Event::kAggregationEvent:
      return event->mutable_aggregation_event()->mutable_common();
    case v1::Event::kTransactionEvent:
      return event->mutable_transaction_event()->mutable_common();
    case v1::Event::kTransformationEvent:
      return event->mutable_transformation_event()->mutable_common();
    case v1::Event::kAssociationEvent:
      return event->mutable_association_event()->mutable_common();
    default:
      return nullptr;
  }
}

}  // namespace traceledger::ingest
