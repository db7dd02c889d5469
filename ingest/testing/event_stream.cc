#include "ingest/testing/event_stream.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <utility>

#include "ingest/event_validator.h"
#include "ingest/gs1.h"
#include "ledger/base/assert.h"

namespace traceledger::ingest::testing {
namespace {

namespace v1 = traceledger::v1;

constexpr int64_t kMicrosPerSecond = 1000000;
constexpr int64_t kSecondsPerDay = 86400;
// Valid events happen within the hour before now (and at least a second before it).
constexpr int64_t kEventWindowSeconds = 3600;
// kFutureEventTime events happen this long after now (far beyond any clock-skew allowance).
constexpr int64_t kFutureOffsetSeconds = kSecondsPerDay;
// Items (EPCs, quantity elements, children) per event, whatever the target size: the
// validator's list limit.
constexpr int kMaxItems = static_cast<int>(kMaxListItems);
// Events sharing one group of serial numbers (commissioned, packed, shipped, received): keys
// repeat across a few events, as they do in real traffic.
constexpr uint64_t kEventsPerObjectGroup = 4;

// The GS1 demonstration company prefix the synthetic events use, and its products as item
// references with the indicator digit first (company prefix + item reference = 13 digits).
constexpr std::string_view kCompanyPrefix = "9521234";
constexpr std::array<std::string_view, 6> kItemReferences = {"012345", "012346", "054321",
                                                             "010001", "020002", "100077"};
constexpr std::array<std::string_view, 4> kSites = {"00001", "00002", "00003", "00010"};
constexpr std::array<std::string_view, 4> kPartyPrefixes = {"9521234", "9521235", "9521236",
                                                            "9521237"};
constexpr std::array<std::string_view, 3> kTimeZoneOffsets = {"+08:00", "+08:00", "+00:00"};

// Salts that keep the pseudo-random draws for one message independent of each other.
enum Salt : uint64_t {
  kSaltShape = 1,
  kSaltContent = 2,
  kSaltEventIdHigh = 3,
  kSaltEventIdLow = 4,
  kSaltGroup = 5,
  kSaltSlots = 6,
  kSaltDuplicates = 7,
  kSaltGarbage = 8,
};

// SplitMix64 (Steele, Lea, Flood 2014): tiny, and the same numbers on every platform.
uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t Mix(uint64_t seed, uint64_t index, uint64_t salt) {
  return SplitMix64(SplitMix64(SplitMix64(seed) ^ index) ^ (salt * 0xd1b54a32d192ed03ULL));
}

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    state_ += 0x9e3779b97f4a7c15ULL;
    return SplitMix64(state_);
  }
  // Uniform in [0, n). Requires n > 0. (The modulo bias is irrelevant for test data.)
  uint64_t Below(uint64_t n) {
    TL_ASSERT(n > 0);
    return Next() % n;
  }
  template <typename T, size_t N>
  const T& Pick(const std::array<T, N>& items) {
    return items[Below(N)];
  }

 private:
  uint64_t state_;
};

std::string WithCheckDigit(std::string data_digits) {
  const int check = Gs1CheckDigit(data_digits);
  data_digits.push_back(static_cast<char>('0' + check));
  return data_digits;
}

// GTIN-14 of an SGTIN's company prefix and item reference (indicator digit first).
std::string Gtin14(std::string_view company_prefix, std::string_view item_reference) {
  std::string data;
  data.push_back(item_reference[0]);
  data.append(company_prefix);
  data.append(item_reference.substr(1));
  return WithCheckDigit(std::move(data));
}

std::string Gln(std::string_view company_prefix) {
  std::string data(company_prefix);
  data.resize(12, '0');
  return WithCheckDigit(std::move(data));
}

std::string Sgtin(std::string_view item_reference, std::string_view serial) {
  return "urn:epc:id:sgtin:" + std::string(kCompanyPrefix) + "." + std::string(item_reference) +
         "." + std::string(serial);
}

std::string DigitalLink(std::string_view gtin14, std::string_view serial) {
  return "https://id.gs1.org/01/" + std::string(gtin14) + "/21/" + std::string(serial);
}

std::string Lgtin(std::string_view item_reference, std::string_view lot) {
  return "urn:epc:class:lgtin:" + std::string(kCompanyPrefix) + "." +
         std::string(item_reference) + "." + std::string(lot);
}

std::string Sgln(std::string_view company_prefix, std::string_view location,
                 uint64_t extension) {
  return "urn:epc:id:sgln:" + std::string(company_prefix) + "." + std::string(location) + "." +
         std::to_string(extension);
}

std::string Pgln(std::string_view company_prefix) {
  return "urn:epc:id:pgln:" + std::string(company_prefix) + ".00000";
}

// SSCC URN: company prefix (7 digits) + serial reference (10 digits, extension digit first).
std::string Sscc(uint64_t serial_reference) {
  char digits[16];
  std::snprintf(digits, sizeof(digits), "%010llu",
                static_cast<unsigned long long>(serial_reference % 10000000000ULL));
  return "urn:epc:id:sscc:" + std::string(kCompanyPrefix) + "." + digits;
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

void SetTime(int64_t unix_micros, google::protobuf::Timestamp* time) {
  const int64_t seconds = FloorDiv(unix_micros, kMicrosPerSecond);
  time->set_seconds(seconds);
  time->set_nanos(static_cast<int32_t>((unix_micros - seconds * kMicrosPerSecond) * 1000));
}

// "YYYY-MM-DD" of a day counted from 1970-01-01 (Hinnant's civil_from_days).
std::string CalendarDate(int64_t days) {
  days += 719468;
  const int64_t era = FloorDiv(days, 146097);
  const int64_t day_of_era = days - era * 146097;
  const int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const int64_t month_index = (5 * day_of_year + 2) / 153;
  const int64_t day = day_of_year - (153 * month_index + 2) / 5 + 1;
  const int64_t month = month_index < 10 ? month_index + 3 : month_index - 9;
  const int64_t year = year_of_era + era * 400 + (month <= 2 ? 1 : 0);
  char text[64];  // room for any three long longs, so no truncation is possible
  std::snprintf(text, sizeof(text), "%04lld-%02lld-%02lld", static_cast<long long>(year),
                static_cast<long long>(month), static_cast<long long>(day));
  return text;
}

std::string EventId(uint64_t seed, uint64_t index) {
  const uint64_t high = Mix(seed, index, kSaltEventIdHigh);
  const uint64_t low = Mix(seed, index, kSaltEventIdLow);
  // A version-8 (custom) UUID; the last 48 bits are the index, so ids never repeat in a stream.
  char text[64];
  std::snprintf(text, sizeof(text), "urn:uuid:%08llx-%04llx-%04llx-%04llx-%012llx",
                static_cast<unsigned long long>(high >> 32),
                static_cast<unsigned long long>((high >> 16) & 0xffff),
                static_cast<unsigned long long>(0x8000 | (high & 0x0fff)),
                static_cast<unsigned long long>(0x8000 | (low >> 50)),
                static_cast<unsigned long long>(index & 0xffffffffffffULL));
  return text;
}

std::string UnknownSubmitter() { return Gln("9529999"); }

// ----- Valid events ----------------------------------------------------------------------------

enum class Shape {
  kCommissioning,  // ObjectEvent ADD: SGTIN EPCs, ILMD
  kShipping,       // ObjectEvent OBSERVE: SGTIN and Digital Link EPCs, transfer, purchase order
  kReceiving,      // ObjectEvent OBSERVE: LGTIN quantities
  kPacking,        // AggregationEvent ADD: SSCC parent, SGTIN children
};

Shape ShapeFor(uint64_t seed, uint64_t index) {
  const uint64_t roll = Mix(seed, index, kSaltShape) % 100;
  if (roll < 45) return Shape::kCommissioning;
  if (roll < 70) return Shape::kShipping;
  if (roll < 85) return Shape::kReceiving;
  return Shape::kPacking;
}

v1::EpcisCommon* MutableCommon(v1::Event* event) {
  switch (event->body_case()) {
    case v1::Event::kObjectEvent:
      return event->mutable_object_event()->mutable_common();
    case v1::Event::kAggregationEvent:
      return event->mutable_aggregation_event()->mutable_common();
    default:
      break;
  }
  TL_ASSERT(false);  // Every shape here is an ObjectEvent or an AggregationEvent.
  return nullptr;
}

// Encoded size of a protobuf length prefix.
size_t VarintBytes(size_t value) {
  size_t bytes = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++bytes;
  }
  return bytes;
}

constexpr std::string_view kCertificatePrefix = "https://cert.cn/";
// A certificationInfo entry: tag, length, prefix and at least one character.
constexpr size_t kMinCertificateBytes = 2 + kCertificatePrefix.size() + 1;

// An optional part of an event (a transfer, a purchase order): added only when it fits.
struct Extra {
  std::function<void()> add;
  std::function<void()> undo;  // removes exactly what `add` added
};

// Grows `event` towards `target` bytes: adds one item (add_item(j) appends the j-th), then each
// extra that still fits, then more items while they fit, then closes a gap of 19 bytes or more
// exactly with a certificationInfo URI.
template <typename AddItem, typename RemoveLastItem>
void FillToTarget(size_t target, uint64_t pad_seed, v1::Event* event, AddItem add_item,
                  RemoveLastItem remove_last_item, const std::vector<Extra>& extras = {}) {
  int items = 0;
  size_t size = event->ByteSizeLong();
  add_item(items++);
  const size_t first_item_bytes = event->ByteSizeLong() - size;
  for (const Extra& extra : extras) {
    extra.add();
    if (event->ByteSizeLong() > target) extra.undo();
  }
  size = event->ByteSizeLong();
  // Add the bulk at once (ByteSizeLong is linear in the event), then step to the target.
  if (size < target && first_item_bytes > 0) {
    const size_t bulk = (target - size) / first_item_bytes;
    for (size_t k = 1; k < bulk && items < kMaxItems; ++k) add_item(items++);
    size = event->ByteSizeLong();
    while (size > target && items > 1) {
      remove_last_item();
      --items;
      size = event->ByteSizeLong();
    }
  }
  for (int steps = 0; size < target && items < kMaxItems; ++steps) {
    TL_ASSERT(steps <= kMaxItems);
    add_item(items++);
    const size_t grown = event->ByteSizeLong();
    if (grown > target) {
      remove_last_item();
      --items;
      break;
    }
    size = grown;
  }
  // A gap narrower than a certificate URI stays: under 20 bytes.
  size = event->ByteSizeLong();
  if (size + kMinCertificateBytes > target) return;
  // The entry adds its tag, length and text, and may lengthen the enclosing length prefixes.
  std::string* certificate = MutableCommon(event)->add_certification_info();
  const size_t gap = target - size;
  // Certificate URIs are identifiers: at most kMaxIdentifierBytes (matters only when the item
  // limit stopped the filling far below the target).
  size_t text_bytes = std::min(gap - 1 - VarintBytes(gap), kMaxIdentifierBytes);
  Rng rng(pad_seed);
  std::string filler;
  for (int attempt = 0; attempt < 4; ++attempt) {
    const size_t filler_bytes = text_bytes - kCertificatePrefix.size();
    while (filler.size() < filler_bytes) filler.push_back("0123456789abcdef"[rng.Below(16)]);
    filler.resize(filler_bytes);
    *certificate = std::string(kCertificatePrefix) + filler;
    const size_t now_bytes = event->ByteSizeLong();
    if (now_bytes == target) break;
    if (now_bytes > target) {
      const size_t over = now_bytes - target;
      if (text_bytes < kCertificatePrefix.size() + 1 + over) break;
      text_bytes -= over;
    } else {
      if (text_bytes >= kMaxIdentifierBytes) break;
      text_bytes = std::min(text_bytes + (target - now_bytes), kMaxIdentifierBytes);
    }
  }
}

// The content every valid event of (seed, index) shares.
struct EventBasics {
  std::string item_reference;
  std::string gtin14;
  std::string serial_base;  // serials of the object group: serial_base + item number
  std::string lot;
  std::string site;
  std::string source_party;
  std::string destination_party;
  int64_t event_time_micros = 0;
};

EventBasics BasicsFor(uint64_t seed, uint64_t index, int64_t now_unix_micros) {
  const uint64_t group = index / kEventsPerObjectGroup;
  Rng group_rng(Mix(seed, group, kSaltGroup));
  EventBasics basics;
  basics.item_reference = std::string(group_rng.Pick(kItemReferences));
  basics.gtin14 = Gtin14(kCompanyPrefix, basics.item_reference);
  basics.serial_base = std::to_string(10000 + group);
  // Not `"L" + std::to_string(...)`: GCC 12 -O3 reports a false -Wrestrict on that (known bug).
  basics.lot = std::to_string(260000 + group / 16);
  basics.lot.insert(basics.lot.begin(), 'L');
  basics.site = std::string(group_rng.Pick(kSites));
  basics.source_party = std::string(kPartyPrefixes[0]);
  basics.destination_party = std::string(kPartyPrefixes[1 + group_rng.Below(3)]);
  Rng rng(Mix(seed, index, kSaltContent));
  const int64_t seconds_before = 1 + static_cast<int64_t>(rng.Below(kEventWindowSeconds - 1));
  basics.event_time_micros = now_unix_micros - seconds_before * kMicrosPerSecond -
                             static_cast<int64_t>(rng.Below(1000)) * 1000;
  return basics;
}

std::string Serial(const EventBasics& basics, int item) {
  return basics.serial_base + std::to_string(1000 + item);
}

void SetCommon(const EventBasics& basics, Rng& rng, std::string_view biz_step,
               std::string_view disposition, v1::EpcisCommon* common) {
  SetTime(basics.event_time_micros, common->mutable_event_time());
  common->set_event_time_zone_offset(std::string(rng.Pick(kTimeZoneOffsets)));
  common->set_biz_step(std::string(biz_step));
  common->set_disposition(std::string(disposition));
  common->mutable_read_point()->set_id(Sgln(kCompanyPrefix, basics.site, 1 + rng.Below(4)));
}

void AddSourceDestination(std::string_view type, std::string id,
                          google::protobuf::RepeatedPtrField<v1::SourceDestination>* list) {
  v1::SourceDestination* entry = list->Add();
  entry->set_type(std::string(type));
  entry->set_id(std::move(id));
}

// The change of ownership of a transfer. `common` must outlive the Extra.
Extra OwningPartyTransfer(const EventBasics& basics, v1::EpcisCommon* common) {
  return {[&basics, common] {
            AddSourceDestination("owning_party", Pgln(basics.source_party),
                                 common->mutable_source_list());
            AddSourceDestination("owning_party", Pgln(basics.destination_party),
                                 common->mutable_destination_list());
          },
          [common] {
            common->mutable_source_list()->RemoveLast();
            common->mutable_destination_list()->RemoveLast();
          }};
}

// The change of location of a transfer. `common` must outlive the Extra.
Extra LocationTransfer(const EventBasics& basics, v1::EpcisCommon* common) {
  return {[&basics, common] {
            AddSourceDestination("location", Sgln(basics.source_party, basics.site, 0),
                                 common->mutable_source_list());
            AddSourceDestination("location", Sgln(basics.destination_party, "00001", 0),
                                 common->mutable_destination_list());
          },
          [common] {
            common->mutable_source_list()->RemoveLast();
            common->mutable_destination_list()->RemoveLast();
          }};
}

// The purchase order a shipment fills. `common` must outlive the Extra.
Extra PurchaseOrder(const EventBasics& basics, uint64_t index, v1::EpcisCommon* common) {
  return {[&basics, index, common] {
            v1::BizTransaction* order = common->add_biz_transaction_list();
            order->set_type("po");
            order->set_biz_transaction("urn:epc:id:gdti:" + basics.destination_party +
                                       ".00001." + std::to_string(5000 + index % 100000));
          },
          [common] { common->mutable_biz_transaction_list()->RemoveLast(); }};
}

v1::Event BuildValidEvent(uint64_t seed, uint64_t index, int64_t now_unix_micros,
                          size_t target_payload_bytes, Shape shape) {
  const EventBasics basics = BasicsFor(seed, index, now_unix_micros);
  Rng rng(Mix(seed, index, kSaltContent) ^ 0x5555);
  v1::Event event;
  event.set_event_id(EventId(seed, index));
  event.set_submitter_id(KnownSubmitters()[rng.Below(KnownSubmitters().size())]);
  const uint64_t pad_seed = Mix(seed, index, kSaltContent) ^ 0xaaaa;
  switch (shape) {
    case Shape::kCommissioning: {
      v1::ObjectEvent* object = event.mutable_object_event();
      SetCommon(basics, rng, "commissioning", "active", object->mutable_common());
      object->mutable_common()->mutable_biz_location()->set_id(
          Sgln(kCompanyPrefix, basics.site, 0));
      object->set_action(v1::ACTION_ADD);
      const int64_t day = FloorDiv(basics.event_time_micros, kMicrosPerSecond * kSecondsPerDay);
      object->mutable_ilmd()->set_lot_number(basics.lot);
      object->mutable_ilmd()->set_production_date(CalendarDate(day));
      object->mutable_ilmd()->set_item_expiration_date(CalendarDate(day + 730));
      FillToTarget(
          target_payload_bytes, pad_seed, &event,
          [&](int j) { object->add_epc_list(Sgtin(basics.item_reference, Serial(basics, j))); },
          [&] { object->mutable_epc_list()->RemoveLast(); });
      break;
    }
    case Shape::kShipping: {
      v1::ObjectEvent* object = event.mutable_object_event();
      v1::EpcisCommon* common = object->mutable_common();
      SetCommon(basics, rng, "shipping", "in_transit", common);
      object->set_action(v1::ACTION_OBSERVE);
      // Mostly EPC URNs, every third one as a GS1 Digital Link URI.
      FillToTarget(
          target_payload_bytes, pad_seed, &event,
          [&](int j) {
            const std::string serial = Serial(basics, j);
            object->add_epc_list((index + j) % 3 == 2 ? DigitalLink(basics.gtin14, serial)
                                                      : Sgtin(basics.item_reference, serial));
          },
          [&] { object->mutable_epc_list()->RemoveLast(); },
          {PurchaseOrder(basics, index, common), OwningPartyTransfer(basics, common),
           LocationTransfer(basics, common)});
      break;
    }
    case Shape::kReceiving: {
      v1::ObjectEvent* object = event.mutable_object_event();
      v1::EpcisCommon* common = object->mutable_common();
      SetCommon(basics, rng, "receiving", "in_progress", common);
      object->set_action(v1::ACTION_OBSERVE);
      const Extra biz_location = {
          [&] {
            common->mutable_biz_location()->set_id(Sgln(basics.destination_party, "00001", 0));
          },
          [&] { common->clear_biz_location(); }};
      FillToTarget(
          target_payload_bytes, pad_seed, &event,
          [&](int j) {
            v1::QuantityElement* element = object->add_quantity_list();
            element->set_epc_class(
                Lgtin(basics.item_reference, basics.lot + "-" + std::to_string(j)));
            if (j % 2 == 0) {
              element->set_quantity(static_cast<double>(10 + rng.Below(490)));  // a count
            } else {
              element->set_quantity(static_cast<double>(5 + rng.Below(2000)) / 4);
              element->set_uom("KGM");
            }
          },
          [&] { object->mutable_quantity_list()->RemoveLast(); },
          {biz_location, OwningPartyTransfer(basics, common), LocationTransfer(basics, common)});
      break;
    }
    case Shape::kPacking: {
      v1::AggregationEvent* aggregation = event.mutable_aggregation_event();
      SetCommon(basics, rng, "packing", "in_progress", aggregation->mutable_common());
      aggregation->set_action(v1::ACTION_ADD);
      aggregation->set_parent_id(Sscc(index / kEventsPerObjectGroup));
      FillToTarget(
          target_payload_bytes, pad_seed, &event,
          [&](int j) {
            aggregation->add_child_epcs(Sgtin(basics.item_reference, Serial(basics, j)));
          },
          [&] { aggregation->mutable_child_epcs()->RemoveLast(); });
      break;
    }
  }
  return event;
}

// ----- Malformed messages ----------------------------------------------------------------------

// A truncated protobuf, a native-JSON event on the protobuf topic, or noise. Whichever: the
// last top-level field of a serialized Event is its body (field numbers >= 10), so cutting
// bytes off the end always leaves a body whose length prefix overruns the input; a leading
// zero byte is tag 0, which no protobuf parser accepts.
std::string UnparsableBytes(uint64_t seed, uint64_t index, int64_t now_unix_micros,
                            size_t target_payload_bytes) {
  Rng rng(Mix(seed, index, kSaltGarbage));
  const v1::Event event = BuildValidEvent(seed, index, now_unix_micros, target_payload_bytes,
                                          ShapeFor(seed, index));
  switch (rng.Below(3)) {
    case 0: {
      std::string bytes = event.SerializeAsString();
      bytes.resize(bytes.size() - 1 - rng.Below(16));
      return bytes;
    }
    case 1: {
      std::string json;
      const bool printed = google::protobuf::util::MessageToJsonString(event, &json).ok();
      TL_ASSERT(printed);  // A valid event always prints.
      return json;
    }
    default: {
      std::string bytes(1, '\0');
      const size_t size = target_payload_bytes / 2 + rng.Below(target_payload_bytes + 1);
      while (bytes.size() < size) bytes.push_back(static_cast<char>(rng.Below(256)));
      return bytes;
    }
  }
}

// Builds the malformed event of kind `m` (everything but kUnparsable).
v1::Event MalformedEvent(Malformation m, uint64_t seed, uint64_t index, int64_t now_unix_micros,
                         size_t target_payload_bytes) {
  switch (m) {
    case Malformation::kMissingEventId: {
      v1::Event event = BuildValidEvent(seed, index, now_unix_micros, target_payload_bytes,
                                        ShapeFor(seed, index));
      event.clear_event_id();
      return event;
    }
    case Malformation::kMissingBody: {
      v1::Event event = BuildValidEvent(seed, index, now_unix_micros, target_payload_bytes,
                                        ShapeFor(seed, index));
      event.clear_body();
      return event;
    }
    case Malformation::kBadGtinCheckDigit: {
      v1::Event event = BuildValidEvent(seed, index, now_unix_micros, target_payload_bytes,
                                        Shape::kShipping);
      const EventBasics basics = BasicsFor(seed, index, now_unix_micros);
      std::string gtin = basics.gtin14;
      gtin.back() = static_cast<char>('0' + (gtin.back() - '0' + 1) % 10);
      *event.mutable_object_event()->mutable_epc_list(0) = DigitalLink(gtin, Serial(basics, 0));
      return event;
    }
    case Malformation::kZeroQuantity: {
      v1::Event event = BuildValidEvent(seed, index, now_unix_micros, target_payload_bytes,
                                        Shape::kReceiving);
      event.mutable_object_event()->mutable_quantity_list(0)->set_quantity(0);
      return event;
    }
    case Malformation::kFutureEventTime: {
      v1::Event event = BuildValidEvent(seed, index, now_unix_micros, target_payload_bytes,
                                        ShapeFor(seed, index));
      SetTime(now_unix_micros + kFutureOffsetSeconds * kMicrosPerSecond,
              MutableCommon(&event)->mutable_event_time());
      return event;
    }
    case Malformation::kUnknownSubmitter: {
      v1::Event event = BuildValidEvent(seed, index, now_unix_micros, target_payload_bytes,
                                        ShapeFor(seed, index));
      event.set_submitter_id(UnknownSubmitter());
      return event;
    }
    case Malformation::kUnparsable:
      break;
  }
  TL_ASSERT(false);  // kUnparsable has no event; see UnparsableBytes.
  return {};
}

std::string KeyOf(const v1::Event& event) {
  std::vector<std::string> ids = ObjectIdsOf(event);
  return ids.empty() ? event.event_id() : std::move(ids.front());
}

StreamMessage ValidMessage(uint64_t seed, uint64_t index, const StreamOptions& options) {
  const v1::Event event = BuildValidEvent(seed, index, options.now_unix_micros,
                                          options.target_payload_bytes, ShapeFor(seed, index));
  StreamMessage message;
  message.event_id = event.event_id();
  message.key = KeyOf(event);
  message.payload = event.SerializeAsString();
  return message;
}

StreamMessage MalformedMessage(Malformation m, uint64_t seed, uint64_t index,
                               const StreamOptions& options) {
  StreamMessage message;
  message.malformation = m;
  if (m == Malformation::kUnparsable) {
    message.key = std::string(kUnparsableKey);
    message.payload =
        UnparsableBytes(seed, index, options.now_unix_micros, options.target_payload_bytes);
    return message;
  }
  const v1::Event event =
      MalformedEvent(m, seed, index, options.now_unix_micros, options.target_payload_bytes);
  message.event_id = event.event_id();
  message.key = KeyOf(event);
  message.payload = event.SerializeAsString();
  return message;
}

// What each position of a stream holds, before content is generated.
enum class Slot : uint8_t { kValid, kDuplicate, kMalformed };

}  // namespace

std::string_view ExpectedRule(Malformation m) {
  switch (m) {
    case Malformation::kUnparsable: return "unparsable";
    case Malformation::kMissingEventId: return "missing_field";
    case Malformation::kMissingBody: return "missing_field";
    case Malformation::kBadGtinCheckDigit: return "bad_identifier";
    case Malformation::kZeroQuantity: return "bad_quantity";
    case Malformation::kFutureEventTime: return "event_time_in_future";
    case Malformation::kUnknownSubmitter: return "unknown_submitter";
  }
  TL_ASSERT(false);
  return "";
}

std::string_view MalformationName(Malformation m) {
  switch (m) {
    case Malformation::kUnparsable: return "unparsable";
    case Malformation::kMissingEventId: return "missing_event_id";
    case Malformation::kMissingBody: return "missing_body";
    case Malformation::kBadGtinCheckDigit: return "bad_gtin_check_digit";
    case Malformation::kZeroQuantity: return "zero_quantity";
    case Malformation::kFutureEventTime: return "future_event_time";
    case Malformation::kUnknownSubmitter: return "unknown_submitter";
  }
  TL_ASSERT(false);
  return "";
}

const std::vector<std::string>& KnownSubmitters() {
  static const std::vector<std::string> submitters = [] {
    std::vector<std::string> list;
    for (std::string_view prefix : kPartyPrefixes) list.push_back(Gln(prefix));
    return list;
  }();
  return submitters;
}

v1::Event MakeValidEvent(uint64_t index, int64_t now_unix_micros, size_t target_payload_bytes) {
  constexpr uint64_t kSeed = 1;
  return BuildValidEvent(kSeed, index, now_unix_micros, target_payload_bytes,
                         ShapeFor(kSeed, index));
}

std::vector<StreamMessage> GenerateStream(const StreamOptions& options) {
  TL_ASSERT(options.duplicate_ratio >= 0);
  TL_ASSERT(options.malformed_ratio >= 0);
  TL_ASSERT(options.duplicate_ratio + options.malformed_ratio <= 1.0);
  const uint64_t total = options.messages;
  const auto share = [total](double ratio) {
    return static_cast<uint64_t>(std::llround(static_cast<double>(total) * ratio));
  };
  uint64_t malformed = share(options.malformed_ratio);
  if (options.malformed_ratio > 0) {
    malformed = std::max<uint64_t>(malformed, kAllMalformations.size());
  }
  malformed = std::min(malformed, total);
  const uint64_t duplicates = std::min(share(options.duplicate_ratio), total - malformed);
  const uint64_t valid = total - malformed - duplicates;
  TL_ASSERT(duplicates == 0 || valid > 0);

  // Lay out the slots, then shuffle them (Fisher-Yates with our own generator, so the order
  // does not depend on the standard library).
  std::vector<Slot> slots;
  slots.reserve(total);
  slots.insert(slots.end(), valid, Slot::kValid);
  slots.insert(slots.end(), duplicates, Slot::kDuplicate);
  slots.insert(slots.end(), malformed, Slot::kMalformed);
  Rng shuffle_rng(Mix(options.seed, 0, kSaltSlots));
  for (uint64_t i = total; i > 1; --i) std::swap(slots[i - 1], slots[shuffle_rng.Below(i)]);
  // A duplicate needs an earlier valid message: swap the first duplicate with the first valid
  // slot if it comes before it.
  const auto first_valid = std::find(slots.begin(), slots.end(), Slot::kValid);
  const auto first_duplicate = std::find(slots.begin(), slots.end(), Slot::kDuplicate);
  if (first_duplicate < first_valid) std::iter_swap(first_duplicate, first_valid);

  std::vector<StreamMessage> stream;
  stream.reserve(total);
  std::vector<uint64_t> valid_positions;
  valid_positions.reserve(valid);
  Rng duplicate_rng(Mix(options.seed, 0, kSaltDuplicates));
  uint64_t malformed_seen = 0;
  for (uint64_t i = 0; i < total; ++i) {
    switch (slots[i]) {
      case Slot::kValid:
        valid_positions.push_back(i);
        stream.push_back(ValidMessage(options.seed, i, options));
        break;
      case Slot::kDuplicate: {
        TL_ASSERT(!valid_positions.empty());
        StreamMessage copy = stream[valid_positions[duplicate_rng.Below(valid_positions.size())]];
        copy.duplicate = true;
        stream.push_back(std::move(copy));
        break;
      }
      case Slot::kMalformed: {
        const Malformation kind =
            kAllMalformations[malformed_seen++ % kAllMalformations.size()];
        stream.push_back(MalformedMessage(kind, options.seed, i, options));
        break;
      }
    }
  }
  TL_ASSERT(stream.size() == total);
  return stream;
}

}  // namespace traceledger::ingest::testing
