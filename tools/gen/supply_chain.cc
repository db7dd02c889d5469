// The generator is a small discrete-event simulation. Every "chain" (one food production lot
// from the farms to the shops, one drug or device lot from the maker to the patients) and every
// cylinder is a state machine whose next actions wait in one schedule, a min-heap ordered by
// (time, insertion order). Each action emits at most one event and schedules the chain's next
// actions at strictly later times, so popping the heap yields events in time order and the
// whole stream is a pure function of the options. New chains start at a steady rate, and every
// chain ends (its lots sold, dispensed or destroyed) within a bounded number of days, so the live
// state depends on the daily volume, not on the number of events generated.
#include "tools/gen/supply_chain.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cmath>
#include <ostream>
#include <span>
#include <utility>

#include "ingest/gs1.h"
#include "ledger/base/assert.h"

namespace traceledger::tools::gen {
namespace {

namespace v1 = traceledger::v1;
namespace pb = google::protobuf;

constexpr int64_t kMicrosPerSecond = 1000000;
constexpr int64_t kMicrosPerMinute = 60 * kMicrosPerSecond;
constexpr int64_t kMicrosPerHour = 60 * kMicrosPerMinute;
constexpr int64_t kMicrosPerDay = 24 * kMicrosPerHour;

// Steps that emit nothing (chain starts, bookkeeping) between two events; far above anything
// the schedule produces, so hitting it means a bug (STYLE.md: loops are bounded).
constexpr uint64_t kMaxSilentSteps = 10000000;

// Salts that keep the id streams of one seed apart.
constexpr uint64_t kSaltEventId = 0x65766e74;           // "evnt"
constexpr uint64_t kSaltTransformationId = 0x7472616e;  // "tran"
constexpr uint64_t kSaltRng = 0x726e6720;               // "rng "

// ---------------------------------------------------------------------------------------------
// Deterministic randomness (no std:: distributions: the same numbers on every platform).
// ---------------------------------------------------------------------------------------------

// SplitMix64's output function (Steele, Lea, Flood 2014): a bijection on 64 bits.
uint64_t Finalize(uint64_t x) {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t Mix(uint64_t a, uint64_t b) {
  return Finalize(Finalize(a + 0x9e3779b97f4a7c15ULL) ^ (b * 0xd1b54a32d192ed03ULL));
}

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(Mix(seed, kSaltRng)) {}
  uint64_t Next() {
    state_ += 0x9e3779b97f4a7c15ULL;
    return Finalize(state_);
  }
  // Uniform in [0, n). Requires n > 0. (The modulo bias is irrelevant for synthetic data.)
  uint64_t Below(uint64_t n) {
    TL_ASSERT(n > 0);
    return Next() % n;
  }
  // Uniform in [lo, hi]. Requires lo <= hi.
  int64_t Range(int64_t lo, int64_t hi) {
    TL_ASSERT(lo <= hi);
    return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo) + 1));
  }
  // Uniform in [0, 1).
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  bool Chance(double p) { return Uniform() < p; }
  // A duration of whole seconds in [lo, hi] microseconds.
  int64_t Micros(int64_t lo, int64_t hi) {
    return Range(lo / kMicrosPerSecond, hi / kMicrosPerSecond) * kMicrosPerSecond;
  }

 private:
  uint64_t state_;
};

// ---------------------------------------------------------------------------------------------
// Text helpers. Everything appends into strings the caller reuses: a steady-state event costs
// no allocation.
// ---------------------------------------------------------------------------------------------

void Assign(std::string* field, std::string_view value) {
  field->assign(value.data(), value.size());
}

// Appends `value` in decimal, zero-padded to `width` digits.
void AppendUint(std::string* out, uint64_t value, int width = 0) {
  char digits[20];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  for (int i = n; i < width; ++i) out->push_back('0');
  while (n > 0) out->push_back(digits[--n]);
}

void AppendHex(std::string* out, uint64_t value, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) {
    out->push_back(kHex[(value >> shift) & 0xf]);
  }
}

// A bijection on 62-bit values (odd multipliers and right xorshifts are invertible mod 2^62).
uint64_t Permute62(uint64_t x) {
  constexpr uint64_t kMask = (uint64_t{1} << 62) - 1;
  x &= kMask;
  x = (x * 0x9e3779b97f4a7c15ULL) & kMask;
  x ^= x >> 29;
  x = (x * 0xbf58476d1ce4e5b9ULL) & kMask;
  x ^= x >> 32;
  return x;
}

// "urn:uuid:" + a version-8 (custom) UUID that looks random: 60 bits hashed from (tag, index),
// then 62 bits that are a bijection of `index` for a given tag, so distinct indexes give
// distinct ids.
void AppendUuid(std::string* out, uint64_t tag, uint64_t index) {
  const uint64_t high = (Mix(tag, index) & ~uint64_t{0xf000}) | 0x8000;  // version 8
  const uint64_t low = (uint64_t{2} << 62) | Permute62(index + tag);     // variant 10
  out->append("urn:uuid:");
  AppendHex(out, high >> 32, 8);
  out->push_back('-');
  AppendHex(out, (high >> 16) & 0xffff, 4);
  out->push_back('-');
  AppendHex(out, high & 0xffff, 4);
  out->push_back('-');
  AppendHex(out, low >> 48, 4);
  out->push_back('-');
  AppendHex(out, low & 0xffffffffffffULL, 12);
}

// Calendar arithmetic on days since 1970-01-01 (H. Hinnant's civil algorithms).
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day) {
  year -= month <= 2 ? 1 : 0;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const auto year_of_era = static_cast<unsigned>(year - era * 400);
  const unsigned day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + static_cast<int64_t>(day_of_era) - 719468;
}

struct CivilDate {
  int64_t year;
  unsigned month;
  unsigned day;
};

CivilDate CivilFromDays(int64_t days) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto day_of_era = static_cast<unsigned>(days - era * 146097);
  const unsigned year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const unsigned day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const unsigned mp = (5 * day_of_year + 2) / 153;
  const unsigned day = day_of_year - (153 * mp + 2) / 5 + 1;
  const unsigned month = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<int64_t>(year_of_era) + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

// The same calendar day `years` later (29 February becomes 28 February).
int64_t AddYears(int64_t day, int64_t years) {
  const CivilDate date = CivilFromDays(day);
  const unsigned d = date.month == 2 && date.day == 29 ? 28 : date.day;
  return DaysFromCivil(date.year + years, date.month, d);
}

int64_t DayOf(int64_t micros) {
  return micros >= 0 ? micros / kMicrosPerDay : -((-micros + kMicrosPerDay - 1) / kMicrosPerDay);
}

int64_t YearOf(int64_t day) { return CivilFromDays(day).year; }

// "YYYY-MM-DD".
void AppendDate(std::string* out, int64_t day) {
  const CivilDate date = CivilFromDays(day);
  AppendUint(out, static_cast<uint64_t>(date.year), 4);
  out->push_back('-');
  AppendUint(out, date.month, 2);
  out->push_back('-');
  AppendUint(out, date.day, 2);
}

// "YYMMDD", as lot numbers carry it.
void AppendYymmdd(std::string* out, int64_t day) {
  const CivilDate date = CivilFromDays(day);
  AppendUint(out, static_cast<uint64_t>(date.year % 100), 2);
  AppendUint(out, date.month, 2);
  AppendUint(out, date.day, 2);
}

void SetTime(pb::Timestamp* timestamp, int64_t micros) {
  int64_t seconds = micros / kMicrosPerSecond;
  int64_t rest = micros % kMicrosPerSecond;
  if (rest < 0) {
    rest += kMicrosPerSecond;
    --seconds;
  }
  timestamp->set_seconds(seconds);
  timestamp->set_nanos(static_cast<int32_t>(rest * 1000));
}

// Rounds to 1/scale (scale 10: one decimal), as the nearest double to the decimal value.
double RoundTo(double value, double scale) { return std::round(value * scale) / scale; }

// Splits `total` into `parts.size()` whole parts, each at least 1. Requires total >= parts.
void SplitCount(uint32_t total, Rng& rng, std::vector<uint32_t>* parts) {
  const auto n = static_cast<uint32_t>(parts->size());
  TL_ASSERT(n > 0);
  TL_ASSERT(total >= n);
  uint32_t weights[16];
  TL_ASSERT(n <= 16);
  uint32_t weight_sum = 0;
  for (uint32_t i = 0; i < n; ++i) {
    weights[i] = 1 + static_cast<uint32_t>(rng.Below(4));
    weight_sum += weights[i];
  }
  const uint32_t extra = total - n;
  uint32_t given = 0;
  for (uint32_t i = 0; i + 1 < n; ++i) {
    const uint32_t share = static_cast<uint32_t>(uint64_t{extra} * weights[i] / weight_sum);
    (*parts)[i] = 1 + share;
    given += share;
  }
  (*parts)[n - 1] = 1 + (extra - given);
}

// ---------------------------------------------------------------------------------------------
// Parties
// ---------------------------------------------------------------------------------------------

enum class Domain : uint8_t { kFood, kDrug, kDevice, kCylinder, kRegulator };

enum PartyKind : uint8_t {
  kFarm,
  kProcessor,
  kFoodDistributor,
  kSupermarket,
  kCanteen,
  kOnlineShop,
  kDrugMaker,
  kWholesaler,
  kPharmacy,
  kHospital,
  kDeviceMaker,
  kDeviceDistributor,
  kFillingStation,
  kPartyKindCount,
};

struct PartyKindInfo {
  // Digits 4-5 of the party's GS1 company prefix 952KKNNNN.
  std::string_view code;
  Domain domain;
};
constexpr std::array<PartyKindInfo, kPartyKindCount> kPartyKinds = {{
    {"10", Domain::kFood},    {"11", Domain::kFood},   {"12", Domain::kFood},
    {"13", Domain::kFood},    {"14", Domain::kFood},   {"15", Domain::kFood},
    {"20", Domain::kDrug},    {"21", Domain::kDrug},   {"22", Domain::kDrug},
    {"23", Domain::kDrug},    {"30", Domain::kDevice}, {"31", Domain::kDevice},
    {"40", Domain::kCylinder},
}};

// Shanghai districts: the regulators' codes (行政区划代码) and the parties' home districts.
constexpr std::array<std::string_view, 6> kDistricts = {"310101", "310104", "310105",
                                                        "310112", "310115", "310117"};

struct Party {
  PartyKind kind = kFarm;
  uint32_t number = 0;    // 1-based within its kind
  uint32_t district = 0;  // index into kDistricts
  std::string id;         // urn:epc:id:pgln:952KKNNNN.000, the submitter and owning_party id
  std::string prefix;     // the GS1 company prefix, 9 digits
  std::string site;       // urn:epc:id:sgln:<prefix>.001.0
  std::string dock;       // urn:epc:id:sgln:<prefix>.001.1, the shipping/receiving read point
  uint64_t next_lot = 1;
  uint64_t next_sscc = 1;
  uint64_t next_document = 1;
};

constexpr std::string_view kUsccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";

// A unified social credit code (GB 32100-2015) from its first 17 characters.
std::string Uscc(std::string first17) {
  TL_ASSERT(first17.size() == 17);
  int sum = 0;
  int weight = 1;
  for (char c : first17) {
    const size_t value = kUsccAlphabet.find(c);
    TL_ASSERT(value != std::string_view::npos);
    sum += static_cast<int>(value) * weight;
    weight = weight * 3 % 31;
  }
  first17.push_back(kUsccAlphabet[static_cast<size_t>((31 - sum % 31) % 31)]);
  return first17;
}

struct Directory {
  std::vector<Party> parties;
  std::array<uint32_t, kPartyKindCount> begin{};
  std::array<uint32_t, kPartyKindCount> count{};
  std::vector<std::string> agencies;     // cylinder inspection agencies (USCC)
  std::vector<std::string> labs;         // testing laboratories (USCC)
  std::vector<std::string> regulators;   // regulator:SAMR-<district>, one per district
};

bool HasDomain(Profile profile, Domain domain) {
  switch (profile) {
    case Profile::kFood: return domain == Domain::kFood;
    case Profile::kDrug: return domain == Domain::kDrug;
    case Profile::kDevice: return domain == Domain::kDevice;
    case Profile::kCylinder: return domain == Domain::kCylinder;
    case Profile::kMixed: return true;
  }
  return false;
}

uint32_t PartyCount(const Options& o, PartyKind kind) {
  switch (kind) {
    case kFarm: return o.farms;
    case kProcessor: return o.processors;
    case kFoodDistributor: return o.distributors;
    case kSupermarket: return o.supermarkets;
    case kCanteen: return o.canteens;
    case kOnlineShop: return o.online_shops;
    case kDrugMaker: return o.drug_makers;
    case kWholesaler: return o.wholesalers;
    case kPharmacy: return o.pharmacies;
    case kHospital: return o.hospitals;
    case kDeviceMaker: return o.device_makers;
    case kDeviceDistributor: return o.device_distributors;
    case kFillingStation: return o.filling_stations;
    case kPartyKindCount: break;
  }
  return 0;
}

// Requires resolved options.
Directory BuildDirectory(const Options& o) {
  Directory dir;
  for (int k = 0; k < kPartyKindCount; ++k) {
    const auto kind = static_cast<PartyKind>(k);
    dir.begin[k] = static_cast<uint32_t>(dir.parties.size());
    dir.count[k] = PartyCount(o, kind);
    for (uint32_t number = 1; number <= dir.count[k]; ++number) {
      Party p;
      p.kind = kind;
      p.number = number;
      p.district = static_cast<uint32_t>(Mix(k, number) % kDistricts.size());
      p.prefix.append("952");
      p.prefix.append(kPartyKinds[k].code);
      AppendUint(&p.prefix, number, 4);
      p.id.append("urn:epc:id:pgln:").append(p.prefix).append(".000");
      p.site.append("urn:epc:id:sgln:").append(p.prefix).append(".001.0");
      p.dock.append("urn:epc:id:sgln:").append(p.prefix).append(".001.1");
      // Pair assertion: the ids we build are the ids the ingest accepts.
      TL_ASSERT(ingest::CheckPartyId(p.id).ok());
      TL_ASSERT(ingest::CheckObjectId(p.site).ok());
      dir.parties.push_back(std::move(p));
    }
  }
  for (uint32_t i = 1; i <= o.inspection_agencies; ++i) {
    std::string code = "12310000MB2A";
    AppendUint(&code, i, 5);
    dir.agencies.push_back(Uscc(std::move(code)));
    TL_ASSERT(ingest::CheckUnifiedSocialCreditCode(dir.agencies.back()).ok());
  }
  for (uint32_t i = 1; i <= o.labs; ++i) {
    std::string code = "12310000MB2B";
    AppendUint(&code, i, 5);
    dir.labs.push_back(Uscc(std::move(code)));
    TL_ASSERT(ingest::CheckUnifiedSocialCreditCode(dir.labs.back()).ok());
  }
  if (o.profile == Profile::kMixed) {
    for (std::string_view district : kDistricts) {
      std::string id = "regulator:SAMR-";
      id.append(district);
      dir.regulators.push_back(std::move(id));
    }
  }
  return dir;
}

// ---------------------------------------------------------------------------------------------
// Catalogs
// ---------------------------------------------------------------------------------------------

struct RawMaterial {
  std::string_view item;        // item reference after the indicator digit, 3 digits
  std::string_view lot_prefix;
  int shelf_days;
};
constexpr std::array<RawMaterial, 8> kRawMaterials = {{
    {"001", "RM", 3},    // raw cow milk
    {"002", "WH", 365},  // wheat
    {"003", "PK", 7},    // chilled pork carcass
    {"004", "RC", 365},  // japonica rice paddy
    {"005", "VG", 5},    // leafy vegetables
    {"006", "EG", 30},   // fresh eggs
    {"007", "SB", 365},  // soybeans
    {"008", "FR", 5},    // strawberries
}};
constexpr uint32_t kRawMaterialCount = kRawMaterials.size();

enum class ColdChain : uint8_t { kAmbient, kChilled, kFrozen };

struct Ingredient {
  uint8_t material;
  double kg_per_unit;
};

struct FoodProduct {
  std::string_view name;
  std::string_view item;
  std::array<Ingredient, 3> ingredients;
  uint8_t ingredient_count;
  uint32_t units_per_pallet;
  uint32_t case_units;
  int shelf_days;
  ColdChain cold_chain;
  // What an UNQUALIFIED sampling result reports.
  std::string_view failed_item, measured, limit, uom, standard;
};
constexpr std::array<FoodProduct, 8> kFoodProducts = {{
    {"Bright Star full-cream milk powder 900 g", "101", {{{0, 7.4}}}, 1, 720, 6, 720,
     ColdChain::kAmbient, "protein", "15.2", ">= 16.5", "g/100g", "GB 19644-2010"},
    {"UHT whole milk 250 ml", "102", {{{0, 0.26}}}, 1, 2880, 24, 180, ColdChain::kAmbient,
     "commercial sterility", "not sterile", "commercially sterile", "", "GB 25190-2010"},
    {"strawberry yogurt 200 g", "103", {{{0, 0.19}, {7, 0.025}}}, 2, 1920, 12, 21,
     ColdChain::kChilled, "coliforms", "150", "<= 100", "CFU/g", "GB 19302-2010"},
    {"frozen pork and cabbage dumplings 1 kg", "104", {{{1, 0.42}, {2, 0.36}, {4, 0.2}}}, 3,
     600, 10, 365, ColdChain::kFrozen, "Staphylococcus aureus", "1.2E4", "<= 1E3", "CFU/g",
     "GB 19295-2021"},
    {"dried egg noodles 500 g", "105", {{{1, 0.47}, {5, 0.05}}}, 2, 1600, 20, 365,
     ColdChain::kAmbient, "sodium dehydroacetate", "0.12", "not permitted", "g/kg",
     "GB 2760-2014"},
    {"brewed soy sauce 500 ml", "106", {{{6, 0.16}, {1, 0.06}}}, 2, 1200, 12, 540,
     ColdChain::kAmbient, "amino acid nitrogen", "0.38", ">= 0.40", "g/100mL", "GB 2717-2018"},
    {"northeast japonica rice 5 kg", "107", {{{3, 7.2}}}, 1, 200, 1, 365, ColdChain::kAmbient,
     "cadmium (Cd)", "0.31", "<= 0.2", "mg/kg", "GB 2762-2022"},
    {"silken tofu 400 g", "108", {{{6, 0.07}}}, 1, 1440, 12, 10, ColdChain::kChilled,
     "benzoic acid", "0.21", "not permitted", "g/kg", "GB 2760-2014"},
}};

struct SerialProduct {
  std::string_view name;
  std::string_view item;  // SGTIN item reference after the indicator digit (devices)
  std::string_view lot_prefix;
  uint32_t packs_min, packs_max;  // per case
  int shelf_months;
  bool chilled;
};
constexpr std::array<SerialProduct, 6> kDrugProducts = {{
    {"amoxicillin capsules 0.25 g x 24", "", "AM", 10, 20, 36, false},
    {"metformin hydrochloride tablets 0.5 g x 60", "", "MF", 10, 20, 36, false},
    {"insulin glargine injection 3 ml:300 IU", "", "IG", 10, 10, 30, true},
    {"recombinant hepatitis B vaccine 10 ug", "", "HB", 10, 10, 36, true},
    {"atorvastatin calcium tablets 20 mg x 7", "", "AT", 10, 20, 24, false},
    {"ibuprofen sustained-release capsules 0.3 g x 20", "", "IB", 10, 20, 36, false},
}};
constexpr std::array<SerialProduct, 6> kDeviceProducts = {{
    {"single-use infusion set", "201", "IS", 5, 10, 36, false},
    {"disposable sterile syringe 5 ml", "202", "SY", 5, 10, 60, false},
    {"drug-eluting coronary stent 3.0 x 18 mm", "203", "ST", 5, 8, 24, false},
    {"titanium cortical bone screw 3.5 mm", "204", "BS", 5, 10, 60, false},
    {"blood glucose test strips x 50", "205", "GS", 5, 10, 18, false},
    {"sterile medical surgical mask", "206", "MK", 5, 10, 24, false},
}};
constexpr uint32_t kProductsPerMaker = 3;
constexpr uint32_t kCatalogProducts = 6;

// Drug trace code serials below this are commissioned; unknown-serial anomalies use the rest.
constexpr uint64_t kDrugSerialLimit = 900000000;
constexpr uint64_t kDeviceSerialBase = 10000000;
constexpr uint64_t kDeviceUnknownSerialBase = 900000000000ULL;

struct CylinderType {
  std::string_view medium;
  double capacity_liters;
  double net_mass_kg;
  uint32_t design_life_years;
  uint32_t inspection_years;
};
constexpr std::array<CylinderType, 8> kCylinderTypes = {{
    {"LPG", 35.5, 14.5, 8, 4},   // YSP35.5 household cylinder
    {"LPG", 118, 49.5, 8, 4},    // YSP118 restaurant cylinder
    {"LPG", 23.5, 9.5, 8, 4},    // YSP23.5
    {"O2", 40, 8.6, 30, 3},      // seamless steel, 15 MPa
    {"C2H2", 40, 6.5, 30, 3},    // dissolved acetylene
    {"CO2", 40, 24, 30, 3},      // seamless steel
    {"N2", 40, 8, 15, 3},        // composite
    {"CNG", 80, 16, 20, 3},      // vehicle fuel cylinder
}};
// Station families: LPG stations fill types 0-2, industrial gas stations 3-6, CNG stations 7.
uint32_t CylinderTypeFor(uint32_t station_number, uint64_t draw) {
  switch (station_number % 7) {
    case 4:
    case 5: return 3 + static_cast<uint32_t>(draw % 4);
    case 6: return 7;
    default: {
      const uint64_t r = draw % 10;
      return r < 6 ? 0 : (r < 8 ? 1 : 2);
    }
  }
}
constexpr std::array<std::string_view, 5> kCylinderMakers = {
    "Zhejiang Jindun Pressure Vessel Co.", "Shanghai Gaoqiao Cylinder Works",
    "Beijing Tianhai Industry Co.", "Shenyang Zhongfu Cylinder Co.",
    "Jiangsu Minsheng Special Equipment Co."};

struct Finding {
  std::string_view code;
  std::string_view description;
};
constexpr std::array<Finding, 3> kFoodFindings = {{
    {"FSC-2.3", "cold storage temperature records incomplete"},
    {"FSC-4.1", "expired ingredients found in the raw material store"},
    {"FSC-5.2", "staff health certificates missing for 2 food handlers"},
}};
constexpr std::array<Finding, 3> kDrugFindings = {{
    {"GSP-3.1", "storage temperature excursion not documented"},
    {"GSP-6.4", "trace codes of dispensed packs not uploaded"},
    {"GSP-8.2", "prescription records incomplete for antibiotics"},
}};
constexpr std::array<Finding, 2> kDeviceFindings = {{
    {"UDI-2.2", "UDI records incomplete for implanted devices"},
    {"GSP-MD-4.1", "sterile devices stored next to non-conforming products"},
}};
constexpr std::array<Finding, 3> kCylinderFindings = {{
    {"TSG-R0006-4.3", "fill records lack the operator certificate number"},
    {"TSG-R0006-5.1", "cylinders without a valid inspection mark in the filling area"},
    {"TSG-R0006-6.2", "pre-fill check records missing"},
}};

std::string_view LegalBasis(Domain domain) {
  switch (domain) {
    case Domain::kFood: return "《中华人民共和国食品安全法》第一百二十四条";
    case Domain::kDrug: return "《中华人民共和国药品管理法》第一百二十六条";
    case Domain::kDevice: return "《医疗器械监督管理条例》第八十六条";
    case Domain::kCylinder: return "《中华人民共和国特种设备安全法》第八十四条";
    case Domain::kRegulator: break;
  }
  return "";
}

// ---------------------------------------------------------------------------------------------
// Volume model: expected events per chain, used to turn a daily volume into chain start rates
// and party counts. Measured on long runs (README.md); they only set rates, nothing depends on
// them being exact.
// ---------------------------------------------------------------------------------------------

constexpr double kFoodEventsPerChain = 73;
constexpr double kDrugEventsPerChain = 120;
constexpr double kDeviceEventsPerChain = 85;
// Cylinder events per cylinder per day (a fill every 1-7 days, plus inspections).
constexpr double kCylinderEventsPerDay = 0.25;
// Regulator inspections per event of the day (mixed profile).
constexpr double kInspectionsPerEvent = 0.004;

struct Shares {
  double food = 0, drug = 0, device = 0, cylinder = 0;
};

Shares SharesOf(Profile profile) {
  switch (profile) {
    case Profile::kFood: return {1, 0, 0, 0};
    case Profile::kDrug: return {0, 1, 0, 0};
    case Profile::kDevice: return {0, 0, 1, 0};
    case Profile::kCylinder: return {0, 0, 0, 1};
    case Profile::kMixed: return {0.40, 0.25, 0.10, 0.20};
  }
  return {};
}

uint32_t Derive(uint32_t given, double wanted, uint32_t minimum) {
  if (given != 0) return given;
  const double clamped =
      std::min(std::max(std::ceil(wanted), static_cast<double>(minimum)),
               static_cast<double>(kMaxPartiesPerKind));
  return static_cast<uint32_t>(clamped);
}

// ---------------------------------------------------------------------------------------------
// The schedule
// ---------------------------------------------------------------------------------------------

enum class StepKind : uint8_t {
  // Food chain (chain = food chain slot).
  kFoodStart,
  kFoodCommission,     // arg = input
  kFoodShipInput,      // arg = input
  kFoodReceiveInput,   // arg = input
  kFoodTransform,
  kFoodPack,           // arg = pallet
  kFoodStage,          // arg = pallet
  kFoodShipPallet,     // arg = pallet
  kFoodReceivePallet,  // arg = pallet
  kFoodUnpack,         // arg = pallet
  kFoodShipOutlet,     // arg = branch
  kFoodReceiveOutlet,  // arg = branch
  kFoodSell,           // arg = branch
  kSampling,           // arg = branch, value = sampled-at micros
  kRecallOpen,
  kRecallClose,
  // Drug and device chains (chain = serial chain slot).
  kSerialStart,
  kSerialCommission,      // arg = case
  kSerialPackCase,        // arg = case
  kSerialPackPallet,
  kSerialShipPallet,
  kSerialReceivePallet,
  kSerialUnpackPallet,
  kSerialUnpackCase,      // arg = case
  kSerialShipOutlet,      // arg = branch
  kSerialReceiveOutlet,   // arg = branch
  kSerialDispense,        // arg = branch
  kSerialAnomaly,         // arg = branch, value = anomaly | pack << 8
  // Cylinders (chain = cylinder slot).
  kCylinderRegister,
  kCylinderFill,
  kCylinderInspect,
  kCylinderAnomaly,       // chain = station party index, value = anomaly
  // Regulator.
  kInspectionTick,
  kEnforcement,           // chain = party index, arg = trigger, value = related event index
};

enum class Holder : uint8_t { kNone, kFood, kSerial };

Holder HolderOf(StepKind kind) {
  switch (kind) {
    case StepKind::kFoodCommission:
    case StepKind::kFoodShipInput:
    case StepKind::kFoodReceiveInput:
    case StepKind::kFoodTransform:
    case StepKind::kFoodPack:
    case StepKind::kFoodStage:
    case StepKind::kFoodShipPallet:
    case StepKind::kFoodReceivePallet:
    case StepKind::kFoodUnpack:
    case StepKind::kFoodShipOutlet:
    case StepKind::kFoodReceiveOutlet:
    case StepKind::kFoodSell:
    case StepKind::kSampling:
    case StepKind::kRecallOpen:
    case StepKind::kRecallClose: return Holder::kFood;
    case StepKind::kSerialCommission:
    case StepKind::kSerialPackCase:
    case StepKind::kSerialPackPallet:
    case StepKind::kSerialShipPallet:
    case StepKind::kSerialReceivePallet:
    case StepKind::kSerialUnpackPallet:
    case StepKind::kSerialUnpackCase:
    case StepKind::kSerialShipOutlet:
    case StepKind::kSerialReceiveOutlet:
    case StepKind::kSerialDispense:
    case StepKind::kSerialAnomaly: return Holder::kSerial;
    default: return Holder::kNone;
  }
}

struct Step {
  int64_t time = 0;
  uint64_t order = 0;
  uint64_t value = 0;
  uint32_t chain = 0;
  uint32_t arg = 0;
  StepKind kind = StepKind::kFoodStart;
  Domain domain = Domain::kFood;
};

struct StepLater {
  bool operator()(const Step& a, const Step& b) const {
    if (a.time != b.time) return a.time > b.time;
    return a.order > b.order;
  }
};

// Why an enforcement action is taken.
enum EnforcementTrigger : uint32_t {
  kAfterUnqualifiedSample,
  kAfterDefects,
  kAfterCorrectionOrder,
  kAfterClosure,
};

// ---------------------------------------------------------------------------------------------
// Live state
// ---------------------------------------------------------------------------------------------

struct FoodInput {
  uint32_t farm = 0;  // party index
  uint32_t material = 0;
  double kg = 0;
  std::string lot_number;
  std::string lot_class;
};

struct FoodPallet {
  uint32_t distributor = 0;  // party index
  uint32_t units = 0;
  uint32_t unshipped = 0;  // units still at the distributor after unpacking
  bool removal_done = false;
  std::string id;  // SSCC URN
};

struct FoodBranch {
  uint32_t outlet = 0;  // party index
  uint32_t pallet = 0;
  uint32_t units = 0;
  uint32_t remaining = 0;
  uint32_t sells_left = 0;
};

enum class RecallState : uint8_t { kNone, kScheduled, kOpen };

struct FoodChain {
  uint32_t processor = 0;  // party index
  uint32_t product = 0;
  uint32_t units = 0;
  uint32_t inputs_pending = 0;
  int64_t produced_day = 0;
  std::string lot_number;
  std::string lot_class;
  std::vector<FoodInput> inputs;
  std::vector<FoodPallet> pallets;
  std::vector<FoodBranch> branches;
  RecallState recall = RecallState::kNone;
  uint32_t recall_regulator = 0;
  std::string recall_id;
  uint32_t pending = 0;  // scheduled steps that refer to this chain
  uint32_t objects = 0;  // identifiers this chain keeps (counted in LiveObjects)

  void Reset() {
    inputs.clear();
    pallets.clear();
    branches.clear();
    lot_number.clear();
    lot_class.clear();
    recall_id.clear();
    recall = RecallState::kNone;
    pending = 0;
    objects = 0;
  }
};

struct SerialBranch {
  uint32_t outlet = 0;  // party index
  uint32_t first = 0;   // packs [first, end) of the chain
  uint32_t end = 0;
  uint32_t next = 0;    // next pack to dispense
};

struct SerialChain {
  Domain domain = Domain::kDrug;
  uint32_t maker = 0;       // party index
  uint32_t wholesaler = 0;  // party index
  uint32_t product = 0;     // catalog index
  uint64_t first_serial = 0;
  uint32_t cases = 0;
  uint32_t packs_per_case = 0;
  uint32_t cases_packed = 0;
  uint64_t pallet_sscc = 0;
  uint64_t first_case_sscc = 0;
  int64_t production_day = 0;
  int64_t expiry_day = 0;
  bool short_dated = false;
  std::string lot;
  std::vector<SerialBranch> branches;
  uint32_t pending = 0;
  uint32_t objects = 0;

  void Reset() {
    branches.clear();
    lot.clear();
    cases_packed = 0;
    short_dated = false;
    pending = 0;
    objects = 0;
  }
};

template <typename T>
class Slab {
 public:
  uint32_t Allocate() {
    if (!free_.empty()) {
      const uint32_t slot = free_.back();
      free_.pop_back();
      return slot;
    }
    items_.emplace_back();
    return static_cast<uint32_t>(items_.size() - 1);
  }
  void Free(uint32_t slot) {
    items_[slot].Reset();
    free_.push_back(slot);
  }
  T& operator[](uint32_t slot) { return items_[slot]; }
  size_t live() const { return items_.size() - free_.size(); }

 private:
  std::vector<T> items_;
  std::vector<uint32_t> free_;
};

enum class CylinderState : uint8_t {
  kUnregistered,   // waiting for its registration step
  kActive,         // filled regularly
  kAwaitingInspection,  // due; idle until the (late) inspection
  kFailed,         // failed an inspection; idle until re-inspected
  kRetired,        // past its design life; idle until scrapped
  kScrapped,       // scrapped; the slot's next cylinder is being registered
};

struct Cylinder {
  uint32_t station = 0;     // party index
  uint32_t generation = 0;  // how many cylinders this slot had before
  uint32_t type = 0;        // kCylinderTypes index
  int64_t manufactured_day = 0;
  int64_t life_end_day = 0;
  int64_t last_inspected_day = 0;
  int64_t due_day = 0;
  CylinderState state = CylinderState::kUnregistered;
  bool in_overdue_pool = false;
  bool in_retired_pool = false;
};

struct ScrappedCylinder {
  std::string id;
  uint32_t station = 0;
  uint32_t type = 0;
};
constexpr size_t kScrappedRingSize = 64;

constexpr size_t kSerialAnomalyKinds = 4;
constexpr std::array<Anomaly, kSerialAnomalyKinds> kSerialAnomalies = {
    Anomaly::kDoubleDispensing, Anomaly::kReceiptWithoutShipment, Anomaly::kUnknownSerial,
    Anomaly::kDecommissionedReappears};
constexpr size_t kFillAnomalyKinds = 5;
constexpr std::array<Anomaly, kFillAnomalyKinds> kFillAnomalies = {
    Anomaly::kFillUnregistered, Anomaly::kFillOtherStation, Anomaly::kFillOverdue,
    Anomaly::kFillScrapped, Anomaly::kFillPastDesignLife};

// Anomaly pacing for one domain: credit grows by the rate with every event of the domain, and an
// anomaly is planned at the next opportunity once credit passes a jittered threshold, so the
// share of anomalies matches the rate without being periodic.
struct AnomalyPacer {
  double credit = 0;
  double threshold = 1;
  uint64_t rotation = 0;  // which kind comes next
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Public helpers
// ---------------------------------------------------------------------------------------------

Result<Profile> ParseProfile(std::string_view name) {
  if (name == "food") return Profile::kFood;
  if (name == "drug") return Profile::kDrug;
  if (name == "device") return Profile::kDevice;
  if (name == "cylinder") return Profile::kCylinder;
  if (name == "mixed") return Profile::kMixed;
  std::string message = "profile \"";
  message.append(name);
  message.append("\": want food, drug, device, cylinder or mixed");
  return Status::InvalidArgument(std::move(message));
}

std::string_view ProfileName(Profile profile) {
  switch (profile) {
    case Profile::kFood: return "food";
    case Profile::kDrug: return "drug";
    case Profile::kDevice: return "device";
    case Profile::kCylinder: return "cylinder";
    case Profile::kMixed: return "mixed";
  }
  return "unknown";
}

std::string_view AnomalyName(Anomaly anomaly) {
  switch (anomaly) {
    case Anomaly::kDoubleDispensing: return "double_dispensing";
    case Anomaly::kReceiptWithoutShipment: return "receipt_without_shipment";
    case Anomaly::kUnknownSerial: return "unknown_serial";
    case Anomaly::kDecommissionedReappears: return "decommissioned_reappears";
    case Anomaly::kFillUnregistered: return "fill_unregistered";
    case Anomaly::kFillOtherStation: return "fill_other_station";
    case Anomaly::kFillOverdue: return "fill_overdue";
    case Anomaly::kFillScrapped: return "fill_scrapped";
    case Anomaly::kFillPastDesignLife: return "fill_past_design_life";
  }
  return "unknown";
}

Result<Options> ResolveOptions(const Options& options) {
  Options o = options;
  if (!(o.anomaly_rate >= 0 && o.anomaly_rate <= 0.1)) {
    return Status::InvalidArgument("anomaly_rate " + std::to_string(o.anomaly_rate) +
                                   ": want 0..0.1");
  }
  if (o.events_per_day == 0) {
    o.events_per_day = std::clamp<uint64_t>(o.events / 60, 200, kMaxDerivedEventsPerDay);
  }
  if (o.events_per_day > kMaxEventsPerDay) {
    return Status::InvalidArgument("events_per_day " + std::to_string(o.events_per_day) +
                                   ": want at most " + std::to_string(kMaxEventsPerDay));
  }
  const Shares shares = SharesOf(o.profile);
  const auto volume = static_cast<double>(o.events_per_day);
  const bool food = HasDomain(o.profile, Domain::kFood);
  const bool drug = HasDomain(o.profile, Domain::kDrug);
  const bool device = HasDomain(o.profile, Domain::kDevice);
  const bool cylinder = HasDomain(o.profile, Domain::kCylinder);
  const bool mixed = o.profile == Profile::kMixed;

  // Food: a chain has about 3 input lots, 2.5 pallets and 3.5 outlet deliveries per pallet.
  const double food_chains = shares.food * volume / kFoodEventsPerChain;
  if (food) {
    o.farms = Derive(o.farms, food_chains * 3 * 4, kRawMaterialCount);
    o.processors = Derive(o.processors, food_chains * 1.5, 1);
    o.distributors = Derive(o.distributors, food_chains * 2.5 / 5, 1);
    const double deliveries = food_chains * 2.5 * 3.5;
    o.supermarkets = Derive(o.supermarkets, deliveries * 3 * 0.6, 1);
    o.canteens = Derive(o.canteens, deliveries * 3 * 0.2, 1);
    o.online_shops = Derive(o.online_shops, deliveries * 3 * 0.2, 1);
  } else {
    o.farms = o.processors = o.distributors = 0;
    o.supermarkets = o.canteens = o.online_shops = 0;
  }
  // Drugs and devices: a chain has about 6 cases, each shipped in 1.5 deliveries.
  const double drug_chains = shares.drug * volume / kDrugEventsPerChain;
  const double device_chains = shares.device * volume / kDeviceEventsPerChain;
  if (drug) {
    o.drug_makers = Derive(o.drug_makers, drug_chains / 2, 1);
    o.wholesalers = Derive(o.wholesalers, drug_chains / 3, 1);
    o.pharmacies = Derive(o.pharmacies, drug_chains * 9 * 0.7 * 4, 1);
  } else {
    o.drug_makers = o.wholesalers = o.pharmacies = 0;
  }
  if (device) {
    o.device_makers = Derive(o.device_makers, device_chains / 2, 1);
    o.device_distributors = Derive(o.device_distributors, device_chains / 3, 1);
  } else {
    o.device_makers = o.device_distributors = 0;
  }
  if (drug || device) {
    const double hospital_deliveries =
        (drug ? drug_chains * 9 * 0.3 : 0) + (device ? device_chains * 9 : 0);
    o.hospitals = Derive(o.hospitals, hospital_deliveries * 2, drug ? 1 : 2);
  } else {
    o.hospitals = 0;
  }
  if (cylinder) {
    if (o.cylinders == 0) {
      o.cylinders = static_cast<uint32_t>(
          std::max(8.0, std::ceil(shares.cylinder * volume / kCylinderEventsPerDay)));
    }
    o.filling_stations = Derive(o.filling_stations, o.cylinders / 300.0, 2);
    o.inspection_agencies = Derive(o.inspection_agencies, o.filling_stations / 10.0, 1);
  } else {
    o.cylinders = o.filling_stations = o.inspection_agencies = 0;
  }
  o.labs = mixed ? Derive(o.labs, volume / 2000, 1) : 0;

  const std::array<std::pair<std::string_view, uint32_t>, 15> counts = {{
      {"farms", o.farms},
      {"processors", o.processors},
      {"distributors", o.distributors},
      {"supermarkets", o.supermarkets},
      {"canteens", o.canteens},
      {"online_shops", o.online_shops},
      {"drug_makers", o.drug_makers},
      {"wholesalers", o.wholesalers},
      {"pharmacies", o.pharmacies},
      {"hospitals", o.hospitals},
      {"device_makers", o.device_makers},
      {"device_distributors", o.device_distributors},
      {"filling_stations", o.filling_stations},
      {"inspection_agencies", o.inspection_agencies},
      {"labs", o.labs},
  }};
  for (const auto& [name, count] : counts) {
    if (count > kMaxPartiesPerKind) {
      std::string message(name);
      message.append(" ").append(std::to_string(count)).append(": want at most ");
      message.append(std::to_string(kMaxPartiesPerKind));
      return Status::InvalidArgument(std::move(message));
    }
  }
  const auto need = [](bool active, uint32_t got, uint32_t want,
                       std::string_view name) -> Status {
    if (!active || got >= want) return Status::Ok();
    std::string message(name);
    message.append(" ").append(std::to_string(got)).append(": the profile needs at least ");
    message.append(std::to_string(want));
    return Status::InvalidArgument(std::move(message));
  };
  TL_RETURN_IF_ERROR(need(food, o.farms, kRawMaterialCount, "farms"));
  TL_RETURN_IF_ERROR(need(food, o.processors, 1, "processors"));
  TL_RETURN_IF_ERROR(need(food, o.distributors, 1, "distributors"));
  TL_RETURN_IF_ERROR(
      need(food, o.supermarkets + o.canteens + o.online_shops, 2, "food outlets"));
  TL_RETURN_IF_ERROR(need(drug, o.drug_makers, 1, "drug_makers"));
  TL_RETURN_IF_ERROR(need(drug, o.wholesalers, 1, "wholesalers"));
  TL_RETURN_IF_ERROR(need(drug, o.pharmacies + o.hospitals, 2, "pharmacies + hospitals"));
  TL_RETURN_IF_ERROR(need(device, o.device_makers, 1, "device_makers"));
  TL_RETURN_IF_ERROR(need(device, o.device_distributors, 1, "device_distributors"));
  TL_RETURN_IF_ERROR(need(device, o.hospitals, 2, "hospitals"));
  TL_RETURN_IF_ERROR(need(cylinder, o.filling_stations, 2, "filling_stations"));
  TL_RETURN_IF_ERROR(need(cylinder, o.inspection_agencies, 1, "inspection_agencies"));
  TL_RETURN_IF_ERROR(need(cylinder, o.cylinders, 8, "cylinders"));
  TL_RETURN_IF_ERROR(need(mixed, o.labs, 1, "labs"));
  if (cylinder && o.cylinders > 10000000) {
    return Status::InvalidArgument("cylinders " + std::to_string(o.cylinders) +
                                   ": want at most 10000000");
  }
  return o;
}

// ---------------------------------------------------------------------------------------------
// Generator::Impl
// ---------------------------------------------------------------------------------------------

class Generator::Impl {
 public:
  explicit Impl(const Options& options)
      : options_(options),
        dir_(BuildDirectory(options)),
        rng_(options.seed),
        event_tag_(Mix(options.seed, kSaltEventId)),
        transformation_tag_(Mix(options.seed, kSaltTransformationId)),
        now_(options.start_unix_micros) {
    object_scratch_.mutable_object_event();
    aggregation_scratch_.mutable_aggregation_event();
    transaction_scratch_.mutable_transaction_event();
    transformation_scratch_.mutable_transformation_event();
    inspection_scratch_.mutable_inspection();
    sampling_scratch_.mutable_sampling_result();
    enforcement_scratch_.mutable_enforcement_action();
    recall_scratch_.mutable_recall();
    removal_scratch_.mutable_recall_removal();
    registration_scratch_.mutable_cylinder_registration();
    cylinder_inspection_scratch_.mutable_cylinder_inspection();
    fill_scratch_.mutable_cylinder_fill();
    for (AnomalyPacer& pacer : pacers_) pacer.threshold = 0.5 + rng_.Uniform();
    Start();
  }

  const v1::Event* Next() {
    if (produced_ == options_.events) return nullptr;
    last_anomaly_.reset();
    for (uint64_t silent = 0; silent < kMaxSilentSteps; ++silent) {
      TL_ASSERT(!heap_.empty());  // the chain sources always reschedule themselves
      std::pop_heap(heap_.begin(), heap_.end(), StepLater());
      const Step step = heap_.back();
      heap_.pop_back();
      TL_ASSERT(step.time >= now_);
      now_ = step.time;
      current_ = nullptr;
      Run(step);
      Release(step);
      if (current_ != nullptr) {
        ++produced_;
        return current_;
      }
    }
    TL_ASSERT(false && "too many steps without an event");
    return nullptr;
  }

  uint64_t produced() const { return produced_; }
  std::optional<Anomaly> last_anomaly() const { return last_anomaly_; }
  const std::array<uint64_t, kAnomalyKinds>& anomaly_counts() const { return anomaly_counts_; }
  uint64_t anomaly_domain_events() const { return anomaly_domain_events_; }
  size_t LiveObjects() const {
    return live_objects_ + cylinders_.size() + overdue_pool_.size() + retired_pool_.size() +
           scrapped_.size();
  }
  size_t PendingSteps() const { return heap_.size(); }
  // Measured peaks at 20 000 events a day (3 million events per profile, 10 million mixed):
  // at most 18.6 identifiers (drug) and 1.7 steps (mixed) per daily event, plus the cylinder
  // registry and one step per cylinder. The bounds leave a factor 2 or more.
  size_t LiveObjectsBound() const {
    return 40 * options_.events_per_day + 2 * size_t{options_.cylinders} + 4096;
  }
  size_t PendingStepsBound() const {
    return 3 * options_.events_per_day + size_t{options_.cylinders} + 4096;
  }
  const Options& options() const { return options_; }

 private:
  // --- schedule -------------------------------------------------------------------------------

  void Schedule(StepKind kind, int64_t time, uint32_t chain = 0, uint32_t arg = 0,
                uint64_t value = 0, Domain domain = Domain::kFood) {
    TL_ASSERT(time >= now_);
    switch (HolderOf(kind)) {
      case Holder::kFood: ++food_[chain].pending; break;
      case Holder::kSerial: ++serial_[chain].pending; break;
      case Holder::kNone: break;
    }
    heap_.push_back(Step{time, next_order_++, value, chain, arg, kind, domain});
    std::push_heap(heap_.begin(), heap_.end(), StepLater());
  }

  // Drops the step's hold on its chain; frees the chain when nothing refers to it any more.
  void Release(const Step& step) {
    switch (HolderOf(step.kind)) {
      case Holder::kFood: {
        FoodChain& chain = food_[step.chain];
        TL_ASSERT(chain.pending > 0);
        if (--chain.pending == 0) {
          live_objects_ -= chain.objects;
          food_.Free(step.chain);
        }
        break;
      }
      case Holder::kSerial: {
        SerialChain& chain = serial_[step.chain];
        TL_ASSERT(chain.pending > 0);
        if (--chain.pending == 0) {
          live_objects_ -= chain.objects;
          serial_.Free(step.chain);
        }
        break;
      }
      case Holder::kNone: break;
    }
  }

  void Start() {
    const Shares shares = SharesOf(options_.profile);
    const auto volume = static_cast<double>(options_.events_per_day);
    const auto interval = [](double per_day) -> int64_t {
      return per_day > 0 ? static_cast<int64_t>(static_cast<double>(kMicrosPerDay) / per_day)
                         : 0;
    };
    food_interval_ = interval(shares.food * volume / kFoodEventsPerChain);
    drug_interval_ = interval(shares.drug * volume / kDrugEventsPerChain);
    device_interval_ = interval(shares.device * volume / kDeviceEventsPerChain);
    inspection_interval_ =
        options_.profile == Profile::kMixed ? interval(kInspectionsPerEvent * volume) : 0;
    const int64_t start = options_.start_unix_micros;
    if (food_interval_ > 0) Schedule(StepKind::kFoodStart, start + Jitter(food_interval_));
    if (drug_interval_ > 0) {
      Schedule(StepKind::kSerialStart, start + Jitter(drug_interval_), 0, 0, 0, Domain::kDrug);
    }
    if (device_interval_ > 0) {
      Schedule(StepKind::kSerialStart, start + Jitter(device_interval_), 0, 0, 0,
               Domain::kDevice);
    }
    if (inspection_interval_ > 0) {
      Schedule(StepKind::kInspectionTick, start + Jitter(inspection_interval_));
    }
    if (HasDomain(options_.profile, Domain::kCylinder)) {
      cylinders_.resize(options_.cylinders);
      const uint32_t stations = dir_.count[kFillingStation];
      for (uint32_t slot = 0; slot < options_.cylinders; ++slot) {
        Cylinder& c = cylinders_[slot];
        c.station = dir_.begin[kFillingStation] + slot % stations;
        NewCylinder(slot, /*initial=*/true);
        Schedule(StepKind::kCylinderRegister,
                 start + rng_.Micros(kMicrosPerMinute, 3 * kMicrosPerDay), slot);
      }
    }
    if (drug_interval_ > 0 || device_interval_ > 0) {
      serial_counters_.assign(size_t{kCatalogProducts} *
                                  (dir_.count[kDrugMaker] + dir_.count[kDeviceMaker] + 2),
                              0);
    }
  }

  // A random time between lo and hi microseconds from now (whole seconds).
  int64_t After(int64_t lo, int64_t hi) { return now_ + rng_.Micros(lo, hi); }

  // `t`, or the next opening time (plus up to an hour) if `t` falls outside open_hour..close_hour
  // local time (UTC+8): shops sell, pharmacies dispense, stations fill, and inspectors and labs
  // work in the daytime. Never earlier than `t`.
  int64_t OpenHours(int64_t t, int64_t open_hour, int64_t close_hour) {
    constexpr int64_t kLocalOffset = 8 * kMicrosPerHour;
    const int64_t local = t + kLocalOffset;
    const int64_t day_start = DayOf(local) * kMicrosPerDay;
    const int64_t hour = (local - day_start) / kMicrosPerHour;
    if (hour >= open_hour && hour < close_hour) return t;
    const int64_t next_open =
        day_start + (hour < open_hour ? 0 : kMicrosPerDay) + open_hour * kMicrosPerHour;
    return next_open - kLocalOffset + rng_.Micros(0, kMicrosPerHour);
  }

  // A random interval with mean `mean`, at least a second.
  int64_t Jitter(int64_t mean) {
    return std::max<int64_t>(kMicrosPerSecond, rng_.Micros(mean / 2, mean + mean / 2));
  }

  void Run(const Step& s) {
    switch (s.kind) {
      case StepKind::kFoodStart: FoodStart(); break;
      case StepKind::kFoodCommission: FoodCommission(s.chain, s.arg); break;
      case StepKind::kFoodShipInput: FoodShipInput(s.chain, s.arg); break;
      case StepKind::kFoodReceiveInput: FoodReceiveInput(s.chain, s.arg); break;
      case StepKind::kFoodTransform: FoodTransform(s.chain); break;
      case StepKind::kFoodPack: FoodPack(s.chain, s.arg); break;
      case StepKind::kFoodStage: FoodStage(s.chain, s.arg); break;
      case StepKind::kFoodShipPallet: FoodShipPallet(s.chain, s.arg); break;
      case StepKind::kFoodReceivePallet: FoodReceivePallet(s.chain, s.arg); break;
      case StepKind::kFoodUnpack: FoodUnpack(s.chain, s.arg); break;
      case StepKind::kFoodShipOutlet: FoodShipOutlet(s.chain, s.arg); break;
      case StepKind::kFoodReceiveOutlet: FoodReceiveOutlet(s.chain, s.arg); break;
      case StepKind::kFoodSell: FoodSell(s.chain, s.arg); break;
      case StepKind::kSampling: Sampling(s.chain, s.arg, static_cast<int64_t>(s.value)); break;
      case StepKind::kRecallOpen: RecallOpen(s.chain); break;
      case StepKind::kRecallClose: RecallClose(s.chain); break;
      case StepKind::kSerialStart: SerialStart(s.domain); break;
      case StepKind::kSerialCommission: SerialCommission(s.chain, s.arg); break;
      case StepKind::kSerialPackCase: SerialPackCase(s.chain, s.arg); break;
      case StepKind::kSerialPackPallet: SerialPackPallet(s.chain); break;
      case StepKind::kSerialShipPallet: SerialShipPallet(s.chain); break;
      case StepKind::kSerialReceivePallet: SerialReceivePallet(s.chain); break;
      case StepKind::kSerialUnpackPallet: SerialUnpackPallet(s.chain); break;
      case StepKind::kSerialUnpackCase: SerialUnpackCase(s.chain, s.arg); break;
      case StepKind::kSerialShipOutlet: SerialShipOutlet(s.chain, s.arg); break;
      case StepKind::kSerialReceiveOutlet: SerialReceiveOutlet(s.chain, s.arg); break;
      case StepKind::kSerialDispense: SerialDispense(s.chain, s.arg); break;
      case StepKind::kSerialAnomaly: SerialAnomaly(s.chain, s.arg, s.value); break;
      case StepKind::kCylinderRegister: CylinderRegister(s.chain); break;
      case StepKind::kCylinderFill: CylinderFill(s.chain); break;
      case StepKind::kCylinderInspect: CylinderInspect(s.chain); break;
      case StepKind::kCylinderAnomaly: CylinderAnomaly(s.chain, s.value); break;
      case StepKind::kInspectionTick: InspectionTick(); break;
      case StepKind::kEnforcement: Enforcement(s.chain, s.arg, s.value); break;
    }
  }

  // --- parties --------------------------------------------------------------------------------

  const Party& P(uint32_t index) const { return dir_.parties[index]; }
  Party& MutableP(uint32_t index) { return dir_.parties[index]; }

  uint32_t PickParty(PartyKind kind) {
    TL_ASSERT(dir_.count[kind] > 0);
    return dir_.begin[kind] + static_cast<uint32_t>(rng_.Below(dir_.count[kind]));
  }
  // One of the parties of the kinds first..last (contiguous in the directory).
  uint32_t PickPartyAmong(PartyKind first, PartyKind last) {
    const uint32_t begin = dir_.begin[first];
    const uint32_t end = dir_.begin[last] + dir_.count[last];
    TL_ASSERT(end > begin);
    return begin + static_cast<uint32_t>(rng_.Below(end - begin));
  }
  const std::string& RegulatorFor(const Party& party) const {
    return dir_.regulators[party.district % dir_.regulators.size()];
  }

  // --- event building -------------------------------------------------------------------------

  v1::Event* Begin(v1::Event* scratch, const std::string& submitter) {
    std::string* id = scratch->mutable_event_id();
    id->clear();
    AppendUuid(id, event_tag_, produced_);
    scratch->set_submitter_id(submitter);
    current_ = scratch;
    return scratch;
  }
  v1::ObjectEvent* BeginObject(const std::string& submitter) {
    v1::ObjectEvent* body = Begin(&object_scratch_, submitter)->mutable_object_event();
    body->Clear();
    return body;
  }
  v1::AggregationEvent* BeginAggregation(const std::string& submitter) {
    v1::AggregationEvent* body =
        Begin(&aggregation_scratch_, submitter)->mutable_aggregation_event();
    body->Clear();
    return body;
  }
  template <typename Body>
  Body* BeginBody(v1::Event* scratch, Body* (v1::Event::*mutable_body)(),
                  const std::string& submitter) {
    Body* body = (Begin(scratch, submitter)->*mutable_body)();
    body->Clear();
    return body;
  }

  void FillCommon(v1::EpcisCommon* common, std::string_view biz_step,
                  std::string_view disposition, const std::string& read_point,
                  const std::string* biz_location) {
    SetTime(common->mutable_event_time(), now_);
    Assign(common->mutable_event_time_zone_offset(), "+08:00");
    Assign(common->mutable_biz_step(), biz_step);
    if (!disposition.empty()) Assign(common->mutable_disposition(), disposition);
    common->mutable_read_point()->set_id(read_point);
    if (biz_location != nullptr) common->mutable_biz_location()->set_id(*biz_location);
  }

  static void AddTransfer(v1::EpcisCommon* common, const Party& from, const Party& to) {
    v1::SourceDestination* source = common->add_source_list();
    Assign(source->mutable_type(), "owning_party");
    source->set_id(from.id);
    source = common->add_source_list();
    Assign(source->mutable_type(), "location");
    source->set_id(from.site);
    v1::SourceDestination* destination = common->add_destination_list();
    Assign(destination->mutable_type(), "owning_party");
    destination->set_id(to.id);
    destination = common->add_destination_list();
    Assign(destination->mutable_type(), "location");
    destination->set_id(to.site);
  }

  // A business document (purchase order, invoice, despatch advice) as a GDTI issued by `issuer`.
  static void AddTransaction(v1::EpcisCommon* common, std::string_view type,
                             std::string_view document_type, Party& issuer) {
    v1::BizTransaction* transaction = common->add_biz_transaction_list();
    Assign(transaction->mutable_type(), type);
    std::string* id = transaction->mutable_biz_transaction();
    id->clear();
    id->append("urn:epc:id:gdti:").append(issuer.prefix).push_back('.');
    id->append(document_type).push_back('.');
    AppendUint(id, issuer.next_document++);
  }

  void AddSensor(v1::EpcisCommon* common, const Party& owner, ColdChain cold_chain,
                 int64_t transit_micros) {
    if (cold_chain == ColdChain::kAmbient) return;
    v1::SensorElement* element = common->add_sensor_element_list();
    v1::SensorMetadata* metadata = element->mutable_sensor_metadata();
    std::string* device = metadata->mutable_device_id();
    device->clear();
    device->append("urn:epc:id:giai:").append(owner.prefix).append(".TL");
    AppendUint(device, 1 + rng_.Below(200), 4);
    SetTime(metadata->mutable_start_time(), now_);
    SetTime(metadata->mutable_end_time(), now_ + transit_micros);
    v1::SensorReport* report = element->add_sensor_reports();
    Assign(report->mutable_type(), "Temperature");
    const bool frozen = cold_chain == ColdChain::kFrozen;
    const double low = frozen ? -22 + rng_.Uniform() * 3 : 2 + rng_.Uniform() * 1.5;
    const double high = frozen ? -18 + rng_.Uniform() * 2.5 : 5.5 + rng_.Uniform() * 2.3;
    report->set_min_value(RoundTo(low, 10));
    report->set_max_value(RoundTo(high, 10));
    report->set_mean_value(RoundTo((low + high) / 2, 10));
    Assign(report->mutable_uom(), "CEL");
  }

  static void AddQuantity(pb::RepeatedPtrField<v1::QuantityElement>* list,
                          const std::string& epc_class, double quantity, std::string_view uom) {
    v1::QuantityElement* element = list->Add();
    element->set_epc_class(epc_class);
    element->set_quantity(quantity);
    if (!uom.empty()) Assign(element->mutable_uom(), uom);
  }

  static void AppendSscc(std::string* out, const Party& owner, uint64_t serial) {
    TL_ASSERT(serial < 100000000);
    out->append("urn:epc:id:sscc:").append(owner.prefix).push_back('.');
    AppendUint(out, serial, 8);
  }

  // Counts an event of a domain that carries anomalies (for the pacing and the statistics).
  void CountDomainEvent(Domain domain) {
    ++anomaly_domain_events_;
    pacers_[PacerIndex(domain)].credit += options_.anomaly_rate;
  }
  static size_t PacerIndex(Domain domain) {
    switch (domain) {
      case Domain::kDrug: return 0;
      case Domain::kDevice: return 1;
      default: return 2;
    }
  }
  // Returns true (and pays for it) when the domain is due an anomaly.
  bool AnomalyDue(Domain domain) {
    AnomalyPacer& pacer = pacers_[PacerIndex(domain)];
    if (options_.anomaly_rate <= 0 || pacer.credit < pacer.threshold) return false;
    pacer.credit -= 1;
    pacer.threshold = 0.5 + rng_.Uniform();
    return true;
  }
  void MarkAnomaly(Anomaly anomaly) {
    last_anomaly_ = anomaly;
    ++anomaly_counts_[static_cast<size_t>(anomaly)];
  }

  // --- food -----------------------------------------------------------------------------------

  void FoodStart() {
    Schedule(StepKind::kFoodStart, now_ + Jitter(food_interval_));
    const uint32_t id = food_.Allocate();
    FoodChain& chain = food_[id];
    chain.processor = PickParty(kProcessor);
    Party& processor = MutableP(chain.processor);
    chain.product = (processor.number + 3 * static_cast<uint32_t>(rng_.Below(2))) %
                    static_cast<uint32_t>(kFoodProducts.size());
    const FoodProduct& product = kFoodProducts[chain.product];
    const auto pallets = static_cast<uint32_t>(rng_.Range(1, 4));
    chain.units = pallets * product.units_per_pallet;

    for (uint32_t i = 0; i < product.ingredient_count; ++i) {
      const Ingredient& ingredient = product.ingredients[i];
      const double kg = static_cast<double>(chain.units) * ingredient.kg_per_unit *
                        (1.03 + 0.05 * rng_.Uniform());
      const auto farms = static_cast<uint32_t>(rng_.Range(1, 2));
      const double first_share = farms == 1 ? 1.0 : 0.4 + 0.2 * rng_.Uniform();
      for (uint32_t f = 0; f < farms; ++f) {
        FoodInput input;
        input.material = ingredient.material;
        // Farm n grows raw material (n - 1) % 8; pick one of those.
        const uint32_t growers =
            (dir_.count[kFarm] - ingredient.material - 1) / kRawMaterialCount + 1;
        const uint32_t number = ingredient.material + 1 +
                                kRawMaterialCount * static_cast<uint32_t>(rng_.Below(growers));
        input.farm = dir_.begin[kFarm] + number - 1;
        const double share = f == 0 ? first_share : 1.0 - first_share;
        input.kg = std::max(1.0, RoundTo(kg * share, kg * share >= 100 ? 1 : 10));
        chain.inputs.push_back(std::move(input));
      }
    }
    chain.inputs_pending = static_cast<uint32_t>(chain.inputs.size());
    chain.pallets.resize(pallets);
    for (FoodPallet& pallet : chain.pallets) {
      pallet.distributor = PickParty(kFoodDistributor);
      pallet.units = product.units_per_pallet;
      AppendSscc(&pallet.id, processor, processor.next_sscc++);
    }
    chain.objects = static_cast<uint32_t>(chain.inputs.size() + 1 + chain.pallets.size());
    live_objects_ += chain.objects;
    for (uint32_t i = 0; i < chain.inputs.size(); ++i) {
      Schedule(StepKind::kFoodCommission, After(kMicrosPerMinute, 6 * kMicrosPerHour),
               id, i);
    }
  }

  void FoodCommission(uint32_t id, uint32_t i) {
    FoodInput& input = food_[id].inputs[i];
    Party& farm = MutableP(input.farm);
    // The lot is named when it is harvested (collected): material, date, farm's sequence.
    const RawMaterial& material = kRawMaterials[input.material];
    input.lot_number.append(material.lot_prefix);
    AppendYymmdd(&input.lot_number, DayOf(now_));
    input.lot_number.push_back('-');
    AppendUint(&input.lot_number, farm.next_lot++);
    input.lot_class.append("urn:epc:class:lgtin:").append(farm.prefix).append(".0");
    input.lot_class.append(material.item).push_back('.');
    input.lot_class.append(input.lot_number);
    v1::ObjectEvent* e = BeginObject(farm.id);
    FillCommon(e->mutable_common(), "commissioning", "active", farm.site, &farm.site);
    e->set_action(v1::ACTION_ADD);
    AddQuantity(e->mutable_quantity_list(), input.lot_class, input.kg, "KGM");
    v1::Ilmd* ilmd = e->mutable_ilmd();
    ilmd->set_lot_number(input.lot_number);
    const int64_t today = DayOf(now_);
    std::string* date = ilmd->mutable_production_date();
    date->clear();
    AppendDate(date, today);
    date = ilmd->mutable_item_expiration_date();
    date->clear();
    AppendDate(date, today + kRawMaterials[input.material].shelf_days);
    (*ilmd->mutable_extensions()->mutable_fields())["cbvmda:countryOfOrigin"].set_string_value(
        "CN");
    Schedule(StepKind::kFoodShipInput, After(2 * kMicrosPerHour, 20 * kMicrosPerHour),
             id, i);
  }

  void FoodShipInput(uint32_t id, uint32_t i) {
    FoodChain& chain = food_[id];
    const FoodInput& input = chain.inputs[i];
    Party& farm = MutableP(input.farm);
    Party& processor = MutableP(chain.processor);
    v1::ObjectEvent* e = BeginObject(farm.id);
    v1::EpcisCommon* common = e->mutable_common();
    FillCommon(common, "shipping", "in_transit", farm.dock, nullptr);
    AddTransaction(common, "po", "001", processor);
    AddTransaction(common, "desadv", "003", farm);
    AddTransfer(common, farm, processor);
    const int64_t transit = rng_.Micros(2 * kMicrosPerHour, 30 * kMicrosPerHour);
    if (input.material == 0 || input.material == 2) {
      AddSensor(common, farm, ColdChain::kChilled, transit);  // raw milk, pork
    }
    e->set_action(v1::ACTION_OBSERVE);
    AddQuantity(e->mutable_quantity_list(), input.lot_class, input.kg, "KGM");
    Schedule(StepKind::kFoodReceiveInput, now_ + transit, id, i);
  }

  void FoodReceiveInput(uint32_t id, uint32_t i) {
    FoodChain& chain = food_[id];
    const FoodInput& input = chain.inputs[i];
    const Party& farm = P(input.farm);
    const Party& processor = P(chain.processor);
    v1::ObjectEvent* e = BeginObject(processor.id);
    v1::EpcisCommon* common = e->mutable_common();
    FillCommon(common, "receiving", "in_progress", processor.dock, &processor.site);
    AddTransfer(common, farm, processor);
    e->set_action(v1::ACTION_OBSERVE);
    AddQuantity(e->mutable_quantity_list(), input.lot_class, input.kg, "KGM");
    TL_ASSERT(chain.inputs_pending > 0);
    if (--chain.inputs_pending == 0) {
      Schedule(StepKind::kFoodTransform, After(kMicrosPerHour, 12 * kMicrosPerHour),
               id);
    }
  }

  void FoodTransform(uint32_t id) {
    FoodChain& chain = food_[id];
    Party& processor = MutableP(chain.processor);
    const FoodProduct& product = kFoodProducts[chain.product];
    chain.produced_day = DayOf(now_);
    chain.lot_number.append("L");
    AppendYymmdd(&chain.lot_number, chain.produced_day);
    chain.lot_number.push_back('-');
    AppendUint(&chain.lot_number, processor.next_lot++);
    chain.lot_class.append("urn:epc:class:lgtin:").append(processor.prefix).append(".0");
    chain.lot_class.append(product.item).push_back('.');
    chain.lot_class.append(chain.lot_number);
    v1::TransformationEvent* e = BeginBody(
        &transformation_scratch_, &v1::Event::mutable_transformation_event, processor.id);
    FillCommon(e->mutable_common(), "commissioning", "active", processor.site, &processor.site);
    for (const FoodInput& input : chain.inputs) {
      AddQuantity(e->mutable_input_quantity_list(), input.lot_class, input.kg, "KGM");
    }
    AddQuantity(e->mutable_output_quantity_list(), chain.lot_class, chain.units, "");
    std::string* transformation = e->mutable_transformation_id();
    transformation->clear();
    AppendUuid(transformation, transformation_tag_, transformations_++);
    v1::Ilmd* ilmd = e->mutable_ilmd();
    ilmd->set_lot_number(chain.lot_number);
    std::string* date = ilmd->mutable_production_date();
    date->clear();
    AppendDate(date, chain.produced_day);
    date = ilmd->mutable_item_expiration_date();
    date->clear();
    AppendDate(date, chain.produced_day + product.shelf_days);
    // Every pallet leaves within about four hours, before any outlet can receive the lot.
    int64_t at = After(30 * kMicrosPerMinute, 90 * kMicrosPerMinute);
    for (uint32_t p = 0; p < chain.pallets.size(); ++p) {
      Schedule(StepKind::kFoodPack, at, id, p);
      at += rng_.Micros(5 * kMicrosPerMinute, 20 * kMicrosPerMinute);
    }
  }

  void FoodPack(uint32_t id, uint32_t p) {
    FoodChain& chain = food_[id];
    const Party& processor = P(chain.processor);
    const FoodPallet& pallet = chain.pallets[p];
    v1::AggregationEvent* e = BeginAggregation(processor.id);
    FillCommon(e->mutable_common(), "packing", "in_progress", processor.site, &processor.site);
    e->set_action(v1::ACTION_ADD);
    e->set_parent_id(pallet.id);
    AddQuantity(e->mutable_child_quantity_list(), chain.lot_class, pallet.units, "");
    if (rng_.Chance(0.3)) {
      Schedule(StepKind::kFoodStage, After(10 * kMicrosPerMinute, 40 * kMicrosPerMinute),
               id, p);
    }
    Schedule(StepKind::kFoodShipPallet, After(kMicrosPerHour, 2 * kMicrosPerHour),
             id, p);
  }

  void FoodStage(uint32_t id, uint32_t p) {
    FoodChain& chain = food_[id];
    Party& processor = MutableP(chain.processor);
    const FoodPallet& pallet = chain.pallets[p];
    v1::TransactionEvent* e =
        BeginBody(&transaction_scratch_, &v1::Event::mutable_transaction_event, processor.id);
    v1::EpcisCommon* common = e->mutable_common();
    FillCommon(common, "staging_outbound", "", processor.site, &processor.site);
    AddTransaction(common, "po", "001", MutableP(pallet.distributor));
    AddTransaction(common, "inv", "002", processor);
    e->set_action(v1::ACTION_ADD);
    e->set_parent_id(pallet.id);
    AddQuantity(e->mutable_quantity_list(), chain.lot_class, pallet.units, "");
  }

  void FoodShipPallet(uint32_t id, uint32_t p) {
    FoodChain& chain = food_[id];
    Party& processor = MutableP(chain.processor);
    const FoodPallet& pallet = chain.pallets[p];
    const Party& distributor = P(pallet.distributor);
    v1::ObjectEvent* e = BeginObject(processor.id);
    v1::EpcisCommon* common = e->mutable_common();
    FillCommon(common, "shipping", "in_transit", processor.dock, nullptr);
    AddTransaction(common, "desadv", "003", processor);
    AddTransfer(common, processor, distributor);
    const int64_t transit = rng_.Micros(6 * kMicrosPerHour, 48 * kMicrosPerHour);
    AddSensor(common, processor, kFoodProducts[chain.product].cold_chain, transit);
    e->set_action(v1::ACTION_OBSERVE);
    e->add_epc_list()->assign(pallet.id);
    Schedule(StepKind::kFoodReceivePallet, now_ + transit, id, p);
  }

  void FoodReceivePallet(uint32_t id, uint32_t p) {
    FoodChain& chain = food_[id];
    const FoodPallet& pallet = chain.pallets[p];
    const Party& distributor = P(pallet.distributor);
    v1::ObjectEvent* e = BeginObject(distributor.id);
    v1::EpcisCommon* common = e->mutable_common();
    FillCommon(common, "receiving", "sellable_not_accessible", distributor.dock,
               &distributor.site);
    AddTransfer(common, P(chain.processor), distributor);
    e->set_action(v1::ACTION_OBSERVE);
    e->add_epc_list()->assign(pallet.id);
    Schedule(StepKind::kFoodUnpack, After(30 * kMicrosPerMinute, 8 * kMicrosPerHour),
             id, p);
  }

  void FoodUnpack(uint32_t id, uint32_t p) {
    FoodChain& chain = food_[id];
    FoodPallet& pallet = chain.pallets[p];
    const Party& distributor = P(pallet.distributor);
    v1::AggregationEvent* e = BeginAggregation(distributor.id);
    FillCommon(e->mutable_common(), "unpacking", "sellable_not_accessible", distributor.site,
               &distributor.site);
    e->set_action(v1::ACTION_DELETE);
    e->set_parent_id(pallet.id);
    AddQuantity(e->mutable_child_quantity_list(), chain.lot_class, pallet.units, "");
    pallet.unshipped = pallet.units;
    // Ship whole cases on to 2-5 outlets.
    const FoodProduct& product = kFoodProducts[chain.product];
    const uint32_t cases = pallet.units / product.case_units;
    const auto parts = static_cast<uint32_t>(std::min<int64_t>(rng_.Range(2, 5), cases));
    split_.assign(parts, 0);
    SplitCount(cases, rng_, &split_);
    for (uint32_t k = 0; k < parts; ++k) {
      FoodBranch branch;
      branch.outlet = PickPartyAmong(kSupermarket, kOnlineShop);
      branch.pallet = p;
      branch.units = split_[k] * product.case_units;
      const auto b = static_cast<uint32_t>(chain.branches.size());
      chain.branches.push_back(branch);
      Schedule(StepKind::kFoodShipOutlet, After(2 * kMicrosPerHour, 72 * kMicrosPerHour),
               id, b);
    }
  }

  void Removal(const FoodChain& chain, const Party& holder, double quantity) {
    v1::RecallRemoval* e =
        BeginBody(&removal_scratch_, &v1::Event::mutable_recall_removal, holder.id);
    e->set_recall_id(chain.recall_id);
    e->set_holder_id(holder.id);
    e->set_object_id(chain.lot_class);
    e->set_quantity(quantity);
    e->set_location(holder.site);
    SetTime(e->mutable_removed_at(), now_);
    const uint64_t r = rng_.Below(10);
    e->set_disposition(r < 6   ? v1::RecallRemoval::DISPOSITION_RETURNED
                       : r < 8 ? v1::RecallRemoval::DISPOSITION_DESTROYED
                               : v1::RecallRemoval::DISPOSITION_QUARANTINED);
  }

  void FoodShipOutlet(uint32_t id, uint32_t b) {
    FoodChain& chain = food_[id];
    FoodBranch& branch = chain.branches[b];
    FoodPallet& pallet = chain.pallets[branch.pallet];
    Party& distributor = MutableP(pallet.distributor);
    if (chain.recall == RecallState::kOpen) {
      // The lot is recalled: the distributor stops shipping and removes what it still holds
      // (most holders report it; some just stop).
      if (!pallet.removal_done && pallet.unshipped > 0) {
        pallet.removal_done = true;
        if (rng_.Chance(0.85)) Removal(chain, distributor, pallet.unshipped);
        pallet.unshipped = 0;
      }
      return;
    }
    if (pallet.removal_done) return;
    const Party& outlet = P(branch.outlet);
    v1::ObjectEvent* e = BeginObject(distributor.id);
    v1::EpcisCommon* common = e->mutable_common();
    FillCommon(common, "shipping", "in_transit", distributor.dock, nullptr);
    AddTransaction(common, "desadv", "003", distributor);
    AddTransfer(common, distributor, outlet);
    const int64_t transit = rng_.Micros(2 * kMicrosPerHour, 36 * kMicrosPerHour);
    AddSensor(common, distributor, kFoodProducts[chain.product].cold_chain, transit);
    e->set_action(v1::ACTION_OBSERVE);
    AddQuantity(e->mutable_quantity_list(), chain.lot_class, branch.units, "");
    TL_ASSERT(pallet.unshipped >= branch.units);
    pallet.unshipped -= branch.units;
    Schedule(StepKind::kFoodReceiveOutlet, now_ + transit, id, b);
  }

  void FoodReceiveOutlet(uint32_t id, uint32_t b) {
    FoodChain& chain = food_[id];
    FoodBranch& branch = chain.branches[b];
    const Party& outlet = P(branch.outlet);
    v1::ObjectEvent* e = BeginObject(outlet.id);
    v1::EpcisCommon* common = e->mutable_common();
    FillCommon(common, "receiving", "sellable_accessible", outlet.dock, &outlet.site);
    AddTransfer(common, P(chain.pallets[branch.pallet].distributor), outlet);
    e->set_action(v1::ACTION_OBSERVE);
    AddQuantity(e->mutable_quantity_list(), chain.lot_class, branch.units, "");
    branch.remaining = branch.units;
    branch.sells_left = static_cast<uint32_t>(std::min<int64_t>(rng_.Range(2, 6), branch.units));
    Schedule(StepKind::kFoodSell,
             OpenHours(After(4 * kMicrosPerHour, 48 * kMicrosPerHour), 8, 22), id, b);
    if (options_.profile == Profile::kMixed && rng_.Chance(0.04)) {
      // Market supervision takes a sample here; the lab reports days later.
      const int64_t sampled = OpenHours(After(4 * kMicrosPerHour, 72 * kMicrosPerHour), 9, 17);
      const int64_t reported =
          OpenHours(sampled + rng_.Micros(3 * kMicrosPerDay, 10 * kMicrosPerDay), 9, 18);
      Schedule(StepKind::kSampling, reported, id, b, static_cast<uint64_t>(sampled));
    }
  }

  void FoodSell(uint32_t id, uint32_t b) {
    FoodChain& chain = food_[id];
    FoodBranch& branch = chain.branches[b];
    const Party& outlet = P(branch.outlet);
    if (branch.remaining == 0) return;
    if (chain.recall == RecallState::kOpen) {
      if (rng_.Chance(0.85)) Removal(chain, outlet, branch.remaining);
      branch.remaining = 0;
      return;
    }
    uint32_t quantity = branch.remaining;
    if (branch.sells_left > 1) {
      const double typical = static_cast<double>(branch.remaining) / branch.sells_left;
      const auto drawn = static_cast<uint32_t>(std::max(1.0, typical * (0.5 + rng_.Uniform())));
      quantity = std::min(drawn, branch.remaining - (branch.sells_left - 1));
    }
    v1::ObjectEvent* e = BeginObject(outlet.id);
    FillCommon(e->mutable_common(), "retail_selling", "retail_sold", outlet.site, &outlet.site);
    e->set_action(v1::ACTION_OBSERVE);
    AddQuantity(e->mutable_quantity_list(), chain.lot_class, quantity, "");
    branch.remaining -= quantity;
    --branch.sells_left;
    if (branch.remaining > 0) {
      Schedule(StepKind::kFoodSell,
               OpenHours(After(8 * kMicrosPerHour, 72 * kMicrosPerHour), 8, 22), id, b);
    }
  }

  // --- regulator ------------------------------------------------------------------------------

  void Sampling(uint32_t id, uint32_t b, int64_t sampled_at) {
    FoodChain& chain = food_[id];
    const Party& outlet = P(chain.branches[b].outlet);
    const FoodProduct& product = kFoodProducts[chain.product];
    v1::SamplingResult* e = BeginBody(&sampling_scratch_, &v1::Event::mutable_sampling_result,
                                      RegulatorFor(outlet));
    std::string* text = e->mutable_sample_id();
    text->clear();
    text->append("CJ-").append(kDistricts[outlet.district]).push_back('-');
    AppendUint(text, static_cast<uint64_t>(YearOf(DayOf(now_))));
    text->push_back('-');
    AppendUint(text, ++samples_, 5);
    e->set_enterprise_id(outlet.id);
    e->add_object_ids()->assign(chain.lot_class);
    Assign(e->mutable_product_name(), product.name);
    SetTime(e->mutable_sampled_at(), sampled_at);
    SetTime(e->mutable_reported_at(), now_);
    const std::string& lab = dir_.labs[rng_.Below(dir_.labs.size())];
    e->set_lab_id(lab);
    text = e->mutable_report_id();
    text->clear();
    text->append("SFTC-");
    AppendUint(text, static_cast<uint64_t>(YearOf(DayOf(now_))));
    text->push_back('-');
    AppendUint(text, samples_ * 7 + rng_.Below(7), 6);
    const bool unqualified = rng_.Chance(0.10);
    e->set_verdict(unqualified ? v1::SamplingResult::VERDICT_UNQUALIFIED
                               : v1::SamplingResult::VERDICT_QUALIFIED);
    if (!unqualified) return;
    v1::SamplingResult::FailedItem* item = e->add_failed_items();
    Assign(item->mutable_item(), product.failed_item);
    Assign(item->mutable_measured(), product.measured);
    Assign(item->mutable_limit(), product.limit);
    Assign(item->mutable_uom(), product.uom);
    Assign(item->mutable_standard(), product.standard);
    if (rng_.Chance(0.7)) {
      Schedule(StepKind::kEnforcement,
               OpenHours(After(5 * kMicrosPerDay, 20 * kMicrosPerDay), 9, 18), chain.processor,
               kAfterUnqualifiedSample, produced_);
    }
    if (chain.recall == RecallState::kNone && rng_.Chance(0.6)) {
      chain.recall = RecallState::kScheduled;
      chain.recall_regulator = outlet.district;
      Schedule(StepKind::kRecallOpen,
               OpenHours(After(12 * kMicrosPerHour, 48 * kMicrosPerHour), 9, 18), id);
    }
  }

  void RecallOpen(uint32_t id) {
    FoodChain& chain = food_[id];
    const FoodProduct& product = kFoodProducts[chain.product];
    const std::string& regulator = dir_.regulators[chain.recall_regulator];
    chain.recall = RecallState::kOpen;
    chain.recall_id.clear();
    chain.recall_id.append("RC-").append(kDistricts[chain.recall_regulator]).push_back('-');
    AppendUint(&chain.recall_id, static_cast<uint64_t>(YearOf(DayOf(now_))));
    chain.recall_id.push_back('-');
    AppendUint(&chain.recall_id, ++recalls_, 4);
    v1::Recall* e = BeginBody(&recall_scratch_, &v1::Event::mutable_recall, regulator);
    e->set_recall_id(chain.recall_id);
    e->set_phase(v1::Recall::PHASE_OPENED);
    const uint64_t r = rng_.Below(10);
    e->set_level(r == 0   ? v1::Recall::LEVEL_I
                 : r < 4 ? v1::Recall::LEVEL_II
                         : v1::Recall::LEVEL_III);
    std::string* reason = e->mutable_reason();
    reason->clear();
    reason->append(product.failed_item).append(" out of limit (").append(product.limit);
    if (!product.uom.empty()) reason->append(" ").append(product.uom);
    reason->append(", ").append(product.standard).append(") in ").append(product.name);
    reason->append(" lot ").append(chain.lot_number);
    e->add_root_ids()->assign(chain.lot_class);
    SetTime(e->mutable_deadline(), now_ + 15 * kMicrosPerDay);
    e->set_issued_by(regulator);
    SetTime(e->mutable_issued_at(), now_);
    Schedule(StepKind::kRecallClose,
             OpenHours(After(20 * kMicrosPerDay, 40 * kMicrosPerDay), 9, 18),
             id);
  }

  void RecallClose(uint32_t id) {
    const FoodChain& chain = food_[id];
    const std::string& regulator = dir_.regulators[chain.recall_regulator];
    v1::Recall* e = BeginBody(&recall_scratch_, &v1::Event::mutable_recall, regulator);
    e->set_recall_id(chain.recall_id);
    e->set_phase(v1::Recall::PHASE_CLOSED);
    Assign(e->mutable_reason(), "removal from the market completed");
    e->set_issued_by(regulator);
    SetTime(e->mutable_issued_at(), now_);
  }

  static Domain DomainOf(PartyKind kind) { return kPartyKinds[kind].domain; }

  void InspectionTick() {
    // Inspectors work 8 hours a day: a third of the interval, within opening hours.
    Schedule(StepKind::kInspectionTick,
             OpenHours(now_ + Jitter(inspection_interval_ / 3), 9, 17));
    const auto party_index = static_cast<uint32_t>(rng_.Below(dir_.parties.size()));
    const Party& party = P(party_index);
    const Domain domain = DomainOf(party.kind);
    v1::Inspection* e =
        BeginBody(&inspection_scratch_, &v1::Event::mutable_inspection, RegulatorFor(party));
    e->set_enterprise_id(party.id);
    // Two or three distinct badges (ids in a list must not repeat).
    const auto inspectors = static_cast<uint64_t>(rng_.Range(2, 3));
    const uint64_t first_badge = 1 + rng_.Below(400);
    const uint64_t stride = 1 + rng_.Below(97);
    for (uint64_t i = 0; i < inspectors; ++i) {
      std::string* badge = e->add_inspector_ids();
      badge->clear();
      badge->append("SAMR-").append(kDistricts[party.district]).push_back('-');
      AppendUint(badge, 1 + (first_badge + i * stride) % 400, 4);
    }
    const uint64_t kind = rng_.Below(100);
    e->set_kind(kind < 50   ? v1::Inspection::KIND_ROUTINE
                : kind < 75 ? v1::Inspection::KIND_DOUBLE_RANDOM_SPOT_CHECK
                : kind < 90 ? v1::Inspection::KIND_COMPLAINT
                            : v1::Inspection::KIND_SPECIAL_CAMPAIGN);
    e->set_location(party.site);
    SetTime(e->mutable_inspected_at(), now_);
    const uint64_t outcome = rng_.Below(100);
    const v1::Inspection::Outcome result =
        outcome < 70   ? v1::Inspection::OUTCOME_COMPLIANT
        : outcome < 88 ? v1::Inspection::OUTCOME_DEFECTS_FOUND
        : outcome < 98 ? v1::Inspection::OUTCOME_CORRECTION_ORDERED
                       : v1::Inspection::OUTCOME_CLOSED_DOWN;
    e->set_outcome(result);
    if (result == v1::Inspection::OUTCOME_COMPLIANT) return;
    std::span<const Finding> findings = kCylinderFindings;
    if (domain == Domain::kFood) findings = kFoodFindings;
    if (domain == Domain::kDrug) findings = kDrugFindings;
    if (domain == Domain::kDevice) findings = kDeviceFindings;
    const Finding& finding = findings[rng_.Below(findings.size())];
    v1::Inspection::Finding* f = e->add_findings();
    Assign(f->mutable_code(), finding.code);
    Assign(f->mutable_description(), finding.description);
    const bool serious = result == v1::Inspection::OUTCOME_CLOSED_DOWN || rng_.Chance(0.2);
    f->set_severity(serious ? v1::SEVERITY_SERIOUS : v1::SEVERITY_MINOR);
    if (result == v1::Inspection::OUTCOME_CORRECTION_ORDERED) {
      SetTime(e->mutable_correction_due(), now_ + rng_.Range(15, 30) * kMicrosPerDay);
    }
    const double chance = result == v1::Inspection::OUTCOME_DEFECTS_FOUND        ? 0.25
                          : result == v1::Inspection::OUTCOME_CORRECTION_ORDERED ? 0.5
                                                                                 : 1.0;
    if (rng_.Chance(chance)) {
      const uint32_t trigger = result == v1::Inspection::OUTCOME_DEFECTS_FOUND ? kAfterDefects
                               : result == v1::Inspection::OUTCOME_CORRECTION_ORDERED
                                   ? kAfterCorrectionOrder
                                   : kAfterClosure;
      Schedule(StepKind::kEnforcement,
               OpenHours(After(7 * kMicrosPerDay, 30 * kMicrosPerDay), 9, 18), party_index,
               trigger, produced_);
    }
  }

  void Enforcement(uint32_t party_index, uint32_t trigger, uint64_t related_event) {
    const Party& party = P(party_index);
    v1::EnforcementAction* e = BeginBody(
        &enforcement_scratch_, &v1::Event::mutable_enforcement_action, RegulatorFor(party));
    std::string* case_id = e->mutable_case_id();
    case_id->clear();
    case_id->append("SAMR-").append(kDistricts[party.district]).append("-CF-");
    AppendUint(case_id, static_cast<uint64_t>(YearOf(DayOf(now_))));
    case_id->push_back('-');
    AppendUint(case_id, ++cases_, 6);
    e->set_enterprise_id(party.id);
    v1::EnforcementAction::Kind kind = v1::EnforcementAction::KIND_FINE;
    v1::Severity severity = v1::SEVERITY_MINOR;
    const uint64_t r = rng_.Below(100);
    switch (trigger) {
      case kAfterDefects:
        kind = r < 60 ? v1::EnforcementAction::KIND_WARNING : v1::EnforcementAction::KIND_FINE;
        break;
      case kAfterCorrectionOrder:
        kind = r < 80 ? v1::EnforcementAction::KIND_FINE : v1::EnforcementAction::KIND_CONFISCATION;
        severity = r >= 90 ? v1::SEVERITY_SERIOUS : v1::SEVERITY_MINOR;
        break;
      case kAfterClosure:
        kind = r < 50   ? v1::EnforcementAction::KIND_SUSPENSION
               : r < 80 ? v1::EnforcementAction::KIND_LICENSE_REVOCATION
                        : v1::EnforcementAction::KIND_CREDIT_BLACKLIST;
        severity = v1::SEVERITY_SERIOUS;
        break;
      default:  // kAfterUnqualifiedSample
        kind = r < 75 ? v1::EnforcementAction::KIND_FINE : v1::EnforcementAction::KIND_CONFISCATION;
        severity = r % 10 < 3 ? v1::SEVERITY_SERIOUS : v1::SEVERITY_MINOR;
        break;
    }
    e->set_kind(kind);
    e->set_severity(severity);
    if (kind == v1::EnforcementAction::KIND_FINE ||
        kind == v1::EnforcementAction::KIND_CONFISCATION) {
      // 5 000 .. 500 000 yuan in steps of 1 000 yuan, in fen.
      e->set_fine_amount_fen(static_cast<int64_t>(rng_.Range(5, 500)) * 1000 * 100);
    }
    Assign(e->mutable_legal_basis(), LegalBasis(DomainOf(party.kind)));
    SetTime(e->mutable_decided_at(), now_);
    std::string* related = e->add_related_event_ids();
    related->clear();
    AppendUuid(related, event_tag_, related_event);
  }

  // --- drugs and devices ----------------------------------------------------------------------

  const SerialProduct& ProductOf(const SerialChain& chain) const {
    return chain.domain == Domain::kDrug ? kDrugProducts[chain.product]
                                         : kDeviceProducts[chain.product];
  }

  // Appends the identifier of pack `index` of the chain: a drug trace code or an SGTIN URN.
  void AppendPack(std::string* out, const SerialChain& chain, uint64_t serial) const {
    const Party& maker = P(chain.maker);
    if (chain.domain == Domain::kDrug) {
      // 药品追溯码: 7-digit product code, 9-digit serial, 4-digit check code.
      const uint64_t product_code = 8000000 + uint64_t{maker.number} * 100 + chain.product;
      out->append("cn-drug:");
      AppendUint(out, product_code, 7);
      AppendUint(out, serial, 9);
      AppendUint(out, Finalize(product_code * 1000000000 + serial) % 10000, 4);
    } else {
      out->append("urn:epc:id:sgtin:").append(maker.prefix).append(".0");
      out->append(ProductOf(chain).item).push_back('.');
      AppendUint(out, kDeviceSerialBase + serial);
    }
  }
  void AddPacks(pb::RepeatedPtrField<std::string>* list, const SerialChain& chain, uint32_t first,
                uint32_t end) {
    for (uint32_t i = first; i < end; ++i) {
      std::string* id = list->Add();
      id->clear();
      AppendPack(id, chain, chain.first_serial + i);
    }
  }
  void AppendCase(std::string* out, const SerialChain& chain, uint32_t c) {
    AppendSscc(out, P(chain.maker), chain.first_case_sscc + c);
  }

  void SerialStart(Domain domain) {
    const bool drug = domain == Domain::kDrug;
    Schedule(StepKind::kSerialStart, now_ + Jitter(drug ? drug_interval_ : device_interval_), 0, 0,
             0, domain);
    const uint32_t id = serial_.Allocate();
    SerialChain& chain = serial_[id];
    chain.domain = domain;
    chain.maker = PickParty(drug ? kDrugMaker : kDeviceMaker);
    Party& maker = MutableP(chain.maker);
    chain.product = (maker.number + 2 * static_cast<uint32_t>(rng_.Below(kProductsPerMaker))) %
                    kCatalogProducts;
    const SerialProduct& product = ProductOf(chain);
    chain.wholesaler = PickParty(drug ? kWholesaler : kDeviceDistributor);
    chain.cases = static_cast<uint32_t>(rng_.Range(4, 8));
    chain.packs_per_case = static_cast<uint32_t>(rng_.Range(product.packs_min, product.packs_max));
    const uint32_t packs = chain.cases * chain.packs_per_case;
    const size_t counter = (size_t{drug ? 0u : dir_.count[kDrugMaker] + 1} + maker.number) *
                               kCatalogProducts + chain.product;
    chain.first_serial = serial_counters_[counter];
    serial_counters_[counter] += packs;
    TL_ASSERT(serial_counters_[counter] < kDrugSerialLimit);
    const int64_t today = DayOf(now_);
    chain.short_dated = rng_.Chance(0.08);
    if (chain.short_dated) {
      // An old lot near its expiry: outlets destroy what they cannot dispense in time.
      chain.expiry_day = today + rng_.Range(6, 20);
      chain.production_day = chain.expiry_day - product.shelf_months * 30;
    } else {
      chain.production_day = today;
      chain.expiry_day = today + product.shelf_months * 30;
    }
    chain.lot.append(product.lot_prefix);
    AppendYymmdd(&chain.lot, chain.production_day);
    chain.lot.push_back('-');
    AppendUint(&chain.lot, maker.next_lot++);
    chain.pallet_sscc = maker.next_sscc++;
    chain.first_case_sscc = maker.next_sscc;
    maker.next_sscc += chain.cases;
    chain.objects = packs + chain.cases + 1;
    live_objects_ += chain.objects;
    int64_t at = now_;
    for (uint32_t c = 0; c < chain.cases; ++c) {
      at += rng_.Micros(5 * kMicrosPerMinute, 15 * kMicrosPerMinute);
      Schedule(StepKind::kSerialCommission, at, id, c);
    }
  }

  void SerialCommission(uint32_t id, uint32_t c) {
    SerialChain& chain = serial_[id];
    const Party& maker = P(chain.maker);
    v1::ObjectEvent* e = BeginObject(maker.id);
    FillCommon(e->mutable_common(), "commissioning", "active", maker.site, &maker.site);
    e->set_action(v1::ACTION_ADD);
    AddPacks(e->mutable_epc_list(), chain, c * chain.packs_per_case,
             (c + 1) * chain.packs_per_case);
    v1::Ilmd* ilmd = e->mutable_ilmd();
    ilmd->set_lot_number(chain.lot);
    std::string* date = ilmd->mutable_production_date();
    date->clear();
    AppendDate(date, chain.production_day);
    date = ilmd->mutable_item_expiration_date();
    date->clear();
    AppendDate(date, chain.expiry_day);
    CountDomainEvent(chain.domain);
    Schedule(StepKind::kSerialPackCase, After(5 * kMicrosPerMinute, 30 * kMicrosPerMinute),
             id, c);
  }

  void SerialPackCase(uint32_t id, uint32_t c) {
    SerialChain& chain = serial_[id];
    const Party& maker = P(chain.maker);
    v1::AggregationEvent* e = BeginAggregation(maker.id);
    FillCommon(e->mutable_common(), "packing", "in_progress", maker.site, &maker.site);
    e->set_action(v1::ACTION_ADD);
    std::string* parent = e->mutable_parent_id();
    parent->clear();
    AppendCase(parent, chain, c);
    AddPacks(e->mutable_child_epcs(), chain, c * chain.packs_per_case,
             (c + 1) * chain.packs_per_case);
    CountDomainEvent(chain.domain);
    if (++chain.cases_packed == chain.cases) {
      Schedule(StepKind::kSerialPackPallet, After(30 * kMicrosPerMinute, 2 * kMicrosPerHour),
               id);
    }
  }

  void SerialPackPallet(uint32_t id) {
    SerialChain& chain = serial_[id];
    const Party& maker = P(chain.maker);
    v1::AggregationEvent* e = BeginAggregation(maker.id);
    FillCommon(e->mutable_common(), "packing", "in_progress", maker.site, &maker.site);
    e->set_action(v1::ACTION_ADD);
    std::string* parent = e->mutable_parent_id();
    parent->clear();
    AppendSscc(parent, maker, chain.pallet_sscc);
    for (uint32_t c = 0; c < chain.cases; ++c) {
      std::string* child = e->add_child_epcs();
      child->clear();
      AppendCase(child, chain, c);
    }
    CountDomainEvent(chain.domain);
    Schedule(StepKind::kSerialShipPallet, After(2 * kMicrosPerHour, 24 * kMicrosPerHour),
             id);
  }

  void SerialShipPallet(uint32_t id) {
    SerialChain& chain = serial_[id];
    Party& maker = MutableP(chain.maker);
    Party& wholesaler = MutableP(chain.wholesaler);
    v1::ObjectEvent* e = BeginObject(maker.id);
    v1::EpcisCommon* common = e->mutable_common();
    FillCommon(common, "shipping", "in_transit", maker.dock, nullptr);
    AddTransaction(common, "po", "001", wholesaler);
    AddTransaction(common, "desadv", "003", maker);
    AddTransfer(common, maker, wholesaler);
    const int64_t transit = rng_.Micros(6 * kMicrosPerHour, 48 * kMicrosPerHour);
    if (ProductOf(chain).chilled) AddSensor(common, maker, ColdChain::kChilled, transit);
    e->set_action(v1::ACTION_OBSERVE);
    std::string* pallet = e->add_epc_list();
    pallet->clear();
    AppendSscc(pallet, maker, chain.pallet_sscc);
    CountDomainEvent(chain.domain);
    Schedule(StepKind::kSerialReceivePallet, now_ + transit, id);
  }

  void SerialReceivePallet(uint32_t id) {
    SerialChain& chain = serial_[id];
    const Party& maker = P(chain.maker);
    const Party& wholesaler = P(chain.wholesaler);
    v1::ObjectEvent* e = BeginObject(wholesaler.id);
    v1::EpcisCommon* common = e->mutable_common();
    FillCommon(common, "receiving", "sellable_not_accessible", wholesaler.dock, &wholesaler.site);
    AddTransfer(common, maker, wholesaler);
    e->set_action(v1::ACTION_OBSERVE);
    std::string* pallet = e->add_epc_list();
    pallet->clear();
    AppendSscc(pallet, maker, chain.pallet_sscc);
    CountDomainEvent(chain.domain);
    Schedule(StepKind::kSerialUnpackPallet, After(30 * kMicrosPerMinute, 6 * kMicrosPerHour),
             id);
  }

  void SerialUnpackPallet(uint32_t id) {
    SerialChain& chain = serial_[id];
    const Party& wholesaler = P(chain.wholesaler);
    v1::AggregationEvent* e = BeginAggregation(wholesaler.id);
    FillCommon(e->mutable_common(), "unpacking", "sellable_not_accessible", wholesaler.site,
               &wholesaler.site);
    e->set_action(v1::ACTION_DELETE);
    std::string* parent = e->mutable_parent_id();
    parent->clear();
    AppendSscc(parent, P(chain.maker), chain.pallet_sscc);
    for (uint32_t c = 0; c < chain.cases; ++c) {
      std::string* child = e->add_child_epcs();
      child->clear();
      AppendCase(child, chain, c);
    }
    CountDomainEvent(chain.domain);
    for (uint32_t c = 0; c < chain.cases; ++c) {
      Schedule(StepKind::kSerialUnpackCase, After(kMicrosPerHour, 96 * kMicrosPerHour),
               id, c);
    }
  }

  uint32_t PickOutlet(Domain domain) {
    if (domain == Domain::kDevice) return PickParty(kHospital);
    return PickPartyAmong(kPharmacy, kHospital);
  }
  uint32_t PickOtherOutlet(Domain domain, uint32_t not_this) {
    for (int attempt = 0; attempt < 64; ++attempt) {
      const uint32_t outlet = PickOutlet(domain);
      if (outlet != not_this) return outlet;
    }
    // Deterministic fallback: the neighbour in the directory range.
    const uint32_t begin =
        domain == Domain::kDevice ? dir_.begin[kHospital] : dir_.begin[kPharmacy];
    const uint32_t end = dir_.begin[kHospital] + dir_.count[kHospital];
    return not_this + 1 < end ? not_this + 1 : begin;
  }

  void SerialUnpackCase(uint32_t id, uint32_t c) {
    SerialChain& chain = serial_[id];
    const Party& wholesaler = P(chain.wholesaler);
    v1::AggregationEvent* e = BeginAggregation(wholesaler.id);
    FillCommon(e->mutable_common(), "unpacking", "sellable_not_accessible", wholesaler.site,
               &wholesaler.site);
    e->set_action(v1::ACTION_DELETE);
    std::string* parent = e->mutable_parent_id();
    parent->clear();
    AppendCase(parent, chain, c);
    const uint32_t first = c * chain.packs_per_case;
    const uint32_t end = first + chain.packs_per_case;
    AddPacks(e->mutable_child_epcs(), chain, first, end);
    CountDomainEvent(chain.domain);
    uint32_t split = end;
    if (chain.packs_per_case >= 6 && rng_.Chance(0.5)) {
      split = first + static_cast<uint32_t>(
                          rng_.Range(chain.packs_per_case / 3, 2 * chain.packs_per_case / 3));
    }
    const uint32_t bounds[3] = {first, split, end};
    for (int part = 0; part < 2; ++part) {
      if (bounds[part] == bounds[part + 1]) continue;
      SerialBranch branch;
      branch.outlet = PickOutlet(chain.domain);
      branch.first = bounds[part];
      branch.end = bounds[part + 1];
      branch.next = branch.first;
      const auto b = static_cast<uint32_t>(chain.branches.size());
      chain.branches.push_back(branch);
      Schedule(StepKind::kSerialShipOutlet, After(kMicrosPerHour, 24 * kMicrosPerHour),
               id, b);
    }
  }

  void SerialShipOutlet(uint32_t id, uint32_t b) {
    SerialChain& chain = serial_[id];
    const SerialBranch& branch = chain.branches[b];
    Party& wholesaler = MutableP(chain.wholesaler);
    const Party& outlet = P(branch.outlet);
    v1::ObjectEvent* e = BeginObject(wholesaler.id);
    v1::EpcisCommon* common = e->mutable_common();
    FillCommon(common, "shipping", "in_transit", wholesaler.dock, nullptr);
    AddTransaction(common, "desadv", "003", wholesaler);
    AddTransfer(common, wholesaler, outlet);
    const int64_t transit = rng_.Micros(3 * kMicrosPerHour, 36 * kMicrosPerHour);
    if (ProductOf(chain).chilled) AddSensor(common, wholesaler, ColdChain::kChilled, transit);
    e->set_action(v1::ACTION_OBSERVE);
    AddPacks(e->mutable_epc_list(), chain, branch.first, branch.end);
    CountDomainEvent(chain.domain);
    Schedule(StepKind::kSerialReceiveOutlet, now_ + transit, id, b);
  }

  void SerialReceiveOutlet(uint32_t id, uint32_t b) {
    SerialChain& chain = serial_[id];
    const SerialBranch& branch = chain.branches[b];
    const Party& outlet = P(branch.outlet);
    v1::ObjectEvent* e = BeginObject(outlet.id);
    v1::EpcisCommon* common = e->mutable_common();
    FillCommon(common, "receiving", "sellable_accessible", outlet.dock, &outlet.site);
    AddTransfer(common, P(chain.wholesaler), outlet);
    e->set_action(v1::ACTION_OBSERVE);
    AddPacks(e->mutable_epc_list(), chain, branch.first, branch.end);
    CountDomainEvent(chain.domain);
    Schedule(StepKind::kSerialDispense,
             OpenHours(After(2 * kMicrosPerHour, 48 * kMicrosPerHour), 8, 21), id, b);
  }

  // One pack leaves the outlet: dispensed (or, rarely, decommissioned as damaged).
  void EmitPackEvent(const SerialChain& chain, const Party& outlet, uint64_t serial,
                     bool decommission) {
    v1::ObjectEvent* e = BeginObject(outlet.id);
    if (decommission) {
      FillCommon(e->mutable_common(), "decommissioning", "inactive", outlet.site, &outlet.site);
      e->set_action(v1::ACTION_DELETE);
    } else {
      FillCommon(e->mutable_common(), "dispensing", "dispensed", outlet.site, &outlet.site);
      e->set_action(v1::ACTION_OBSERVE);
    }
    std::string* id = e->add_epc_list();
    id->clear();
    AppendPack(id, chain, serial);
  }

  void SerialDispense(uint32_t id, uint32_t b) {
    SerialChain& chain = serial_[id];
    SerialBranch& branch = chain.branches[b];
    const Party& outlet = P(branch.outlet);
    TL_ASSERT(branch.next < branch.end);
    if (chain.short_dated && DayOf(now_) > chain.expiry_day) {
      // Expired: destroy everything still on the shelf, in one event.
      v1::ObjectEvent* e = BeginObject(outlet.id);
      FillCommon(e->mutable_common(), "destroying", "destroyed", outlet.site, &outlet.site);
      e->set_action(v1::ACTION_DELETE);
      AddPacks(e->mutable_epc_list(), chain, branch.next, branch.end);
      CountDomainEvent(chain.domain);
      branch.next = branch.end;
      return;
    }
    const uint32_t pack = branch.next++;
    std::optional<Anomaly> planned;
    if (AnomalyDue(chain.domain)) {
      AnomalyPacer& pacer = pacers_[PacerIndex(chain.domain)];
      planned = kSerialAnomalies[pacer.rotation++ % kSerialAnomalyKinds];
      // A receipt elsewhere needs another pack of this delivery; fall back to the next kind.
      if (planned == Anomaly::kReceiptWithoutShipment && branch.next == branch.end) {
        planned = Anomaly::kUnknownSerial;
      }
    }
    const bool decommission = planned == Anomaly::kDecommissionedReappears ||
                              (!planned.has_value() && rng_.Chance(0.01));
    EmitPackEvent(chain, outlet, chain.first_serial + pack, decommission);
    CountDomainEvent(chain.domain);
    if (planned.has_value()) {
      const uint32_t subject = *planned == Anomaly::kReceiptWithoutShipment ? branch.end - 1 : pack;
      const int64_t delay = *planned == Anomaly::kDecommissionedReappears
                                ? rng_.Micros(2 * kMicrosPerDay, 10 * kMicrosPerDay)
                                : rng_.Micros(kMicrosPerHour, 48 * kMicrosPerHour);
      Schedule(StepKind::kSerialAnomaly, OpenHours(now_ + delay, 8, 21), id, b,
               static_cast<uint64_t>(*planned) | uint64_t{subject} << 8);
    }
    if (branch.next < branch.end) {
      Schedule(StepKind::kSerialDispense,
               OpenHours(After(kMicrosPerHour, 72 * kMicrosPerHour), 8, 21), id, b);
    }
  }

  void SerialAnomaly(uint32_t id, uint32_t b, uint64_t value) {
    const SerialChain& chain = serial_[id];
    const SerialBranch& branch = chain.branches[b];
    const auto anomaly = static_cast<Anomaly>(value & 0xff);
    const auto pack = static_cast<uint32_t>(value >> 8);
    switch (anomaly) {
      case Anomaly::kDoubleDispensing:
        EmitPackEvent(chain, P(branch.outlet), chain.first_serial + pack, /*decommission=*/false);
        break;
      case Anomaly::kDecommissionedReappears:
        EmitPackEvent(chain, P(PickOtherOutlet(chain.domain, branch.outlet)),
                      chain.first_serial + pack, /*decommission=*/false);
        break;
      case Anomaly::kUnknownSerial: {
        // A counterfeit: a plausible code of the same product that was never commissioned.
        const uint64_t serial = chain.domain == Domain::kDrug
                                    ? kDrugSerialLimit + unknown_serials_++ % 99999999
                                    : kDeviceUnknownSerialBase - kDeviceSerialBase +
                                          unknown_serials_++;
        EmitPackEvent(chain, P(branch.outlet), serial, /*decommission=*/false);
        break;
      }
      case Anomaly::kReceiptWithoutShipment: {
        const Party& other = P(PickOtherOutlet(chain.domain, branch.outlet));
        v1::ObjectEvent* e = BeginObject(other.id);
        v1::EpcisCommon* common = e->mutable_common();
        FillCommon(common, "receiving", "sellable_accessible", other.dock, &other.site);
        AddTransfer(common, P(chain.wholesaler), other);
        e->set_action(v1::ACTION_OBSERVE);
        std::string* epc = e->add_epc_list();
        epc->clear();
        AppendPack(epc, chain, chain.first_serial + pack);
        break;
      }
      default: TL_ASSERT(false && "not a serial anomaly");
    }
    ++anomaly_domain_events_;
    MarkAnomaly(anomaly);
  }

  // --- cylinders ------------------------------------------------------------------------------

  // The cylinder's id: a GRAI URN for about a third, a steel-stamp number for the rest.
  void AppendCylinderId(std::string* out, uint32_t slot, const Cylinder& c) const {
    const uint64_t number = uint64_t{c.generation} * options_.cylinders + slot + 1;
    const Party& station = P(c.station);
    if (Mix(slot, c.generation) % 3 == 0) {
      out->append("urn:epc:id:grai:").append(station.prefix).append(".1");
      AppendUint(out, c.type, 2);
      out->push_back('.');
      AppendUint(out, number);
    } else {
      out->append("SH-").append(kCylinderTypes[c.type].medium).push_back('-');
      AppendUint(out, static_cast<uint64_t>(YearOf(c.manufactured_day)), 4);
      out->push_back('-');
      AppendUint(out, number, 6);
    }
  }

  // Draws the cylinder in `slot`: the initial population (anywhere in its life) or a new one.
  void NewCylinder(uint32_t slot, bool initial) {
    Cylinder& c = cylinders_[slot];
    c.type = CylinderTypeFor(P(c.station).number, rng_.Next());
    const CylinderType& type = kCylinderTypes[c.type];
    const int64_t today = initial ? DayOf(options_.start_unix_micros) : DayOf(now_);
    const int64_t life_days = int64_t{type.design_life_years} * 365;
    int64_t manufactured = initial ? today + rng_.Range(30, life_days) - life_days
                                   : today - rng_.Range(10, 90);
    // Day of month <= 28, so that "manufactured_on + design_life_years" is unambiguous.
    CivilDate date = CivilFromDays(manufactured);
    if (date.day > 28) date.day = 28;
    manufactured = DaysFromCivil(date.year, date.month, date.day);
    // Leap days can pull the end of life a few days closer: keep it well after today.
    if (AddYears(manufactured, type.design_life_years) <= today + 2) {
      manufactured = AddYears(manufactured, 1);
    }
    c.manufactured_day = manufactured;
    c.life_end_day = AddYears(manufactured, type.design_life_years);
    TL_ASSERT(c.life_end_day > today + 2);
    const auto interval = static_cast<int64_t>(type.inspection_years);
    if (initial) {
      c.due_day = today + rng_.Range(2, interval * 365);
      c.last_inspected_day = AddYears(c.due_day, -interval);
      if (c.last_inspected_day < manufactured) {
        c.last_inspected_day = manufactured;
        c.due_day = AddYears(manufactured, interval);
      }
    } else {
      c.last_inspected_day = manufactured;
      c.due_day = AddYears(manufactured, interval);
    }
    c.state = CylinderState::kUnregistered;
  }

  void CylinderRegister(uint32_t slot) {
    Cylinder& c = cylinders_[slot];
    TL_ASSERT(c.state == CylinderState::kUnregistered);
    const Party& station = P(c.station);
    const CylinderType& type = kCylinderTypes[c.type];
    v1::CylinderRegistration* e = BeginBody(
        &registration_scratch_, &v1::Event::mutable_cylinder_registration, station.id);
    std::string* text = e->mutable_cylinder_id();
    text->clear();
    AppendCylinderId(text, slot, c);
    e->set_owner_station_id(station.id);
    Assign(e->mutable_manufacturer(), kCylinderMakers[Mix(slot, c.type) % kCylinderMakers.size()]);
    text = e->mutable_manufactured_on();
    text->clear();
    AppendDate(text, c.manufactured_day);
    e->set_design_life_years(type.design_life_years);
    Assign(e->mutable_medium(), type.medium);
    e->set_capacity_liters(type.capacity_liters);
    text = e->mutable_last_inspected_on();
    text->clear();
    AppendDate(text, c.last_inspected_day);
    text = e->mutable_next_inspection_due();
    text->clear();
    AppendDate(text, c.due_day);
    SetTime(e->mutable_registered_at(), now_);
    CountDomainEvent(Domain::kCylinder);
    c.state = CylinderState::kActive;
    Schedule(StepKind::kCylinderFill,
             OpenHours(After(2 * kMicrosPerHour, 4 * kMicrosPerDay), 6, 20), slot);
  }

  const std::string& AgencyFor(const Party& station) const {
    return dir_.agencies[station.district % dir_.agencies.size()];
  }

  void EmitFill(const std::string& station_id, const std::string& cylinder_id, uint32_t type_index,
                uint32_t station_number) {
    const CylinderType& type = kCylinderTypes[type_index];
    v1::CylinderFill* e =
        BeginBody(&fill_scratch_, &v1::Event::mutable_cylinder_fill, station_id);
    e->set_cylinder_id(cylinder_id);
    e->set_station_id(station_id);
    SetTime(e->mutable_filled_at(), now_);
    Assign(e->mutable_medium(), type.medium);
    e->set_net_mass_kg(RoundTo(type.net_mass_kg * (0.98 + 0.03 * rng_.Uniform()), 10));
    std::string* text = e->mutable_operator_id();
    text->clear();
    text->append("TSZY-").append(kDistricts[station_number % kDistricts.size()]).push_back('-');
    AppendUint(text, station_number * 10 + rng_.Below(6), 4);
    text = e->mutable_scale_id();
    text->clear();
    text->append("SCALE-");
    AppendUint(text, 1 + rng_.Below(4), 2);
  }

  void CylinderFill(uint32_t slot) {
    Cylinder& c = cylinders_[slot];
    TL_ASSERT(c.state == CylinderState::kActive);
    const int64_t today = DayOf(now_);
    if (today + 1 >= c.life_end_day) {
      // End of design life: withdrawn, and scrapped by the agency within a month.
      c.state = CylinderState::kRetired;
      if (!c.in_retired_pool) {
        c.in_retired_pool = true;
        retired_pool_.push_back(slot);
      }
      const int64_t after_life = (c.life_end_day + 1) * kMicrosPerDay;
      Schedule(StepKind::kCylinderInspect,
               OpenHours(std::max(now_, after_life) +
                             rng_.Micros(3 * kMicrosPerDay, 30 * kMicrosPerDay), 9, 17),
               slot);
      return;
    }
    if (c.due_day - today <= 10) {
      if (rng_.Chance(0.75)) {
        InspectAndDecide(slot);  // on time
        return;
      }
      // Late: the cylinder stands idle until the agency comes, some days after the due date.
      c.state = CylinderState::kAwaitingInspection;
      if (!c.in_overdue_pool) {
        c.in_overdue_pool = true;
        overdue_pool_.push_back(slot);
      }
      const int64_t after_due = (c.due_day + 1) * kMicrosPerDay;
      Schedule(StepKind::kCylinderInspect,
               OpenHours(std::max(now_, after_due) +
                             rng_.Micros(kMicrosPerDay, 20 * kMicrosPerDay), 9, 17),
               slot);
      return;
    }
    const Party& station = P(c.station);
    cylinder_id_.clear();
    AppendCylinderId(&cylinder_id_, slot, c);
    EmitFill(station.id, cylinder_id_, c.type, station.number);
    CountDomainEvent(Domain::kCylinder);
    if (AnomalyDue(Domain::kCylinder)) {
      AnomalyPacer& pacer = pacers_[PacerIndex(Domain::kCylinder)];
      const Anomaly planned = kFillAnomalies[pacer.rotation++ % kFillAnomalyKinds];
      Schedule(StepKind::kCylinderAnomaly,
               OpenHours(After(10 * kMicrosPerMinute, 6 * kMicrosPerHour), 6, 20),
               c.station, 0, static_cast<uint64_t>(planned));
    }
    Schedule(StepKind::kCylinderFill, OpenHours(After(kMicrosPerDay, 7 * kMicrosPerDay), 6, 20),
             slot);
  }

  // Emits an inspection of cylinder `slot` now and moves it on: PASS back to filling, FAIL to a
  // re-inspection, SCRAP to the registration of its replacement.
  void InspectAndDecide(uint32_t slot) {
    Cylinder& c = cylinders_[slot];
    const uint64_t r = rng_.Below(1000);
    v1::CylinderInspection::Result result = v1::CylinderInspection::RESULT_PASS;
    if (c.state == CylinderState::kRetired) {
      result = v1::CylinderInspection::RESULT_SCRAP;
    } else if (c.state == CylinderState::kFailed) {
      result = r < 800 ? v1::CylinderInspection::RESULT_PASS : v1::CylinderInspection::RESULT_SCRAP;
    } else {
      result = r < 880   ? v1::CylinderInspection::RESULT_PASS
               : r < 950 ? v1::CylinderInspection::RESULT_FAIL
                         : v1::CylinderInspection::RESULT_SCRAP;
    }
    const Party& station = P(c.station);
    v1::CylinderInspection* e = BeginBody(&cylinder_inspection_scratch_,
                                          &v1::Event::mutable_cylinder_inspection,
                                          AgencyFor(station));
    std::string* text = e->mutable_cylinder_id();
    text->clear();
    AppendCylinderId(text, slot, c);
    e->set_agency_id(AgencyFor(station));
    SetTime(e->mutable_inspected_at(), now_);
    e->set_result(result);
    const int64_t today = DayOf(now_);
    text = e->mutable_report_id();
    text->clear();
    text->append("SEI-");
    AppendUint(text, static_cast<uint64_t>(YearOf(today)));
    text->push_back('-');
    text->append(kCylinderTypes[c.type].medium).push_back('-');
    AppendUint(text, ++reports_, 6);
    CountDomainEvent(Domain::kCylinder);
    switch (result) {
      case v1::CylinderInspection::RESULT_PASS: {
        c.last_inspected_day = today;
        c.due_day = AddYears(today, kCylinderTypes[c.type].inspection_years);
        text = e->mutable_next_inspection_due();
        text->clear();
        AppendDate(text, c.due_day);
        c.state = CylinderState::kActive;
        Schedule(StepKind::kCylinderFill,
                 OpenHours(After(2 * kMicrosPerHour, 3 * kMicrosPerDay), 6, 20), slot);
        break;
      }
      case v1::CylinderInspection::RESULT_FAIL:
        c.state = CylinderState::kFailed;
        Schedule(StepKind::kCylinderInspect,
                 OpenHours(After(3 * kMicrosPerDay, 15 * kMicrosPerDay), 9, 17), slot);
        break;
      default: {  // RESULT_SCRAP
        ScrappedCylinder& scrapped = scrapped_.size() < kScrappedRingSize
                                         ? scrapped_.emplace_back()
                                         : scrapped_[scrapped_next_++ % kScrappedRingSize];
        scrapped.id.clear();
        AppendCylinderId(&scrapped.id, slot, c);
        scrapped.station = c.station;
        scrapped.type = c.type;
        c.state = CylinderState::kScrapped;
        ++c.generation;
        NewCylinder(slot, /*initial=*/false);
        Schedule(StepKind::kCylinderRegister, After(kMicrosPerDay, 10 * kMicrosPerDay),
                 slot);
        break;
      }
    }
  }

  void CylinderInspect(uint32_t slot) {
    const CylinderState state = cylinders_[slot].state;
    TL_ASSERT(state == CylinderState::kAwaitingInspection || state == CylinderState::kFailed ||
              state == CylinderState::kRetired);
    InspectAndDecide(slot);
  }

  bool Fillable(const Cylinder& c, int64_t today) const {
    return c.state == CylinderState::kActive && today < c.due_day - 10 &&
           today + 1 < c.life_end_day;
  }

  // Finds a target for a fill anomaly of `kind` by `station_index`; false if none exists now.
  bool TryFillAnomaly(Anomaly kind, uint32_t station_index) {
    const int64_t today = DayOf(now_);
    const Party& station = P(station_index);
    switch (kind) {
      case Anomaly::kFillUnregistered: {
        const uint32_t type = CylinderTypeFor(station.number, rng_.Next());
        // A cylinder brought in from another province: registered stamps all start "SH-".
        cylinder_id_.clear();
        cylinder_id_.append("JS-").append(kCylinderTypes[type].medium).push_back('-');
        AppendUint(&cylinder_id_, static_cast<uint64_t>(YearOf(today) - rng_.Range(1, 6)), 4);
        cylinder_id_.push_back('-');
        AppendUint(&cylinder_id_, ++unregistered_, 6);
        EmitFill(station.id, cylinder_id_, type, station.number);
        return true;
      }
      case Anomaly::kFillOtherStation: {
        for (int attempt = 0; attempt < 32; ++attempt) {
          const auto slot = static_cast<uint32_t>(rng_.Below(cylinders_.size()));
          const Cylinder& c = cylinders_[slot];
          if (c.station == station_index || !Fillable(c, today)) continue;
          cylinder_id_.clear();
          AppendCylinderId(&cylinder_id_, slot, c);
          EmitFill(station.id, cylinder_id_, c.type, station.number);
          return true;
        }
        return false;
      }
      case Anomaly::kFillOverdue:
        return FillFromPool(&overdue_pool_, CylinderState::kAwaitingInspection, today,
                            &Cylinder::in_overdue_pool);
      case Anomaly::kFillPastDesignLife:
        return FillFromPool(&retired_pool_, CylinderState::kRetired, today,
                            &Cylinder::in_retired_pool);
      case Anomaly::kFillScrapped: {
        if (scrapped_.empty()) return false;
        const ScrappedCylinder& s = scrapped_[rng_.Below(scrapped_.size())];
        const Party& owner = P(s.station);
        EmitFill(owner.id, s.id, s.type, owner.number);
        return true;
      }
      default: TL_ASSERT(false && "not a fill anomaly");
    }
    return false;
  }

  // A fill by its owner of a pooled cylinder in `state` (overdue: due date passed; retired:
  // design life passed). Drops stale pool entries on the way.
  bool FillFromPool(std::vector<uint32_t>* pool, CylinderState state, int64_t today,
                    bool Cylinder::*in_pool) {
    size_t i = pool->empty() ? 0 : rng_.Below(pool->size());
    // Each pass either drops an entry or moves on by one: at most two passes over the pool.
    for (size_t visited = 0, limit = pool->size(); visited < limit && !pool->empty(); ++visited) {
      if (i >= pool->size()) i = 0;
      const uint32_t slot = (*pool)[i];
      Cylinder& c = cylinders_[slot];
      if (c.state != state) {
        c.*in_pool = false;
        (*pool)[i] = pool->back();
        pool->pop_back();
        continue;
      }
      const bool broken = state == CylinderState::kAwaitingInspection ? today > c.due_day
                                                                      : today > c.life_end_day;
      if (!broken) {  // not overdue / past its life yet
        ++i;
        continue;
      }
      const Party& owner = P(c.station);
      cylinder_id_.clear();
      AppendCylinderId(&cylinder_id_, slot, c);
      EmitFill(owner.id, cylinder_id_, c.type, owner.number);
      return true;
    }
    return false;
  }

  void CylinderAnomaly(uint32_t station_index, uint64_t value) {
    const auto wanted = static_cast<Anomaly>(value);
    size_t first = 0;
    while (kFillAnomalies[first] != wanted) ++first;
    for (size_t k = 0; k < kFillAnomalyKinds; ++k) {
      const Anomaly kind = kFillAnomalies[(first + k) % kFillAnomalyKinds];
      if (TryFillAnomaly(kind, station_index)) {
        ++anomaly_domain_events_;
        MarkAnomaly(kind);
        return;
      }
    }
    TL_ASSERT(false && "an unregistered fill is always possible");
  }

  // --- state ----------------------------------------------------------------------------------

  const Options options_;
  Directory dir_;
  Rng rng_;
  const uint64_t event_tag_;
  const uint64_t transformation_tag_;

  std::vector<Step> heap_;  // min-heap by (time, order)
  uint64_t next_order_ = 0;
  int64_t now_;
  uint64_t produced_ = 0;
  const v1::Event* current_ = nullptr;
  std::optional<Anomaly> last_anomaly_;
  std::array<uint64_t, kAnomalyKinds> anomaly_counts_{};
  uint64_t anomaly_domain_events_ = 0;
  std::array<AnomalyPacer, 3> pacers_{};  // drug, device, cylinder

  int64_t food_interval_ = 0;
  int64_t drug_interval_ = 0;
  int64_t device_interval_ = 0;
  int64_t inspection_interval_ = 0;

  Slab<FoodChain> food_;
  Slab<SerialChain> serial_;
  size_t live_objects_ = 0;
  std::vector<uint64_t> serial_counters_;  // next serial per (maker, product)
  std::vector<Cylinder> cylinders_;
  std::vector<uint32_t> overdue_pool_;
  std::vector<uint32_t> retired_pool_;
  std::vector<ScrappedCylinder> scrapped_;  // ring of the last kScrappedRingSize scrapped
  uint64_t scrapped_next_ = 0;

  uint64_t transformations_ = 0;
  uint64_t samples_ = 0;
  uint64_t recalls_ = 0;
  uint64_t cases_ = 0;
  uint64_t reports_ = 0;
  uint64_t unknown_serials_ = 0;
  uint64_t unregistered_ = 0;
  std::vector<uint32_t> split_;
  std::string cylinder_id_;

  // One reusable event per body type: after warm-up, building an event allocates nothing.
  v1::Event object_scratch_;
  v1::Event aggregation_scratch_;
  v1::Event transaction_scratch_;
  v1::Event transformation_scratch_;
  v1::Event inspection_scratch_;
  v1::Event sampling_scratch_;
  v1::Event enforcement_scratch_;
  v1::Event recall_scratch_;
  v1::Event removal_scratch_;
  v1::Event registration_scratch_;
  v1::Event cylinder_inspection_scratch_;
  v1::Event fill_scratch_;
};

// ---------------------------------------------------------------------------------------------
// Generator
// ---------------------------------------------------------------------------------------------

Result<std::unique_ptr<Generator>> Generator::Create(const Options& options) {
  TL_ASSIGN_OR_RETURN(Options resolved, ResolveOptions(options));
  return std::unique_ptr<Generator>(new Generator(std::make_unique<Impl>(resolved)));
}

Generator::Generator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Generator::~Generator() = default;

const v1::Event* Generator::Next() { return impl_->Next(); }
uint64_t Generator::produced() const { return impl_->produced(); }
std::optional<Anomaly> Generator::last_anomaly() const { return impl_->last_anomaly(); }
const std::array<uint64_t, kAnomalyKinds>& Generator::anomaly_counts() const {
  return impl_->anomaly_counts();
}
uint64_t Generator::anomaly_domain_events() const { return impl_->anomaly_domain_events(); }
size_t Generator::LiveObjects() const { return impl_->LiveObjects(); }
size_t Generator::PendingSteps() const { return impl_->PendingSteps(); }
size_t Generator::LiveObjectsBound() const { return impl_->LiveObjectsBound(); }
size_t Generator::PendingStepsBound() const { return impl_->PendingStepsBound(); }
const Options& Generator::options() const { return impl_->options(); }

Status Generate(const Options& options,
                const std::function<Status(const traceledger::v1::Event&)>& sink) {
  TL_ASSIGN_OR_RETURN(std::unique_ptr<Generator> generator, Generator::Create(options));
  while (const v1::Event* event = generator->Next()) {
    TL_RETURN_IF_ERROR(sink(*event));
  }
  return Status::Ok();
}

Status WriteJsonLines(const Options& options, std::ostream& out) {
  pb::util::JsonPrintOptions print;
  print.add_whitespace = false;
  std::string line;
  return Generate(options, [&](const v1::Event& event) -> Status {
    line.clear();
    const pb::util::Status printed = pb::util::MessageToJsonString(event, &line, print);
    if (!printed.ok()) {
      return Status::Internal("event " + event.event_id() + ": " + printed.ToString());
    }
    line.push_back('\n');
    out.write(line.data(), static_cast<std::streamsize>(line.size()));
    if (!out) return Status::Unavailable("writing the event stream failed");
    return Status::Ok();
  });
}

std::vector<std::string> Parties(const Options& options) {
  Result<Options> resolved = ResolveOptions(options);
  if (!resolved.ok()) return {};
  Directory dir = BuildDirectory(*resolved);
  std::vector<std::string> ids;
  ids.reserve(dir.parties.size() + dir.agencies.size() + dir.labs.size() +
              dir.regulators.size());
  for (Party& p : dir.parties) ids.push_back(std::move(p.id));
  for (std::string& id : dir.agencies) ids.push_back(std::move(id));
  for (std::string& id : dir.labs) ids.push_back(std::move(id));
  for (std::string& id : dir.regulators) ids.push_back(std::move(id));
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

}  // namespace traceledger::tools::gen
