#include "projections/oversight/cylinders.h"

#include <algorithm>
#include <deque>
#include <utility>
#include <vector>

#include "ledger/base/encoding.h"
#include "projections/keys.h"

namespace traceledger::projections {
namespace {

// Version 1: the first layout (README.md). 2: a fill rewrites the cylinder's small "g" row, not
// its registry row.
constexpr uint32_t kCylindersVersion = 2;
constexpr int64_t kMicrosPerDay = int64_t{86400} * 1000000;

std::string RecordKey(std::string_view cylinder) {
  return Key("r", 1 + StrBytes(cylinder)).Str(cylinder).str();
}
std::string FillCountsKey(std::string_view cylinder) {
  return Key("g", 1 + StrBytes(cylinder)).Str(cylinder).str();
}
std::string FillKey(std::string_view cylinder, uint64_t index) {
  return Key("f", 1 + StrBytes(cylinder) + kU64Bytes).Str(cylinder).U64(index).str();
}
constexpr std::string_view kAlertCountKey = "n";
std::string AlertKey(uint64_t index) { return Key("a").U64(index).str(); }
std::string CylinderAlertPrefix(std::string_view cylinder) { return Key("x").Str(cylinder).str(); }

int64_t Micros(const google::protobuf::Timestamp& t) {
  return t.seconds() * 1000000 + t.nanos() / 1000;
}

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian).
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day) {
  year -= month <= 2 ? 1 : 0;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const unsigned year_of_era = static_cast<unsigned>(year - era * 400);
  const unsigned day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + static_cast<int64_t>(day_of_era) - 719468;
}

bool IsLeapYear(int64_t year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

unsigned DaysInMonth(int64_t year, unsigned month) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

struct CivilDate {
  int64_t year = 0;
  unsigned month = 0;
  unsigned day = 0;
};

std::optional<CivilDate> ParseCivil(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  auto number = [&](size_t from, size_t length) -> std::optional<unsigned> {
    unsigned value = 0;
    for (size_t i = from; i < from + length; ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      value = value * 10 + static_cast<unsigned>(text[i] - '0');
    }
    return value;
  };
  const auto year = number(0, 4);
  const auto month = number(5, 2);
  const auto day = number(8, 2);
  if (!year || !month || !day) return std::nullopt;
  if (*month < 1 || *month > 12 || *day < 1 || *day > DaysInMonth(*year, *month)) {
    return std::nullopt;
  }
  return CivilDate{*year, *month, *day};
}

std::string FormatCivil(int64_t year, unsigned month, unsigned day) {
  std::string out;
  auto put = [&](int64_t value, int width) {
    std::string digits = std::to_string(value);
    while (static_cast<int>(digits.size()) < width) digits.insert(digits.begin(), '0');
    out.append(digits);
  };
  put(year, 4);
  out.push_back('-');
  put(month, 2);
  out.push_back('-');
  put(day, 2);
  return out;
}

v1::OversightEventRef RefOf(const AppliedEntry& entry) {
  v1::OversightEventRef ref;
  ref.set_sequence(entry.sequence);
  ref.set_event_id(entry.entry->event_id());
  ref.set_time_unix_micros(entry.facts->time_micros);
  ref.set_party(entry.facts->party);
  return ref;
}

v1::CylinderInspectionResult ResultOf(v1::CylinderInspection::Result result) {
  switch (result) {
    case v1::CylinderInspection::RESULT_PASS: return v1::CYLINDER_INSPECTION_RESULT_PASS;
    case v1::CylinderInspection::RESULT_FAIL: return v1::CYLINDER_INSPECTION_RESULT_FAIL;
    case v1::CylinderInspection::RESULT_SCRAP: return v1::CYLINDER_INSPECTION_RESULT_SCRAP;
    default: return v1::CYLINDER_INSPECTION_RESULT_UNSPECIFIED;
  }
}

void AddReason(v1::FillPermit* permit, v1::FillDenialReason reason, std::string message) {
  permit->add_reasons(reason);
  permit->add_messages(std::move(message));
}

class CylindersProjection : public Projection {
 public:
  std::string_view name() const override { return kCylindersViewName; }
  uint32_t version() const override { return kCylindersVersion; }

  Status Apply(const AppliedEntry& entry, ViewRows& rows) override {
    if (entry.event == nullptr) return Status::Ok();
    switch (entry.event->body_case()) {
      case v1::Event::kCylinderRegistration:
        return ApplyRegistration(entry, entry.event->cylinder_registration(), rows);
      case v1::Event::kCylinderInspection:
        return ApplyInspection(entry, entry.event->cylinder_inspection(), rows);
      case v1::Event::kCylinderFill:
        return ApplyFill(entry, entry.event->cylinder_fill(), rows);
      default:
        return Status::Ok();
    }
  }

 private:
  static Result<v1::CylinderRecord> Load(ViewRows& rows, const std::string& cylinder) {
    TL_ASSIGN_OR_RETURN(std::optional<v1::CylinderRecord> record,
                        rows.GetMessage<v1::CylinderRecord>(RecordKey(cylinder)));
    if (record.has_value()) return std::move(*record);
    v1::CylinderRecord fresh;
    fresh.set_cylinder_id(cylinder);
    return fresh;
  }

  static Status ApplyRegistration(const AppliedEntry& entry, const v1::CylinderRegistration& e,
                                  ViewRows& rows) {
    if (e.cylinder_id().empty()) return Status::Ok();
    TL_ASSIGN_OR_RETURN(v1::CylinderRecord record, Load(rows, e.cylinder_id()));
    const v1::OversightEventRef ref = RefOf(entry);
    // The latest registration states the registry facts; inspection results and fill counts
    // stay, and a scrapped cylinder stays scrapped.
    record.set_registered(true);
    record.set_owner_station_id(e.owner_station_id());
    record.set_manufacturer(e.manufacturer());
    record.set_medium(e.medium());
    record.set_capacity_liters(e.capacity_liters());
    record.set_manufactured_on(e.manufactured_on());
    record.set_design_life_years(e.design_life_years());
    record.set_design_life_ends_on(e.design_life_years() > 0
                                       ? AddYears(e.manufactured_on(), e.design_life_years())
                                       : std::string());
    if (!e.last_inspected_on().empty()) record.set_last_inspected_on(e.last_inspected_on());
    if (!e.next_inspection_due().empty()) {
      record.set_next_inspection_due(e.next_inspection_due());
      *record.mutable_due_set_by() = ref;
    }
    *record.mutable_registration() = ref;
    rows.PutMessage(RecordKey(e.cylinder_id()), record);
    return Status::Ok();
  }

  static Status ApplyInspection(const AppliedEntry& entry, const v1::CylinderInspection& e,
                                ViewRows& rows) {
    if (e.cylinder_id().empty()) return Status::Ok();
    TL_ASSIGN_OR_RETURN(v1::CylinderRecord record, Load(rows, e.cylinder_id()));
    const v1::OversightEventRef ref = RefOf(entry);
    record.set_last_inspected_on(DateFromDays(UtcDay(Micros(e.inspected_at()))));
    record.set_last_inspection_result(ResultOf(e.result()));
    *record.mutable_last_inspection() = ref;
    if (!e.next_inspection_due().empty()) {
      record.set_next_inspection_due(e.next_inspection_due());
      *record.mutable_due_set_by() = ref;
    }
    switch (e.result()) {
      case v1::CylinderInspection::RESULT_PASS:
        record.set_failed_inspection(false);
        break;
      case v1::CylinderInspection::RESULT_FAIL:
        record.set_failed_inspection(true);
        break;
      case v1::CylinderInspection::RESULT_SCRAP:
        if (!record.scrapped()) *record.mutable_scrapped_by() = ref;
        record.set_scrapped(true);
        break;
      default:
        break;
    }
    rows.PutMessage(RecordKey(e.cylinder_id()), record);
    return Status::Ok();
  }

  // A fill reads the registry row and rewrites only the fill counts ("g", a CylinderRecord with
  // just fill_count, last_fill_unix_micros, last_fill_station_id and alert_count): rewriting
  // the registry row, with its four event references, for every fill was 40 % of the bytes
  // of this view (docs/BENCHMARKS.md, "session 20").
  static Status ApplyFill(const AppliedEntry& entry, const v1::CylinderFill& e, ViewRows& rows) {
    if (e.cylinder_id().empty()) return Status::Ok();
    TL_ASSIGN_OR_RETURN(std::optional<v1::CylinderRecord> registry,
                        rows.GetMessage<v1::CylinderRecord>(RecordKey(e.cylinder_id())));
    TL_ASSIGN_OR_RETURN(std::optional<v1::CylinderRecord> stored_counts,
                        rows.GetMessage<v1::CylinderRecord>(FillCountsKey(e.cylinder_id())));
    const v1::OversightEventRef ref = RefOf(entry);
    const int64_t at = Micros(e.filled_at());
    const v1::FillPermit permit = CheckFill(registry, e.station_id(), at);
    const v1::CylinderRecord& record =
        registry.has_value() ? *registry : v1::CylinderRecord::default_instance();
    v1::CylinderRecord counts =
        stored_counts.has_value() ? std::move(*stored_counts) : v1::CylinderRecord();

    v1::CylinderFillRecord fill;
    fill.set_cylinder_id(e.cylinder_id());
    fill.set_fill_index(counts.fill_count());
    fill.set_filled_at_unix_micros(at);
    fill.set_station_id(e.station_id());
    fill.set_medium(e.medium());
    fill.set_net_mass_kg(e.net_mass_kg());
    fill.set_scale_id(e.scale_id());
    fill.set_operator_id(e.operator_id());
    *fill.mutable_event() = ref;
    for (int reason : permit.reasons()) fill.add_denials(static_cast<v1::FillDenialReason>(reason));
    rows.PutMessage(FillKey(e.cylinder_id(), counts.fill_count()), fill);

    if (!permit.allowed()) {
      TL_ASSIGN_OR_RETURN(std::optional<std::string> count_bytes, rows.Get(kAlertCountKey));
      uint64_t count = count_bytes.has_value() ? DecodeFixed64BigEndian(*count_bytes) : 0;
      for (int i = 0; i < permit.reasons_size(); ++i) {
        const auto reason = static_cast<v1::FillDenialReason>(permit.reasons(i));
        v1::CylinderAlert alert;
        alert.set_alert_index(count);
        alert.set_kind(reason);
        alert.set_cylinder_id(e.cylinder_id());
        alert.set_station_id(e.station_id());
        const v1::OversightEventRef* conflict = nullptr;
        switch (reason) {
          case v1::FILL_DENIAL_REASON_OTHER_STATION:
          case v1::FILL_DENIAL_REASON_PAST_DESIGN_LIFE:
            conflict = &record.registration();
            break;
          case v1::FILL_DENIAL_REASON_INSPECTION_OVERDUE:
            conflict = &record.due_set_by();
            break;
          case v1::FILL_DENIAL_REASON_SCRAPPED:
            conflict = &record.scrapped_by();
            break;
          case v1::FILL_DENIAL_REASON_FAILED_INSPECTION:
            conflict = &record.last_inspection();
            break;
          default:
            break;
        }
        if (conflict != nullptr && !conflict->event_id().empty()) {
          TL_ASSERT(conflict->sequence() < entry.sequence);  // the record holds earlier entries
          alert.add_sequences(conflict->sequence());
          alert.add_event_ids(conflict->event_id());
        }
        alert.add_sequences(entry.sequence);
        alert.add_event_ids(ref.event_id());
        std::string message = "fill of ";
        message.append(e.cylinder_id());
        message.append(" by ");
        message.append(e.station_id());
        message.append(" on ");
        message.append(DateFromDays(UtcDay(at)));
        message.append(": ");
        message.append(permit.messages(i));
        alert.set_message(std::move(message));
        alert.set_time_unix_micros(at);
        alert.set_sequence(entry.sequence);
        rows.PutMessage(AlertKey(count), alert);
        rows.PutMessage(Key("x").Str(e.cylinder_id()).U64(count).str(), alert);
        ++count;
      }
      std::string count_value;
      PutFixed64BigEndian(&count_value, count);
      rows.Put(kAlertCountKey, count_value);
      counts.set_alert_count(counts.alert_count() + static_cast<uint32_t>(permit.reasons_size()));
    }
    counts.set_fill_count(counts.fill_count() + 1);
    counts.set_last_fill_unix_micros(at);
    counts.set_last_fill_station_id(e.station_id());
    rows.PutMessage(FillCountsKey(e.cylinder_id()), counts);
    return Status::Ok();
  }
};

Result<uint64_t> AlertCount(const ViewReader& reader) {
  TL_ASSIGN_OR_RETURN(std::optional<std::string> count, reader.Get(kAlertCountKey));
  if (!count.has_value()) return uint64_t{0};
  if (count->size() != 8) return Status::DataLoss("cylinders: alert count row is not 8 bytes");
  return DecodeFixed64BigEndian(*count);
}

Result<v1::CylinderAlert> AlertAt(const ViewReader& reader, uint64_t index) {
  TL_ASSIGN_OR_RETURN(std::optional<v1::CylinderAlert> alert,
                      reader.GetMessage<v1::CylinderAlert>(AlertKey(index)));
  if (!alert.has_value()) {
    return Status::DataLoss("cylinders: alert " + std::to_string(index) + " is missing");
  }
  return std::move(*alert);
}

}  // namespace

std::unique_ptr<Projection> NewCylindersProjection() {
  return std::make_unique<CylindersProjection>();
}

std::optional<int64_t> DaysFromDate(std::string_view date) {
  const std::optional<CivilDate> civil = ParseCivil(date);
  if (!civil.has_value()) return std::nullopt;
  return DaysFromCivil(civil->year, civil->month, civil->day);
}

std::string DateFromDays(int64_t days) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const unsigned day_of_era = static_cast<unsigned>(days - era * 146097);
  const unsigned year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const int64_t year = static_cast<int64_t>(year_of_era) + era * 400;
  const unsigned day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const unsigned mp = (5 * day_of_year + 2) / 153;
  const unsigned day = day_of_year - (153 * mp + 2) / 5 + 1;
  const unsigned month = mp < 10 ? mp + 3 : mp - 9;
  return FormatCivil(month <= 2 ? year + 1 : year, month, day);
}

int64_t UtcDay(int64_t unix_micros) {
  int64_t day = unix_micros / kMicrosPerDay;
  if (unix_micros % kMicrosPerDay < 0) --day;  // floor for instants before 1970
  return day;
}

std::string AddYears(std::string_view date, uint32_t years) {
  const std::optional<CivilDate> civil = ParseCivil(date);
  if (!civil.has_value()) return "";
  const int64_t year = civil->year + years;
  const unsigned day = std::min(civil->day, DaysInMonth(year, civil->month));
  return FormatCivil(year, civil->month, day);
}

v1::FillPermit CheckFill(const std::optional<v1::CylinderRecord>& record, std::string_view station,
                         int64_t at_unix_micros) {
  v1::FillPermit permit;
  if (record.has_value()) permit.set_cylinder_id(record->cylinder_id());
  permit.set_station_id(std::string(station));
  permit.set_at_unix_micros(at_unix_micros);
  const int64_t fill_day = UtcDay(at_unix_micros);

  if (!record.has_value() || !record->registered()) {
    AddReason(&permit, v1::FILL_DENIAL_REASON_UNREGISTERED, "the cylinder is not registered");
  }
  if (record.has_value()) {
    if (record->registered() && record->owner_station_id() != station) {
      std::string message = "the cylinder is registered to ";
      message.append(record->owner_station_id());
      message.append(", not to ");
      message.append(station);
      AddReason(&permit, v1::FILL_DENIAL_REASON_OTHER_STATION, std::move(message));
    }
    const std::optional<int64_t> due = DaysFromDate(record->next_inspection_due());
    if (due.has_value() && fill_day > *due) {
      std::string message = "the periodic inspection was due ";
      message.append(record->next_inspection_due());
      AddReason(&permit, v1::FILL_DENIAL_REASON_INSPECTION_OVERDUE, std::move(message));
    }
    if (record->scrapped()) {
      std::string message = "the cylinder was scrapped";
      if (record->has_scrapped_by()) {
        message.append(" on ");
        message.append(DateFromDays(UtcDay(record->scrapped_by().time_unix_micros())));
      }
      AddReason(&permit, v1::FILL_DENIAL_REASON_SCRAPPED, std::move(message));
    }
    const std::optional<int64_t> life_end = DaysFromDate(record->design_life_ends_on());
    if (life_end.has_value() && fill_day > *life_end) {
      std::string message = "its design life ended ";
      message.append(record->design_life_ends_on());
      message.append(" (made ");
      message.append(record->manufactured_on());
      message.append(", ");
      message.append(std::to_string(record->design_life_years()));
      message.append(" years)");
      AddReason(&permit, v1::FILL_DENIAL_REASON_PAST_DESIGN_LIFE, std::move(message));
    }
    if (record->failed_inspection()) {
      std::string message = "its last periodic inspection failed";
      if (!record->last_inspected_on().empty()) {
        message.append(" (");
        message.append(record->last_inspected_on());
        message.append(")");
      }
      AddReason(&permit, v1::FILL_DENIAL_REASON_FAILED_INSPECTION, std::move(message));
    }
  }
  permit.set_allowed(permit.reasons_size() == 0);
  return permit;
}

Result<v1::FillPermit> FillPermitFor(const ViewReader& reader, std::string_view cylinder,
                                     std::string_view station, int64_t at_unix_micros) {
  TL_ASSIGN_OR_RETURN(std::optional<v1::CylinderRecord> record,
                      reader.GetMessage<v1::CylinderRecord>(RecordKey(cylinder)));
  v1::FillPermit permit = CheckFill(record, station, at_unix_micros);
  permit.set_cylinder_id(std::string(cylinder));
  return permit;
}

Result<v1::CylinderReport> CylinderStatus(const ViewReader& reader, std::string_view cylinder,
                                          size_t recent) {
  // The fill counts first: the fill rows they count are there at any later moment.
  TL_ASSIGN_OR_RETURN(std::optional<v1::CylinderRecord> counts,
                      reader.GetMessage<v1::CylinderRecord>(FillCountsKey(cylinder)));
  TL_ASSIGN_OR_RETURN(std::optional<v1::CylinderRecord> record,
                      reader.GetMessage<v1::CylinderRecord>(RecordKey(cylinder)));
  if (!record.has_value() && !counts.has_value()) {
    std::string message = "no event names cylinder ";
    message.append(cylinder);
    return Status::NotFound(std::move(message));
  }
  if (!record.has_value()) {  // filled, never registered nor inspected
    record.emplace();
    record->set_cylinder_id(std::string(cylinder));
  }
  if (counts.has_value()) {
    record->set_fill_count(counts->fill_count());
    record->set_last_fill_unix_micros(counts->last_fill_unix_micros());
    record->set_last_fill_station_id(counts->last_fill_station_id());
    record->set_alert_count(counts->alert_count());
  }
  recent = std::min(recent, kMaxRecentFills);
  v1::CylinderReport report;
  const uint64_t fills = record->fill_count();
  const uint64_t first = fills > recent ? fills - recent : 0;
  for (uint64_t index = first; index < fills; ++index) {
    TL_ASSIGN_OR_RETURN(std::optional<v1::CylinderFillRecord> fill,
                        reader.GetMessage<v1::CylinderFillRecord>(FillKey(cylinder, index)));
    if (!fill.has_value()) {
      std::string message = "cylinders: fill ";
      message.append(std::to_string(index));
      message.append(" of ");
      message.append(cylinder);
      message.append(" is missing");
      return Status::DataLoss(std::move(message));
    }
    *report.add_recent_fills() = std::move(*fill);
  }
  // The cylinder's alerts are few; keep the last `recent` of them.
  std::deque<std::string> alerts;
  TL_RETURN_IF_ERROR(reader.Scan(CylinderAlertPrefix(cylinder),
                                 [&](std::string_view, std::string_view value) {
                                   alerts.emplace_back(value);
                                   if (alerts.size() > recent) alerts.pop_front();
                                   return true;
                                 }));
  for (const std::string& bytes : alerts) {
    if (!report.add_recent_alerts()->ParseFromString(bytes)) {
      return Status::DataLoss("cylinders: an alert row does not decode");
    }
  }
  *report.mutable_record() = std::move(*record);
  return report;
}

Result<v1::CylinderAlertPage> CylinderAlertsFrom(const ViewReader& reader,
                                                 uint64_t from_alert_index, size_t limit) {
  TL_ASSIGN_OR_RETURN(const uint64_t count, AlertCount(reader));
  const uint64_t wanted = std::min(limit, kMaxCylinderAlertsPerPage);
  const uint64_t begin = std::min(from_alert_index, count);
  const uint64_t end = begin + std::min(wanted, count - begin);
  v1::CylinderAlertPage page;
  for (uint64_t index = begin; index < end; ++index) {
    TL_ASSIGN_OR_RETURN(*page.add_alerts(), AlertAt(reader, index));
  }
  page.set_next_alert_index(end);
  page.set_more(end < count);
  return page;
}

Result<v1::CylinderAlertPage> CylinderAlerts(const ViewReader& reader, uint64_t since_sequence,
                                             size_t limit) {
  TL_ASSIGN_OR_RETURN(const uint64_t count, AlertCount(reader));
  uint64_t low = 0;
  uint64_t high = count;
  while (low < high) {
    const uint64_t middle = low + (high - low) / 2;
    TL_ASSIGN_OR_RETURN(const v1::CylinderAlert alert, AlertAt(reader, middle));
    if (alert.sequence() < since_sequence) {
      low = middle + 1;
    } else {
      high = middle;
    }
  }
  return CylinderAlertsFrom(reader, low, limit);
}

}  // namespace traceledger::projections
