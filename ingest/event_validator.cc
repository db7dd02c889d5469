#include "ingest/event_validator.h"

#include <array>
#include <cmath>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/time_util.h>

#include "ingest/event_decoder.h"
#include "ingest/gs1.h"
#include "ingest/internal/json_pointer.h"
#include "ingest/internal/quote.h"

namespace traceledger::ingest {
namespace {

namespace pb = google::protobuf;
namespace v1 = traceledger::v1;
using MaybeViolation = std::optional<Violation>;

// Returns the violation from the enclosing function if `expr` found one.
#define TL_RETURN_IF_VIOLATION(expr)                             \
  do {                                                           \
    if (MaybeViolation tl_violation_ = (expr); tl_violation_) {  \
      return tl_violation_;                                      \
    }                                                            \
  } while (false)

// google.protobuf.Timestamp's valid range: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z.
constexpr int64_t kMinTimestampSeconds = -62135596800LL;
constexpr int64_t kMaxTimestampSeconds = 253402300799LL;
constexpr int32_t kMaxNanos = 999999999;
constexpr int64_t kMicrosPerSecond = 1000000;
// Identifier lists up to this long are checked for repeats by scanning, longer ones by hashing.
constexpr int kMaxScannedListItems = 16;

// CBV 2.0 vocabularies (GS1 EPCIS 2.0 JSON Schema enums). Other values must be URIs.
constexpr std::array<std::string_view, 41> kCbvBizSteps = {
    "accepting", "arriving", "assembling", "collecting", "commissioning", "consigning",
    "creating_class_instance", "cycle_counting", "decommissioning", "departing", "destroying",
    "disassembling", "dispensing", "encoding", "entering_exiting", "holding", "inspecting",
    "installing", "killing", "loading", "other", "packing", "picking", "receiving", "removing",
    "repackaging", "repairing", "replacing", "reserving", "retail_selling", "shipping",
    "staging_outbound", "stock_taking", "stocking", "storing", "transporting", "unloading",
    "unpacking", "void_shipping", "sensor_reporting", "sampling"};
constexpr std::array<std::string_view, 33> kCbvDispositions = {
    "active", "container_closed", "damaged", "destroyed", "dispensed", "disposed", "encoded",
    "expired", "in_progress", "in_transit", "inactive", "no_pedigree_match",
    "non_sellable_other", "partially_dispensed", "recalled", "reserved", "retail_sold",
    "returned", "sellable_accessible", "sellable_not_accessible", "stolen", "unknown",
    "available", "completeness_verified", "completeness_inferred", "conformant",
    "container_open", "mismatch_instance", "mismatch_class", "mismatch_quantity",
    "needs_replacement", "non_conformant", "unavailable"};
constexpr std::array<std::string_view, 13> kCbvBizTransactionTypes = {
    "bol", "cert", "desadv", "inv", "pedigree", "po", "poc",
    "prodorder", "recadv", "rma", "testprd", "testres", "upevt"};
constexpr std::array<std::string_view, 3> kCbvSourceDestinationTypes = {
    "owning_party", "possessing_party", "location"};
constexpr std::array<std::string_view, 2> kCbvErrorReasons = {"did_not_occur",
                                                              "incorrect_data"};

template <size_t N>
bool Contains(const std::array<std::string_view, N>& words, std::string_view word) {
  for (std::string_view w : words) {
    if (w == word) return true;
  }
  return false;
}

// Field pointers are built lazily (internal/json_pointer.h): a valid event, the common case,
// never turns one into a string.
using internal::JsonPointer;

MaybeViolation Fail(ValidationRule rule, std::string field, std::string message) {
  return Violation{rule, std::move(field), std::move(message)};
}
MaybeViolation Fail(ValidationRule rule, const JsonPointer& field, std::string message) {
  return Violation{rule, field.ToString(), std::move(message)};
}

using internal::Quote;

std::string FormatNumber(double value) {
  std::string text = std::to_string(value);
  while (text.size() > 1 && text.back() == '0') text.pop_back();
  if (!text.empty() && text.back() == '.') text.pop_back();
  return text;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// "YYYY-MM-DD", a real Gregorian calendar date in years 0001..9999.
bool IsCalendarDate(std::string_view date) {
  if (date.size() != 10 || date[4] != '-' || date[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!IsDigit(date[i])) return false;
  }
  auto number = [&](size_t pos, size_t len) {
    int n = 0;
    for (size_t i = pos; i < pos + len; ++i) n = n * 10 + (date[i] - '0');
    return n;
  };
  const int year = number(0, 4);
  const int month = number(5, 2);
  const int day = number(8, 2);
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  constexpr std::array<int, 12> kDaysInMonth = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  const int days = kDaysInMonth[static_cast<size_t>(month - 1)] + (month == 2 && leap ? 1 : 0);
  return day <= days;
}

// EPCIS eventTimeZoneOffset: [+-]HH:MM from -14:00 to +14:00.
bool IsTimeZoneOffset(std::string_view offset) {
  if (offset.size() != 6 || (offset[0] != '+' && offset[0] != '-') || offset[3] != ':') {
    return false;
  }
  for (size_t i : {1, 2, 4, 5}) {
    if (!IsDigit(offset[i])) return false;
  }
  const int hours = (offset[1] - '0') * 10 + (offset[2] - '0');
  const int minutes = (offset[4] - '0') * 10 + (offset[5] - '0');
  if (minutes > 59) return false;
  if (hours == 14) return minutes == 0;
  return hours < 14;
}

// UN/CEFACT Recommendation 20 code: 2-3 upper-case letters or digits.
bool IsUnitOfMeasure(std::string_view uom) {
  if (uom.size() < 2 || uom.size() > 3) return false;
  for (char c : uom) {
    if (!IsDigit(c) && !(c >= 'A' && c <= 'Z')) return false;
  }
  return true;
}

bool IsHexString(std::string_view text) {
  for (char c : text) {
    if (!IsDigit(c) && !(c >= 'a' && c <= 'f') && !(c >= 'A' && c <= 'F')) return false;
  }
  return true;
}

// Whether Checker::Run() must measure the event against kMaxEventBytes.
enum class EventSize {
  kMeasure,           // compute event.ByteSizeLong()
  kKnownWithinLimit,  // the caller knows the serialized event is at most kMaxEventBytes
};

enum class Presence { kOptional, kRequired };
// How an instant relates to the ingest clock.
enum class TimeRule { kAny, kNotInFuture };
// What an identifier field may hold (see gs1.h).
enum class IdKind { kObject, kParty, kFreeForm };

// The rules. Each method checks one field (and what it contains) and returns the first
// violation in field order.
class Checker {
 public:
  // `ctx` and `event` must outlive this Checker.
  Checker(const ValidationContext& ctx, const v1::Event& event)
      : ctx_(ctx), event_(event), event_id_(event.event_id()) {}

  MaybeViolation Run(EventSize event_size) const {
    const v1::Event& event = event_;
    if (event_size == EventSize::kMeasure) {
      const size_t size = event.ByteSizeLong();
      if (size > kMaxEventBytes) {
        return Fail(ValidationRule::kTooLarge, "",
                    "event is " + std::to_string(size) + " bytes, want at most " +
                        std::to_string(kMaxEventBytes));
      }
    }
    const JsonPointer root;
    if (event.event_id().empty()) {
      return Fail(ValidationRule::kMissingField, root / "eventId", "eventId is required");
    }
    if (event.event_id().size() > kMaxIdentifierBytes) {
      return Fail(ValidationRule::kTooLarge, root / "eventId", TooLongMessage(event.event_id()));
    }
    const JsonPointer submitter_field = root / "submitterId";
    TL_RETURN_IF_VIOLATION(
        Identifier(event.submitter_id(), submitter_field, IdKind::kParty, Presence::kRequired));
    if (ctx_.is_known_submitter && !ctx_.is_known_submitter(event.submitter_id())) {
      return Fail(ValidationRule::kUnknownSubmitter, submitter_field,
                  "submitter " + Quote(event.submitter_id()) + " is not a registered party");
    }
    // Event.batch is reserved for signed submissions and not validated yet.
    switch (event.body_case()) {
      case v1::Event::kObjectEvent:
        return ObjectEvent(event.object_event(), root / "objectEvent");
      case v1::Event::kAggregationEvent:
        return AggregationEvent(event.aggregation_event(), root / "aggregationEvent");
      case v1::Event::kTransactionEvent:
        return TransactionEvent(event.transaction_event(), root / "transactionEvent");
      case v1::Event::kTransformationEvent:
        return TransformationEvent(event.transformation_event(), root / "transformationEvent");
      case v1::Event::kAssociationEvent:
        return AssociationEvent(event.association_event(), root / "associationEvent");
      case v1::Event::kInspection:
        return Inspection(event.inspection(), root / "inspection");
      case v1::Event::kSamplingResult:
        return SamplingResult(event.sampling_result(), root / "samplingResult");
      case v1::Event::kEnforcementAction:
        return EnforcementAction(event.enforcement_action(), root / "enforcementAction");
      case v1::Event::kRecall:
        return Recall(event.recall(), root / "recall");
      case v1::Event::kRecallRemoval:
        return RecallRemoval(event.recall_removal(), root / "recallRemoval");
      case v1::Event::kCylinderRegistration:
        return CylinderRegistration(event.cylinder_registration(), root / "cylinderRegistration");
      case v1::Event::kCylinderInspection:
        return CylinderInspection(event.cylinder_inspection(), root / "cylinderInspection");
      case v1::Event::kCylinderFill:
        return CylinderFill(event.cylinder_fill(), root / "cylinderFill");
      case v1::Event::BODY_NOT_SET:
        break;
    }
    return Fail(ValidationRule::kMissingField, "",
                "event has no body: set exactly one of objectEvent, aggregationEvent, "
                "transactionEvent, transformationEvent, associationEvent, inspection, "
                "samplingResult, enforcementAction, recall, recallRemoval, "
                "cylinderRegistration, cylinderInspection, cylinderFill");
  }

 private:
  // ----- Field helpers -----------------------------------------------------------------------

  static std::string TooLongMessage(std::string_view value) {
    return "identifier is " + std::to_string(value.size()) + " bytes, want at most " +
           std::to_string(kMaxIdentifierBytes);
  }

  static MaybeViolation Identifier(const std::string& value, const JsonPointer& field, IdKind kind,
                                   Presence presence) {
    if (value.empty()) {
      if (presence == Presence::kOptional) return std::nullopt;
      return Fail(ValidationRule::kMissingField, field, "identifier is required");
    }
    if (value.size() > kMaxIdentifierBytes) {
      return Fail(ValidationRule::kTooLarge, field, TooLongMessage(value));
    }
    Status status;
    switch (kind) {
      case IdKind::kObject:
        status = CheckObjectId(value);
        break;
      case IdKind::kParty:
        status = CheckPartyId(value);
        break;
      case IdKind::kFreeForm:
        status = CheckFreeFormId(value);
        break;
    }
    if (!status.ok()) return Fail(ValidationRule::kBadIdentifier, field, status.message());
    return std::nullopt;
  }

  static MaybeViolation Required(const std::string& value, const JsonPointer& field,
                                 std::string_view what) {
    if (value.empty()) {
      return Fail(ValidationRule::kMissingField, field, std::string(what) + " is required");
    }
    return std::nullopt;
  }

  static MaybeViolation Text(const std::string& value, const JsonPointer& field) {
    if (value.size() > kMaxTextBytes) {
      return Fail(ValidationRule::kTooLarge, field,
                  "text is " + std::to_string(value.size()) + " bytes, want at most " +
                      std::to_string(kMaxTextBytes));
    }
    return std::nullopt;
  }

  static MaybeViolation ListSize(int size, const JsonPointer& field) {
    if (static_cast<size_t>(size) > kMaxListItems) {
      return Fail(ValidationRule::kTooLarge, field,
                  "list has " + std::to_string(size) + " entries, want at most " +
                      std::to_string(kMaxListItems));
    }
    return std::nullopt;
  }

  // Validates every entry of an identifier list; entries must be non-empty and unique.
  static MaybeViolation IdList(const pb::RepeatedPtrField<std::string>& ids,
                               const JsonPointer& field, IdKind kind) {
    TL_RETURN_IF_VIOLATION(ListSize(ids.size(), field));
    // Repeats: short lists (most) are scanned, which allocates nothing; longer ones use a map.
    const bool scan = ids.size() <= kMaxScannedListItems;
    std::unordered_map<std::string_view, int> first_index;
    if (!scan) first_index.reserve(static_cast<size_t>(ids.size()));
    for (int i = 0; i < ids.size(); ++i) {
      const JsonPointer entry_field = field / i;
      if (ids[i].empty()) {
        return Fail(ValidationRule::kBadIdentifier, entry_field, "empty identifier");
      }
      TL_RETURN_IF_VIOLATION(Identifier(ids[i], entry_field, kind, Presence::kRequired));
      int first = -1;
      if (scan) {
        for (int j = 0; j < i && first < 0; ++j) {
          if (ids[j] == ids[i]) first = j;
        }
      } else if (const auto [it, inserted] = first_index.emplace(ids[i], i); !inserted) {
        first = it->second;
      }
      if (first >= 0) {
        return Fail(ValidationRule::kBadValue, entry_field,
                    Quote(ids[i]) + " repeats " + (field / first).ToString());
      }
    }
    return std::nullopt;
  }

  MaybeViolation Time(bool present, const pb::Timestamp& time, const JsonPointer& field,
                      Presence presence, TimeRule rule) const {
    if (!present) {
      if (presence == Presence::kOptional) return std::nullopt;
      return Fail(ValidationRule::kMissingField, field, "time is required");
    }
    if (time.seconds() < kMinTimestampSeconds || time.seconds() > kMaxTimestampSeconds ||
        time.nanos() < 0 || time.nanos() > kMaxNanos) {
      return Fail(ValidationRule::kBadValue, field,
                  "timestamp seconds=" + std::to_string(time.seconds()) +
                      " nanos=" + std::to_string(time.nanos()) +
                      " is outside 0001-01-01..9999-12-31");
    }
    if (rule == TimeRule::kNotInFuture) {
      const int64_t micros = time.seconds() * kMicrosPerSecond + time.nanos() / 1000;
      const int64_t latest = ctx_.now_unix_micros + ctx_.max_future_skew_micros;
      if (micros > latest) {
        const pb::Timestamp now = pb::util::TimeUtil::MicrosecondsToTimestamp(ctx_.now_unix_micros);
        return Fail(ValidationRule::kEventTimeInFuture, field,
                    "time " + pb::util::TimeUtil::ToString(time) + " is " +
                        FormatNumber(static_cast<double>(micros - ctx_.now_unix_micros) /
                                     kMicrosPerSecond) +
                        "s ahead of now " + pb::util::TimeUtil::ToString(now) +
                        ", want at most " +
                        FormatNumber(static_cast<double>(ctx_.max_future_skew_micros) /
                                     kMicrosPerSecond) +
                        "s");
      }
    }
    return std::nullopt;
  }

  static MaybeViolation Date(const std::string& value, const JsonPointer& field,
                             Presence presence) {
    if (value.empty()) {
      if (presence == Presence::kOptional) return std::nullopt;
      return Fail(ValidationRule::kMissingField, field, "date is required");
    }
    if (!IsCalendarDate(value)) {
      return Fail(ValidationRule::kBadValue, field,
                  "date " + Quote(value) + ": want a calendar date YYYY-MM-DD");
    }
    return std::nullopt;
  }

  // An enum field: UNSPECIFIED (0) counts as missing; numbers unknown to this build (possible
  // in protobuf binary) are bad values.
  static MaybeViolation Enum(int value, bool (*is_valid)(int), const JsonPointer& field,
                             Presence presence) {
    if (value == 0) {
      if (presence == Presence::kOptional) return std::nullopt;
      return Fail(ValidationRule::kMissingField, field, "value is required (not UNSPECIFIED)");
    }
    if (!is_valid(value)) {
      return Fail(ValidationRule::kBadValue, field,
                  "enum number " + std::to_string(value) + " is not defined");
    }
    return std::nullopt;
  }

  // A CBV vocabulary word or a URI; empty is allowed.
  template <size_t N>
  static MaybeViolation Vocabulary(const std::string& value, const JsonPointer& field,
                                   const std::array<std::string_view, N>& words,
                                   std::string_view what) {
    if (value.empty() || Contains(words, value)) return std::nullopt;
    if (value.size() > kMaxIdentifierBytes) {
      return Fail(ValidationRule::kTooLarge, field, TooLongMessage(value));
    }
    if (IsUri(value)) return std::nullopt;
    return Fail(ValidationRule::kBadValue, field,
                Quote(value) + ": want a CBV 2.0 " + std::string(what) + " (e.g. " +
                    std::string(words[0]) + ") or a URI");
  }

  static MaybeViolation PositiveAmount(double value, const JsonPointer& field,
                                       std::string_view what) {
    if (value == 0) {
      return Fail(ValidationRule::kMissingField, field,
                  std::string(what) + " is required and must be > 0");
    }
    if (!std::isfinite(value) || value < 0) {
      return Fail(ValidationRule::kBadQuantity, field,
                  std::string(what) + " " + FormatNumber(value) + ": want a finite number > 0");
    }
    return std::nullopt;
  }

  static MaybeViolation Uom(const std::string& uom, const JsonPointer& field) {
    if (!uom.empty() && !IsUnitOfMeasure(uom)) {
      return Fail(ValidationRule::kBadValue, field,
                  "unit " + Quote(uom) + ": want a UN/CEFACT Rec. 20 code such as KGM or LTR");
    }
    return std::nullopt;
  }

  static MaybeViolation Quantity(const v1::QuantityElement& element, const JsonPointer& field) {
    TL_RETURN_IF_VIOLATION(
        Identifier(element.epc_class(), field / "epcClass", IdKind::kObject, Presence::kRequired));
    if (element.has_quantity()) {
      const double quantity = element.quantity();
      if (!std::isfinite(quantity) || quantity <= 0) {
        return Fail(ValidationRule::kBadQuantity, field / "quantity",
                    "quantity " + FormatNumber(quantity) + ": want a finite number > 0");
      }
      if (element.uom().empty() && quantity != std::floor(quantity)) {
        return Fail(ValidationRule::kBadQuantity, field / "quantity",
                    "quantity " + FormatNumber(quantity) +
                        " without uom counts items: want a whole number");
      }
    } else if (!element.uom().empty()) {
      return Fail(ValidationRule::kBadQuantity, field / "quantity",
                  "uom " + element.uom() + " given without a quantity");
    }
    return Uom(element.uom(), field / "uom");
  }

  static MaybeViolation QuantityList(const pb::RepeatedPtrField<v1::QuantityElement>& list,
                                     const JsonPointer& field) {
    TL_RETURN_IF_VIOLATION(ListSize(list.size(), field));
    for (int i = 0; i < list.size(); ++i) {
      TL_RETURN_IF_VIOLATION(Quantity(list[i], field / i));
    }
    return std::nullopt;
  }

  static MaybeViolation Location(bool present, const v1::Location& location,
                                 const JsonPointer& field) {
    if (!present) return std::nullopt;
    return Identifier(location.id(), field / "id", IdKind::kObject, Presence::kRequired);
  }

  static MaybeViolation Ilmd(const v1::Ilmd& ilmd, const JsonPointer& field) {
    if (ilmd.lot_number().size() > kMaxIdentifierBytes) {
      return Fail(ValidationRule::kTooLarge, field / "lotNumber",
                  TooLongMessage(ilmd.lot_number()));
    }
    TL_RETURN_IF_VIOLATION(
        Date(ilmd.item_expiration_date(), field / "itemExpirationDate", Presence::kOptional));
    TL_RETURN_IF_VIOLATION(
        Date(ilmd.production_date(), field / "productionDate", Presence::kOptional));
    TL_RETURN_IF_VIOLATION(
        Date(ilmd.best_before_date(), field / "bestBeforeDate", Presence::kOptional));
    return Date(ilmd.sell_by_date(), field / "sellByDate", Presence::kOptional);
  }

  static MaybeViolation FiniteOptional(bool present, double value, const JsonPointer& field) {
    if (present && !std::isfinite(value)) {
      return Fail(ValidationRule::kBadValue, field,
                  "value " + FormatNumber(value) + ": want a finite number");
    }
    return std::nullopt;
  }

  MaybeViolation SensorElement(const v1::SensorElement& element, const JsonPointer& field) const {
    const JsonPointer metadata_field = field / "sensorMetadata";
    const v1::SensorMetadata& metadata = element.sensor_metadata();
    TL_RETURN_IF_VIOLATION(Time(metadata.has_time(), metadata.time(), metadata_field / "time",
                                Presence::kOptional, TimeRule::kAny));
    TL_RETURN_IF_VIOLATION(Time(metadata.has_start_time(), metadata.start_time(),
                                metadata_field / "startTime", Presence::kOptional, TimeRule::kAny));
    TL_RETURN_IF_VIOLATION(Time(metadata.has_end_time(), metadata.end_time(),
                                metadata_field / "endTime", Presence::kOptional, TimeRule::kAny));
    const JsonPointer reports_field = field / "sensorReports";
    if (element.sensor_reports().empty()) {
      return Fail(ValidationRule::kMissingField, reports_field,
                  "a sensor element needs at least one sensor report");
    }
    TL_RETURN_IF_VIOLATION(ListSize(element.sensor_reports_size(), reports_field));
    for (int i = 0; i < element.sensor_reports_size(); ++i) {
      const v1::SensorReport& report = element.sensor_reports(i);
      const JsonPointer report_field = reports_field / i;
      TL_RETURN_IF_VIOLATION(Required(report.type(), report_field / "type", "sensor report type"));
      TL_RETURN_IF_VIOLATION(Time(report.has_time(), report.time(), report_field / "time",
                                  Presence::kOptional, TimeRule::kAny));
      TL_RETURN_IF_VIOLATION(
          FiniteOptional(report.has_value(), report.value(), report_field / "value"));
      if (!IsHexString(report.hex_binary_value())) {
        return Fail(ValidationRule::kBadValue, report_field / "hexBinaryValue",
                    "want hexadecimal digits");
      }
      TL_RETURN_IF_VIOLATION(
          FiniteOptional(report.has_min_value(), report.min_value(), report_field / "minValue"));
      TL_RETURN_IF_VIOLATION(
          FiniteOptional(report.has_max_value(), report.max_value(), report_field / "maxValue"));
      TL_RETURN_IF_VIOLATION(
          FiniteOptional(report.has_mean_value(), report.mean_value(), report_field / "meanValue"));
      TL_RETURN_IF_VIOLATION(
          FiniteOptional(report.has_s_dev(), report.s_dev(), report_field / "sDev"));
      TL_RETURN_IF_VIOLATION(
          FiniteOptional(report.has_perc_rank(), report.perc_rank(), report_field / "percRank"));
      TL_RETURN_IF_VIOLATION(
          FiniteOptional(report.has_perc_value(), report.perc_value(), report_field / "percValue"));
    }
    return std::nullopt;
  }

  MaybeViolation SourceDestinationList(const pb::RepeatedPtrField<v1::SourceDestination>& list,
                                       const JsonPointer& field) const {
    TL_RETURN_IF_VIOLATION(ListSize(list.size(), field));
    for (int i = 0; i < list.size(); ++i) {
      const JsonPointer entry = field / i;
      TL_RETURN_IF_VIOLATION(Required(list[i].type(), entry / "type", "type"));
      TL_RETURN_IF_VIOLATION(Vocabulary(list[i].type(), entry / "type", kCbvSourceDestinationTypes,
                                        "source/destination type"));
      TL_RETURN_IF_VIOLATION(
          Identifier(list[i].id(), entry / "id", IdKind::kObject, Presence::kRequired));
    }
    return std::nullopt;
  }

  // The fields every EPCIS event carries, under `<base>/common`. An absent `common` is
  // reported as its missing eventTime.
  MaybeViolation Common(const v1::EpcisCommon& common, const JsonPointer& base,
                        const std::string& event_id) const {
    const JsonPointer field = base / "common";
    TL_RETURN_IF_VIOLATION(Time(common.has_event_time(), common.event_time(), field / "eventTime",
                                Presence::kRequired, TimeRule::kNotInFuture));
    if (!common.event_time_zone_offset().empty() &&
        !IsTimeZoneOffset(common.event_time_zone_offset())) {
      return Fail(ValidationRule::kBadValue, field / "eventTimeZoneOffset",
                  "offset " + Quote(common.event_time_zone_offset()) +
                      ": want [+-]HH:MM between -14:00 and +14:00");
    }
    TL_RETURN_IF_VIOLATION(Time(common.has_record_time(), common.record_time(),
                                field / "recordTime", Presence::kOptional, TimeRule::kAny));

    const JsonPointer certification_field = field / "certificationInfo";
    TL_RETURN_IF_VIOLATION(ListSize(common.certification_info_size(), certification_field));
    for (int i = 0; i < common.certification_info_size(); ++i) {
      const std::string& uri = common.certification_info(i);
      if (uri.size() > kMaxIdentifierBytes) {
        return Fail(ValidationRule::kTooLarge, certification_field / i, TooLongMessage(uri));
      }
      if (!IsUri(uri)) {
        return Fail(ValidationRule::kBadValue, certification_field / i,
                    Quote(uri) + ": want a certificate URI");
      }
    }

    if (common.has_error_declaration()) {
      const v1::ErrorDeclaration& declaration = common.error_declaration();
      const JsonPointer declaration_field = field / "errorDeclaration";
      TL_RETURN_IF_VIOLATION(
          Time(declaration.has_declaration_time(), declaration.declaration_time(),
               declaration_field / "declarationTime", Presence::kRequired, TimeRule::kNotInFuture));
      const JsonPointer erroneous_field = declaration_field / "erroneousEventId";
      TL_RETURN_IF_VIOLATION(
          Required(declaration.erroneous_event_id(), erroneous_field, "erroneous event id"));
      if (declaration.erroneous_event_id().size() > kMaxIdentifierBytes) {
        return Fail(ValidationRule::kTooLarge, erroneous_field,
                    TooLongMessage(declaration.erroneous_event_id()));
      }
      if (declaration.erroneous_event_id() == event_id) {
        return Fail(ValidationRule::kBadValue, erroneous_field,
                    "an event cannot declare itself erroneous: give the declaration its own "
                    "eventId");
      }
      TL_RETURN_IF_VIOLATION(Vocabulary(declaration.reason(), declaration_field / "reason",
                                        kCbvErrorReasons, "error reason"));
      const JsonPointer corrective_field = declaration_field / "correctiveEventIds";
      TL_RETURN_IF_VIOLATION(ListSize(declaration.corrective_event_ids_size(), corrective_field));
      for (int i = 0; i < declaration.corrective_event_ids_size(); ++i) {
        const std::string& id = declaration.corrective_event_ids(i);
        TL_RETURN_IF_VIOLATION(Required(id, corrective_field / i, "corrective event id"));
        if (id.size() > kMaxIdentifierBytes) {
          return Fail(ValidationRule::kTooLarge, corrective_field / i, TooLongMessage(id));
        }
      }
    }

    TL_RETURN_IF_VIOLATION(
        Location(common.has_read_point(), common.read_point(), field / "readPoint"));
    TL_RETURN_IF_VIOLATION(
        Location(common.has_biz_location(), common.biz_location(), field / "bizLocation"));
    TL_RETURN_IF_VIOLATION(
        Vocabulary(common.biz_step(), field / "bizStep", kCbvBizSteps, "business step"));
    TL_RETURN_IF_VIOLATION(
        Vocabulary(common.disposition(), field / "disposition", kCbvDispositions, "disposition"));

    const JsonPointer persistent_field = field / "persistentDisposition";
    const v1::PersistentDisposition& persistent = common.persistent_disposition();
    const JsonPointer set_field = persistent_field / "set";
    const JsonPointer unset_field = persistent_field / "unset";
    TL_RETURN_IF_VIOLATION(ListSize(persistent.set_size(), set_field));
    for (int i = 0; i < persistent.set_size(); ++i) {
      TL_RETURN_IF_VIOLATION(Required(persistent.set(i), set_field / i, "disposition"));
      TL_RETURN_IF_VIOLATION(
          Vocabulary(persistent.set(i), set_field / i, kCbvDispositions, "disposition"));
    }
    TL_RETURN_IF_VIOLATION(ListSize(persistent.unset_size(), unset_field));
    for (int i = 0; i < persistent.unset_size(); ++i) {
      TL_RETURN_IF_VIOLATION(Required(persistent.unset(i), unset_field / i, "disposition"));
      TL_RETURN_IF_VIOLATION(
          Vocabulary(persistent.unset(i), unset_field / i, kCbvDispositions, "disposition"));
    }

    const JsonPointer transactions_field = field / "bizTransactionList";
    TL_RETURN_IF_VIOLATION(ListSize(common.biz_transaction_list_size(), transactions_field));
    for (int i = 0; i < common.biz_transaction_list_size(); ++i) {
      const v1::BizTransaction& transaction = common.biz_transaction_list(i);
      const JsonPointer entry = transactions_field / i;
      TL_RETURN_IF_VIOLATION(Vocabulary(transaction.type(), entry / "type", kCbvBizTransactionTypes,
                                        "business transaction type"));
      TL_RETURN_IF_VIOLATION(Identifier(transaction.biz_transaction(), entry / "bizTransaction",
                                        IdKind::kObject, Presence::kRequired));
    }
    TL_RETURN_IF_VIOLATION(SourceDestinationList(common.source_list(), field / "sourceList"));
    TL_RETURN_IF_VIOLATION(
        SourceDestinationList(common.destination_list(), field / "destinationList"));

    const JsonPointer sensors_field = field / "sensorElementList";
    TL_RETURN_IF_VIOLATION(ListSize(common.sensor_element_list_size(), sensors_field));
    for (int i = 0; i < common.sensor_element_list_size(); ++i) {
      TL_RETURN_IF_VIOLATION(SensorElement(common.sensor_element_list(i), sensors_field / i));
    }
    return std::nullopt;
  }

  // ----- EPCIS event types -------------------------------------------------------------------

  MaybeViolation ObjectEvent(const v1::ObjectEvent& event, const JsonPointer& base) const {
    TL_RETURN_IF_VIOLATION(Common(event.common(), base, event_id_));
    TL_RETURN_IF_VIOLATION(
        Enum(event.action(), v1::Action_IsValid, base / "action", Presence::kRequired));
    // EPCIS 2.0 records sensor observations at a place as ObjectEvents naming no object.
    if (event.epc_list().empty() && event.quantity_list().empty() &&
        event.common().sensor_element_list().empty()) {
      return Fail(ValidationRule::kMissingField, base / "epcList",
                  "an ObjectEvent needs at least one EPC or quantity element, or sensor data");
    }
    TL_RETURN_IF_VIOLATION(IdList(event.epc_list(), base / "epcList", IdKind::kObject));
    TL_RETURN_IF_VIOLATION(QuantityList(event.quantity_list(), base / "quantityList"));
    if (event.has_ilmd()) {
      if (event.action() != v1::ACTION_ADD) {
        return Fail(ValidationRule::kBadValue, base / "ilmd",
                    "ilmd is only allowed with action ACTION_ADD (commissioning)");
      }
      TL_RETURN_IF_VIOLATION(Ilmd(event.ilmd(), base / "ilmd"));
    }
    return std::nullopt;
  }

  // AggregationEvent and AssociationEvent: a parent and children.
  template <typename ParentChildEvent>
  MaybeViolation ParentChild(const ParentChildEvent& event, const JsonPointer& base,
                             bool parent_always_required) const {
    TL_RETURN_IF_VIOLATION(Common(event.common(), base, event_id_));
    TL_RETURN_IF_VIOLATION(
        Enum(event.action(), v1::Action_IsValid, base / "action", Presence::kRequired));
    const bool parent_required = parent_always_required || event.action() != v1::ACTION_OBSERVE;
    TL_RETURN_IF_VIOLATION(Identifier(event.parent_id(), base / "parentId", IdKind::kObject,
                                      parent_required ? Presence::kRequired : Presence::kOptional));
    if (event.action() != v1::ACTION_DELETE && event.child_epcs().empty() &&
        event.child_quantity_list().empty()) {
      return Fail(ValidationRule::kMissingField, base / "childEpcs",
                  "ADD and OBSERVE need at least one child EPC or child quantity element");
    }
    TL_RETURN_IF_VIOLATION(IdList(event.child_epcs(), base / "childEpcs", IdKind::kObject));
    return QuantityList(event.child_quantity_list(), base / "childQuantityList");
  }

  MaybeViolation AggregationEvent(const v1::AggregationEvent& event,
                                  const JsonPointer& base) const {
    return ParentChild(event, base, /*parent_always_required=*/false);
  }

  MaybeViolation AssociationEvent(const v1::AssociationEvent& event,
                                  const JsonPointer& base) const {
    return ParentChild(event, base, /*parent_always_required=*/true);
  }

  MaybeViolation TransactionEvent(const v1::TransactionEvent& event,
                                  const JsonPointer& base) const {
    TL_RETURN_IF_VIOLATION(Common(event.common(), base, event_id_));
    if (event.common().biz_transaction_list().empty()) {
      const JsonPointer common_field = base / "common";
      return Fail(ValidationRule::kMissingField, common_field / "bizTransactionList",
                  "a TransactionEvent needs at least one business transaction");
    }
    TL_RETURN_IF_VIOLATION(
        Enum(event.action(), v1::Action_IsValid, base / "action", Presence::kRequired));
    TL_RETURN_IF_VIOLATION(
        Identifier(event.parent_id(), base / "parentId", IdKind::kObject, Presence::kOptional));
    if (event.parent_id().empty() && event.epc_list().empty() && event.quantity_list().empty()) {
      return Fail(ValidationRule::kMissingField, base / "epcList",
                  "a TransactionEvent needs a parent, an EPC or a quantity element");
    }
    TL_RETURN_IF_VIOLATION(IdList(event.epc_list(), base / "epcList", IdKind::kObject));
    return QuantityList(event.quantity_list(), base / "quantityList");
  }

  MaybeViolation TransformationEvent(const v1::TransformationEvent& event,
                                     const JsonPointer& base) const {
    TL_RETURN_IF_VIOLATION(Common(event.common(), base, event_id_));
    if (event.input_epc_list().empty() && event.input_quantity_list().empty()) {
      return Fail(ValidationRule::kMissingField, base / "inputEpcList",
                  "a TransformationEvent needs at least one input EPC or input quantity");
    }
    TL_RETURN_IF_VIOLATION(IdList(event.input_epc_list(), base / "inputEpcList", IdKind::kObject));
    TL_RETURN_IF_VIOLATION(QuantityList(event.input_quantity_list(), base / "inputQuantityList"));
    if (event.output_epc_list().empty() && event.output_quantity_list().empty()) {
      return Fail(ValidationRule::kMissingField, base / "outputEpcList",
                  "a TransformationEvent needs at least one output EPC or output quantity");
    }
    TL_RETURN_IF_VIOLATION(
        IdList(event.output_epc_list(), base / "outputEpcList", IdKind::kObject));
    TL_RETURN_IF_VIOLATION(QuantityList(event.output_quantity_list(), base / "outputQuantityList"));
    TL_RETURN_IF_VIOLATION(Identifier(event.transformation_id(), base / "transformationId",
                                      IdKind::kObject, Presence::kOptional));
    if (event.has_ilmd()) TL_RETURN_IF_VIOLATION(Ilmd(event.ilmd(), base / "ilmd"));
    return std::nullopt;
  }

  // ----- Regulator and domain events ---------------------------------------------------------

  MaybeViolation Inspection(const v1::Inspection& event, const JsonPointer& base) const {
    TL_RETURN_IF_VIOLATION(Identifier(event.enterprise_id(), base / "enterpriseId", IdKind::kParty,
                                      Presence::kRequired));
    const JsonPointer inspectors_field = base / "inspectorIds";
    if (event.inspector_ids().empty()) {
      return Fail(ValidationRule::kMissingField, inspectors_field,
                  "an inspection needs at least one inspector");
    }
    TL_RETURN_IF_VIOLATION(IdList(event.inspector_ids(), inspectors_field, IdKind::kFreeForm));
    TL_RETURN_IF_VIOLATION(
        Enum(event.kind(), v1::Inspection::Kind_IsValid, base / "kind", Presence::kRequired));
    TL_RETURN_IF_VIOLATION(Text(event.location(), base / "location"));
    TL_RETURN_IF_VIOLATION(Time(event.has_inspected_at(), event.inspected_at(),
                                base / "inspectedAt", Presence::kRequired, TimeRule::kNotInFuture));
    TL_RETURN_IF_VIOLATION(Enum(event.outcome(), v1::Inspection::Outcome_IsValid, base / "outcome",
                                Presence::kRequired));
    const JsonPointer findings_field = base / "findings";
    if (event.outcome() != v1::Inspection::OUTCOME_COMPLIANT && event.findings().empty()) {
      return Fail(ValidationRule::kMissingField, findings_field,
                  "an outcome other than OUTCOME_COMPLIANT needs at least one finding");
    }
    TL_RETURN_IF_VIOLATION(ListSize(event.findings_size(), findings_field));
    for (int i = 0; i < event.findings_size(); ++i) {
      const v1::Inspection::Finding& finding = event.findings(i);
      const JsonPointer finding_field = findings_field / i;
      if (finding.code().size() > kMaxIdentifierBytes) {
        return Fail(ValidationRule::kTooLarge, finding_field / "code",
                    TooLongMessage(finding.code()));
      }
      if (finding.code().empty() && finding.description().empty()) {
        return Fail(ValidationRule::kMissingField, finding_field / "description",
                    "a finding needs a code or a description");
      }
      TL_RETURN_IF_VIOLATION(Text(finding.description(), finding_field / "description"));
      TL_RETURN_IF_VIOLATION(Enum(finding.severity(), v1::Severity_IsValid,
                                  finding_field / "severity", Presence::kRequired));
    }
    return Time(event.has_correction_due(), event.correction_due(), base / "correctionDue",
                Presence::kOptional, TimeRule::kAny);
  }

  MaybeViolation SamplingResult(const v1::SamplingResult& event, const JsonPointer& base) const {
    TL_RETURN_IF_VIOLATION(
        Identifier(event.sample_id(), base / "sampleId", IdKind::kFreeForm, Presence::kRequired));
    TL_RETURN_IF_VIOLATION(Identifier(event.enterprise_id(), base / "enterpriseId", IdKind::kParty,
                                      Presence::kRequired));
    if (event.object_ids().empty()) {
      return Fail(ValidationRule::kMissingField, base / "objectIds",
                  "a sampling result needs at least one sampled lot or serial");
    }
    TL_RETURN_IF_VIOLATION(IdList(event.object_ids(), base / "objectIds", IdKind::kObject));
    TL_RETURN_IF_VIOLATION(Text(event.product_name(), base / "productName"));
    TL_RETURN_IF_VIOLATION(Time(event.has_sampled_at(), event.sampled_at(), base / "sampledAt",
                                Presence::kRequired, TimeRule::kNotInFuture));
    TL_RETURN_IF_VIOLATION(Time(event.has_reported_at(), event.reported_at(), base / "reportedAt",
                                Presence::kRequired, TimeRule::kNotInFuture));
    if (pb::util::TimeUtil::TimestampToMicroseconds(event.reported_at()) <
        pb::util::TimeUtil::TimestampToMicroseconds(event.sampled_at())) {
      return Fail(ValidationRule::kBadValue, base / "reportedAt",
                  "reported " + pb::util::TimeUtil::ToString(event.reported_at()) +
                      ", before the sample was taken " +
                      pb::util::TimeUtil::ToString(event.sampled_at()));
    }
    TL_RETURN_IF_VIOLATION(
        Identifier(event.lab_id(), base / "labId", IdKind::kParty, Presence::kRequired));
    TL_RETURN_IF_VIOLATION(
        Identifier(event.report_id(), base / "reportId", IdKind::kFreeForm, Presence::kOptional));
    TL_RETURN_IF_VIOLATION(Enum(event.verdict(), v1::SamplingResult::Verdict_IsValid,
                                base / "verdict", Presence::kRequired));
    const JsonPointer failed_field = base / "failedItems";
    if (event.verdict() == v1::SamplingResult::VERDICT_UNQUALIFIED &&
        event.failed_items().empty()) {
      return Fail(ValidationRule::kMissingField, failed_field,
                  "an UNQUALIFIED verdict needs at least one failed item");
    }
    if (event.verdict() == v1::SamplingResult::VERDICT_QUALIFIED &&
        !event.failed_items().empty()) {
      return Fail(ValidationRule::kBadValue, failed_field / 0,
                  "a QUALIFIED verdict cannot have failed items");
    }
    TL_RETURN_IF_VIOLATION(ListSize(event.failed_items_size(), failed_field));
    for (int i = 0; i < event.failed_items_size(); ++i) {
      const v1::SamplingResult::FailedItem& item = event.failed_items(i);
      const JsonPointer item_field = failed_field / i;
      TL_RETURN_IF_VIOLATION(Required(item.item(), item_field / "item", "test item"));
      TL_RETURN_IF_VIOLATION(Text(item.item(), item_field / "item"));
      TL_RETURN_IF_VIOLATION(Text(item.measured(), item_field / "measured"));
      TL_RETURN_IF_VIOLATION(Text(item.limit(), item_field / "limit"));
      TL_RETURN_IF_VIOLATION(Text(item.uom(), item_field / "uom"));
      TL_RETURN_IF_VIOLATION(Text(item.standard(), item_field / "standard"));
    }
    return std::nullopt;
  }

  MaybeViolation EnforcementAction(const v1::EnforcementAction& event,
                                   const JsonPointer& base) const {
    TL_RETURN_IF_VIOLATION(
        Identifier(event.case_id(), base / "caseId", IdKind::kFreeForm, Presence::kRequired));
    TL_RETURN_IF_VIOLATION(Identifier(event.enterprise_id(), base / "enterpriseId", IdKind::kParty,
                                      Presence::kRequired));
    TL_RETURN_IF_VIOLATION(Enum(event.kind(), v1::EnforcementAction::Kind_IsValid, base / "kind",
                                Presence::kRequired));
    TL_RETURN_IF_VIOLATION(
        Enum(event.severity(), v1::Severity_IsValid, base / "severity", Presence::kOptional));
    const JsonPointer fine_field = base / "fineAmountFen";
    if (event.fine_amount_fen() < 0) {
      return Fail(ValidationRule::kBadQuantity, fine_field,
                  "fine " + std::to_string(event.fine_amount_fen()) + " fen: want >= 0");
    }
    if (event.kind() == v1::EnforcementAction::KIND_FINE && event.fine_amount_fen() == 0) {
      return Fail(ValidationRule::kBadQuantity, fine_field, "KIND_FINE needs a fine > 0 fen");
    }
    TL_RETURN_IF_VIOLATION(Text(event.legal_basis(), base / "legalBasis"));
    TL_RETURN_IF_VIOLATION(Time(event.has_decided_at(), event.decided_at(), base / "decidedAt",
                                Presence::kRequired, TimeRule::kNotInFuture));
    const JsonPointer related_field = base / "relatedEventIds";
    TL_RETURN_IF_VIOLATION(ListSize(event.related_event_ids_size(), related_field));
    for (int i = 0; i < event.related_event_ids_size(); ++i) {
      const std::string& id = event.related_event_ids(i);
      TL_RETURN_IF_VIOLATION(Required(id, related_field / i, "related event id"));
      if (id.size() > kMaxIdentifierBytes) {
        return Fail(ValidationRule::kTooLarge, related_field / i, TooLongMessage(id));
      }
    }
    return std::nullopt;
  }

  MaybeViolation Recall(const v1::Recall& event, const JsonPointer& base) const {
    TL_RETURN_IF_VIOLATION(
        Identifier(event.recall_id(), base / "recallId", IdKind::kFreeForm, Presence::kRequired));
    TL_RETURN_IF_VIOLATION(
        Enum(event.phase(), v1::Recall::Phase_IsValid, base / "phase", Presence::kRequired));
    const bool opened = event.phase() == v1::Recall::PHASE_OPENED;
    TL_RETURN_IF_VIOLATION(Enum(event.level(), v1::Recall::Level_IsValid, base / "level",
                                opened ? Presence::kRequired : Presence::kOptional));
    TL_RETURN_IF_VIOLATION(Text(event.reason(), base / "reason"));
    if (opened && event.root_ids().empty()) {
      return Fail(ValidationRule::kMissingField, base / "rootIds",
                  "PHASE_OPENED needs at least one recalled lot or serial");
    }
    TL_RETURN_IF_VIOLATION(IdList(event.root_ids(), base / "rootIds", IdKind::kObject));
    TL_RETURN_IF_VIOLATION(Time(event.has_deadline(), event.deadline(), base / "deadline",
                                Presence::kOptional, TimeRule::kAny));
    TL_RETURN_IF_VIOLATION(
        Identifier(event.issued_by(), base / "issuedBy", IdKind::kParty, Presence::kOptional));
    return Time(event.has_issued_at(), event.issued_at(), base / "issuedAt", Presence::kRequired,
                TimeRule::kNotInFuture);
  }

  MaybeViolation RecallRemoval(const v1::RecallRemoval& event, const JsonPointer& base) const {
    TL_RETURN_IF_VIOLATION(
        Identifier(event.recall_id(), base / "recallId", IdKind::kFreeForm, Presence::kRequired));
    TL_RETURN_IF_VIOLATION(
        Identifier(event.holder_id(), base / "holderId", IdKind::kParty, Presence::kRequired));
    TL_RETURN_IF_VIOLATION(
        Identifier(event.object_id(), base / "objectId", IdKind::kObject, Presence::kRequired));
    TL_RETURN_IF_VIOLATION(PositiveAmount(event.quantity(), base / "quantity", "quantity"));
    if (event.uom().empty() && event.quantity() != std::floor(event.quantity())) {
      return Fail(ValidationRule::kBadQuantity, base / "quantity",
                  "quantity " + FormatNumber(event.quantity()) +
                      " without uom counts items: want a whole number");
    }
    TL_RETURN_IF_VIOLATION(Uom(event.uom(), base / "uom"));
    TL_RETURN_IF_VIOLATION(Text(event.location(), base / "location"));
    TL_RETURN_IF_VIOLATION(Time(event.has_removed_at(), event.removed_at(), base / "removedAt",
                                Presence::kRequired, TimeRule::kNotInFuture));
    return Enum(event.disposition(), v1::RecallRemoval::Disposition_IsValid, base / "disposition",
                Presence::kOptional);
  }

  MaybeViolation CylinderRegistration(const v1::CylinderRegistration& event,
                                      const JsonPointer& base) const {
    TL_RETURN_IF_VIOLATION(Identifier(event.cylinder_id(), base / "cylinderId", IdKind::kFreeForm,
                                      Presence::kRequired));
    TL_RETURN_IF_VIOLATION(Identifier(event.owner_station_id(), base / "ownerStationId",
                                      IdKind::kParty, Presence::kRequired));
    TL_RETURN_IF_VIOLATION(Text(event.manufacturer(), base / "manufacturer"));
    TL_RETURN_IF_VIOLATION(
        Date(event.manufactured_on(), base / "manufacturedOn", Presence::kOptional));
    TL_RETURN_IF_VIOLATION(Required(event.medium(), base / "medium", "filling medium"));
    TL_RETURN_IF_VIOLATION(Text(event.medium(), base / "medium"));
    TL_RETURN_IF_VIOLATION(
        PositiveAmount(event.capacity_liters(), base / "capacityLiters", "capacity"));
    TL_RETURN_IF_VIOLATION(
        Date(event.last_inspected_on(), base / "lastInspectedOn", Presence::kOptional));
    TL_RETURN_IF_VIOLATION(
        Date(event.next_inspection_due(), base / "nextInspectionDue", Presence::kOptional));
    // Valid "YYYY-MM-DD" dates order like strings.
    if (!event.last_inspected_on().empty() && !event.next_inspection_due().empty() &&
        event.next_inspection_due() <= event.last_inspected_on()) {
      return Fail(ValidationRule::kBadValue, base / "nextInspectionDue",
                  "next inspection due " + event.next_inspection_due() +
                      ", want after the last inspection " + event.last_inspected_on());
    }
    return Time(event.has_registered_at(), event.registered_at(), base / "registeredAt",
                Presence::kRequired, TimeRule::kNotInFuture);
  }

  MaybeViolation CylinderInspection(const v1::CylinderInspection& event,
                                    const JsonPointer& base) const {
    TL_RETURN_IF_VIOLATION(Identifier(event.cylinder_id(), base / "cylinderId", IdKind::kFreeForm,
                                      Presence::kRequired));
    TL_RETURN_IF_VIOLATION(
        Identifier(event.agency_id(), base / "agencyId", IdKind::kParty, Presence::kRequired));
    TL_RETURN_IF_VIOLATION(Time(event.has_inspected_at(), event.inspected_at(),
                                base / "inspectedAt", Presence::kRequired, TimeRule::kNotInFuture));
    TL_RETURN_IF_VIOLATION(Enum(event.result(), v1::CylinderInspection::Result_IsValid,
                                base / "result", Presence::kRequired));
    TL_RETURN_IF_VIOLATION(Date(event.next_inspection_due(), base / "nextInspectionDue",
                                event.result() == v1::CylinderInspection::RESULT_PASS
                                    ? Presence::kRequired
                                    : Presence::kOptional));
    return Identifier(event.report_id(), base / "reportId", IdKind::kFreeForm, Presence::kOptional);
  }

  MaybeViolation CylinderFill(const v1::CylinderFill& event, const JsonPointer& base) const {
    TL_RETURN_IF_VIOLATION(Identifier(event.cylinder_id(), base / "cylinderId", IdKind::kFreeForm,
                                      Presence::kRequired));
    TL_RETURN_IF_VIOLATION(
        Identifier(event.station_id(), base / "stationId", IdKind::kParty, Presence::kRequired));
    TL_RETURN_IF_VIOLATION(Time(event.has_filled_at(), event.filled_at(), base / "filledAt",
                                Presence::kRequired, TimeRule::kNotInFuture));
    TL_RETURN_IF_VIOLATION(Text(event.medium(), base / "medium"));
    if (event.net_mass_kg() != 0) {
      TL_RETURN_IF_VIOLATION(PositiveAmount(event.net_mass_kg(), base / "netMassKg", "net mass"));
    }
    TL_RETURN_IF_VIOLATION(Identifier(event.operator_id(), base / "operatorId", IdKind::kFreeForm,
                                      Presence::kOptional));
    return Identifier(event.scale_id(), base / "scaleId", IdKind::kFreeForm, Presence::kOptional);
  }

  const ValidationContext& ctx_;
  const v1::Event& event_;
  const std::string& event_id_;
};

// Appends ids in order, skipping empty ones and repeats.
class IdCollector {
 public:
  void Add(const std::string& id) {
    if (id.empty() || !seen_.insert(id).second) return;
    ids_.push_back(id);
  }
  void AddAll(const pb::RepeatedPtrField<std::string>& ids) {
    for (const std::string& id : ids) Add(id);
  }
  void AddClasses(const pb::RepeatedPtrField<v1::QuantityElement>& list) {
    for (const v1::QuantityElement& element : list) Add(element.epc_class());
  }
  std::vector<std::string> Take() { return std::move(ids_); }

 private:
  std::unordered_set<std::string> seen_;
  std::vector<std::string> ids_;
};

// Protobuf binary re-encodes to at most this many times its input bytes, for the message types
// KeepsReencodingGrowth accepts; see SizeOfDecoded.
constexpr size_t kMaxReencodingGrowth = 3;

// True if every message type reachable from `message` is proto3 and its map fields, if any,
// have string keys and message or string values (google.protobuf.Struct): the types for which
// kMaxReencodingGrowth holds.
bool KeepsReencodingGrowth(const pb::Descriptor* message,
                           std::unordered_set<const pb::Descriptor*>& visited) {
  if (!visited.insert(message).second) return true;
  if (message->file()->syntax() != pb::FileDescriptor::SYNTAX_PROTO3) return false;
  for (int i = 0; i < message->field_count(); ++i) {
    const pb::FieldDescriptor* field = message->field(i);
    if (field->is_map()) {
      const pb::FieldDescriptor* key = field->message_type()->map_key();
      const pb::FieldDescriptor* value = field->message_type()->map_value();
      if (key->type() != pb::FieldDescriptor::TYPE_STRING) return false;
      if (value->type() != pb::FieldDescriptor::TYPE_MESSAGE &&
          value->type() != pb::FieldDescriptor::TYPE_STRING) {
        return false;
      }
    }
    if (field->message_type() != nullptr &&
        !KeepsReencodingGrowth(field->message_type(), visited)) {
      return false;
    }
  }
  return true;
}

// How an event decoded from `bytes` must be checked against kMaxEventBytes. Measuring
// (ByteSizeLong) walks the whole event again, so it is skipped where the input bytes settle it.
//
// A message parsed from N bytes of protobuf binary (no unknown fields: DecodeEvent rejects
// them) re-encodes to at most kMaxReencodingGrowth * N bytes. Each field is written back from
// its own input bytes; default values and overwritten repeats drop out. What grows: a negative
// int32 sent as a 5-byte varint is written back as 10 bytes; unpacked repeated scalars are
// packed, adding a length of at most as many bytes as the tags they drop; merged repeats of a
// sub-message get one length varint, at most a byte longer than theirs together; each at most
// doubles the bytes it comes from. A map entry (2 bytes or more: tag and length) gets its
// omitted key and value written back, 2 bytes each for a string key and a string or message
// value: an empty entry goes from 2 bytes to 6. So an event of at most kMaxEventBytes / 3
// protobuf bytes cannot break the limit.
EventSize SizeOfDecoded(std::string_view bytes, v1::EventEncoding encoding) {
  static const bool kEventKeepsGrowth = [] {
    std::unordered_set<const pb::Descriptor*> visited;
    return KeepsReencodingGrowth(v1::Event::descriptor(), visited);
  }();
  if (encoding == v1::EVENT_ENCODING_PROTOBUF && kEventKeepsGrowth &&
      bytes.size() <= kMaxEventBytes / kMaxReencodingGrowth) {
    return EventSize::kKnownWithinLimit;
  }
  return EventSize::kMeasure;
}

// Validates an event decoded from `bytes` (DecodeEvent succeeded).
std::optional<Violation> ValidateDecoded(const v1::Event& event, std::string_view bytes,
                                         v1::EventEncoding encoding, const ValidationContext& ctx) {
  const EventSize event_size = SizeOfDecoded(bytes, encoding);
  // Pairs with the bound above: it must hold wherever we rely on it.
  TL_DEBUG_ASSERT(event_size == EventSize::kMeasure ||
                  event.ByteSizeLong() <= kMaxReencodingGrowth * bytes.size());
  return Checker(ctx, event).Run(event_size);
}

Violation DecodeFailure(const Status& status, size_t size) {
  if (size > kMaxEventBytes) {
    return Violation{ValidationRule::kTooLarge, "", status.message()};
  }
  return Violation{ValidationRule::kUnparsable, "", status.message()};
}

}  // namespace

std::string_view ValidationRuleName(ValidationRule rule) {
  switch (rule) {
    case ValidationRule::kUnparsable: return "unparsable";
    case ValidationRule::kMissingField: return "missing_field";
    case ValidationRule::kBadIdentifier: return "bad_identifier";
    case ValidationRule::kBadQuantity: return "bad_quantity";
    case ValidationRule::kEventTimeInFuture: return "event_time_in_future";
    case ValidationRule::kUnknownSubmitter: return "unknown_submitter";
    case ValidationRule::kBadValue: return "bad_value";
    case ValidationRule::kTooLarge: return "too_large";
    case ValidationRule::kSubmitterMismatch: return "submitter_mismatch";
  }
  return "unknown";
}

std::optional<Violation> ValidateEvent(const v1::Event& event, const ValidationContext& ctx) {
  return Checker(ctx, event).Run(EventSize::kMeasure);
}

std::variant<v1::Event, Violation> DecodeAndValidate(std::string_view bytes,
                                                     v1::EventEncoding encoding,
                                                     const ValidationContext& ctx) {
  Result<v1::Event> decoded = DecodeEvent(bytes, encoding);
  if (!decoded.ok()) return DecodeFailure(decoded.status(), bytes.size());
  if (std::optional<Violation> violation = ValidateDecoded(*decoded, bytes, encoding, ctx)) {
    return *std::move(violation);
  }
  return std::move(decoded).value();
}

std::variant<v1::Event, Violation> DecodeAndValidateAs(std::string_view bytes,
                                                       v1::EventEncoding encoding,
                                                       std::string_view submitter_id,
                                                       const ValidationContext& ctx) {
  Result<v1::Event> decoded = DecodeEvent(bytes, encoding);
  if (!decoded.ok()) return DecodeFailure(decoded.status(), bytes.size());
  v1::Event& event = *decoded;
  if (encoding == v1::EVENT_ENCODING_EPCIS_JSON) {
    event.set_submitter_id(std::string(submitter_id));
  } else if (event.submitter_id().empty()) {
    return Violation{ValidationRule::kMissingField, "/submitterId", "identifier is required"};
  } else if (event.submitter_id() != submitter_id) {
    return Violation{ValidationRule::kSubmitterMismatch, "/submitterId",
                     "submitterId " + Quote(event.submitter_id()) +
                         ", want the authenticated party " + Quote(submitter_id)};
  }
  // SizeOfDecoded trusts only protobuf binary, which reaches here unchanged.
  if (std::optional<Violation> violation = ValidateDecoded(event, bytes, encoding, ctx)) {
    return *std::move(violation);
  }
  return std::move(decoded).value();
}

std::vector<std::string> ObjectIdsOf(const v1::Event& event) {
  IdCollector ids;
  switch (event.body_case()) {
    case v1::Event::kObjectEvent:
      ids.AddAll(event.object_event().epc_list());
      ids.AddClasses(event.object_event().quantity_list());
      break;
    case v1::Event::kAggregationEvent:
      ids.Add(event.aggregation_event().parent_id());
      ids.AddAll(event.aggregation_event().child_epcs());
      ids.AddClasses(event.aggregation_event().child_quantity_list());
      break;
    case v1::Event::kTransactionEvent:
      ids.Add(event.transaction_event().parent_id());
      ids.AddAll(event.transaction_event().epc_list());
      ids.AddClasses(event.transaction_event().quantity_list());
      break;
    case v1::Event::kTransformationEvent:
      ids.AddAll(event.transformation_event().output_epc_list());
      ids.AddClasses(event.transformation_event().output_quantity_list());
      ids.AddAll(event.transformation_event().input_epc_list());
      ids.AddClasses(event.transformation_event().input_quantity_list());
      break;
    case v1::Event::kAssociationEvent:
      ids.Add(event.association_event().parent_id());
      ids.AddAll(event.association_event().child_epcs());
      ids.AddClasses(event.association_event().child_quantity_list());
      break;
    case v1::Event::kInspection:
      ids.Add(event.inspection().enterprise_id());
      break;
    case v1::Event::kSamplingResult:
      ids.AddAll(event.sampling_result().object_ids());
      ids.Add(event.sampling_result().enterprise_id());
      break;
    case v1::Event::kEnforcementAction:
      ids.Add(event.enforcement_action().enterprise_id());
      break;
    case v1::Event::kRecall:
      ids.Add(event.recall().recall_id());
      ids.AddAll(event.recall().root_ids());
      break;
    case v1::Event::kRecallRemoval:
      ids.Add(event.recall_removal().object_id());
      ids.Add(event.recall_removal().recall_id());
      break;
    case v1::Event::kCylinderRegistration:
      ids.Add(event.cylinder_registration().cylinder_id());
      break;
    case v1::Event::kCylinderInspection:
      ids.Add(event.cylinder_inspection().cylinder_id());
      break;
    case v1::Event::kCylinderFill:
      ids.Add(event.cylinder_fill().cylinder_id());
      break;
    case v1::Event::BODY_NOT_SET:
      break;
  }
  return ids.Take();
}

}  // namespace traceledger::ingest
