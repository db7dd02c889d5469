#include "ingest/gs1.h"

#include <array>
#include <initializer_list>
#include <string>
#include <string_view>

#include "ingest/internal/quote.h"

namespace traceledger::ingest {
namespace {

// GS1 General Specifications / EPC Tag Data Standard 2.0 lengths.
constexpr size_t kMinCompanyPrefixDigits = 6;
constexpr size_t kMaxCompanyPrefixDigits = 12;
constexpr size_t kMaxSerialChars = 20;           // AI (21) serial, AI (10) lot, AI (22) CPV
constexpr size_t kMaxGraiSerialChars = 16;       // AI (8003) serial component
constexpr size_t kMaxGdtiSerialChars = 17;       // AI (253) serial component
constexpr size_t kMaxGcnSerialDigits = 12;       // AI (255) serial component
constexpr size_t kMaxGiaiChars = 30;             // AI (8004), company prefix included
constexpr size_t kMaxTpxChars = 28;              // AI (235)
constexpr size_t kMaxAiValueChars = 90;          // any other AI
constexpr size_t kUnifiedSocialCreditCodeChars = 18;
// Safety bound on Digital Link path segments; real links have at most ~8.
constexpr size_t kMaxDigitalLinkSegments = 32;

// GB 32100-2015 code characters; the index of a character is its value.
constexpr std::string_view kUsccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";
static_assert(kUsccAlphabet.size() == 31);

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsHexDigit(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool IsAllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

using internal::Quote;

// Checks `number` as a GS1 key named `kind` whose length is one of `lengths` and whose last
// digit is the mod-10 check digit over the others.
Status CheckKeyDigits(std::string_view kind, std::string_view number,
                      std::initializer_list<size_t> lengths, std::string_view lengths_text) {
  if (!IsAllDigits(number)) {
    return Status::InvalidArgument(std::string(kind) + " " + Quote(number) + ": want only digits");
  }
  bool length_ok = false;
  for (size_t n : lengths) length_ok = length_ok || number.size() == n;
  if (!length_ok) {
    return Status::InvalidArgument(std::string(kind) + " " + std::string(number) + ": want " +
                                   std::string(lengths_text) + " digits, got " +
                                   std::to_string(number.size()));
  }
  const int want = Gs1CheckDigit(number.substr(0, number.size() - 1));
  const int got = number.back() - '0';
  if (got != want) {
    return Status::InvalidArgument(std::string(kind) + " " + std::string(number) +
                                   ": check digit " + std::to_string(got) + ", want " +
                                   std::to_string(want));
  }
  return Status::Ok();
}

// The parts of a string split on a separator, empty parts kept, without allocating: the first
// kMaxParts are kept, the rest only counted.
template <size_t kMaxParts>
class SplitParts {
 public:
  SplitParts(std::string_view s, char separator) {
    size_t start = 0;
    while (true) {
      const size_t end = s.find(separator, start);
      const std::string_view part =
          end == std::string_view::npos ? s.substr(start) : s.substr(start, end - start);
      if (size_ < kMaxParts) parts_[size_] = part;
      ++size_;
      if (end == std::string_view::npos) return;
      start = end + 1;
    }
  }

  // Every part, kept or not.
  size_t size() const { return size_; }
  // True if every part is kept.
  bool all_kept() const { return size_ <= kMaxParts; }
  // Requires i < size() and i < kMaxParts.
  std::string_view operator[](size_t i) const {
    TL_ASSERT(i < size_);
    TL_ASSERT(i < kMaxParts);
    return parts_[i];
  }
  // Requires all_kept() and size() > 0.
  std::string_view back() const { return (*this)[size_ - 1]; }
  void pop_back() {
    TL_ASSERT(all_kept());
    TL_ASSERT(size_ > 0);
    --size_;
  }

 private:
  std::array<std::string_view, kMaxParts> parts_;
  size_t size_ = 0;
};

// Counts the characters of a percent-escaped string; returns false on a bad escape.
bool UnescapedLength(std::string_view s, size_t* length) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size()) return false;
      if (!IsHexDigit(s[i + 1]) || !IsHexDigit(s[i + 2])) return false;
      i += 2;
    }
    ++n;
  }
  *length = n;
  return true;
}

// A serial/lot/extension component of an EPC URN: 1..max_chars characters of the URN-safe
// subset of GS1 AI character set 82 (other characters %-escaped).
Status CheckEpcComponent(std::string_view uri, std::string_view what, std::string_view value,
                         size_t max_chars) {
  constexpr std::string_view kAllowedPunctuation = "!'()*+,-.:;=_%";
  for (char c : value) {
    if (!IsDigit(c) && !IsAlpha(c) && kAllowedPunctuation.find(c) == std::string_view::npos) {
      return Status::InvalidArgument("EPC " + std::string(uri) + ": " + std::string(what) +
                                     " has character " + Quote(std::string(1, c)) +
                                     " (escape it as %XX)");
    }
  }
  size_t length = 0;
  if (!UnescapedLength(value, &length)) {
    return Status::InvalidArgument("EPC " + std::string(uri) + ": " + std::string(what) +
                                   " has a bad %-escape");
  }
  if (length == 0 || length > max_chars) {
    return Status::InvalidArgument("EPC " + std::string(uri) + ": " + std::string(what) +
                                   " length " + std::to_string(length) + ", want 1.." +
                                   std::to_string(max_chars));
  }
  return Status::Ok();
}

// Checks a company prefix (6..12 digits) followed by a numeric reference (possibly empty) whose
// digits add up to `total_digits`: the GS1 key's length without its check digit (EPC URNs
// carry no check digit).
Status CheckPrefixAndReference(std::string_view uri, std::string_view company_prefix,
                               std::string_view reference, size_t total_digits) {
  if (!IsAllDigits(company_prefix) || company_prefix.size() < kMinCompanyPrefixDigits ||
      company_prefix.size() > kMaxCompanyPrefixDigits) {
    return Status::InvalidArgument("EPC " + std::string(uri) + ": company prefix " +
                                   Quote(company_prefix) + ", want 6..12 digits");
  }
  if (!reference.empty() && !IsAllDigits(reference)) {
    return Status::InvalidArgument("EPC " + std::string(uri) + ": reference " +
                                   Quote(reference) + ", want digits");
  }
  const size_t got = company_prefix.size() + reference.size();
  if (got != total_digits) {
    return Status::InvalidArgument("EPC " + std::string(uri) +
                                   ": company prefix + reference have " + std::to_string(got) +
                                   " digits, want " + std::to_string(total_digits));
  }
  return Status::Ok();
}

// Rules for one EPC URI scheme, EPC Tag Data Standard 2.0 section 6.
struct EpcSchemeRule {
  std::string_view kind;    // "id", "class" or "idpat"
  std::string_view scheme;  // "sgtin", ...
  size_t parts;             // dot-separated components
  size_t reference_digits;  // digits in company prefix + reference (0: prefix only)
  std::string_view last_name;  // name of the free last component, empty if none
  size_t last_max_chars;
};

// Most dot-separated parts of any EPC scheme below.
constexpr size_t kMaxEpcParts = 3;

constexpr std::array<EpcSchemeRule, 12> kEpcSchemeRules = {{
    {"id", "sgtin", 3, 13, "serial", kMaxSerialChars},
    {"id", "sscc", 2, 17, "", 0},
    {"id", "sgln", 3, 12, "extension", kMaxSerialChars},
    {"id", "grai", 3, 12, "serial", kMaxGraiSerialChars},
    {"id", "giai", 2, 0, "asset reference", kMaxGiaiChars},
    {"id", "pgln", 2, 12, "", 0},
    {"id", "gdti", 3, 12, "serial", kMaxGdtiSerialChars},
    {"id", "gsrn", 2, 17, "", 0},
    {"id", "gsrnp", 2, 17, "", 0},
    {"id", "sgcn", 3, 12, "serial", kMaxGcnSerialDigits},
    {"class", "lgtin", 3, 13, "lot", kMaxSerialChars},
    {"idpat", "sgtin", 3, 13, "serial", kMaxSerialChars},
}};
static_assert(
    [] {
      for (const EpcSchemeRule& rule : kEpcSchemeRules) {
        if (rule.parts > kMaxEpcParts) return false;
      }
      return true;
    }(),
    "kMaxEpcParts is too small");

Status CheckEpcUrn(std::string_view uri) {
  constexpr std::string_view kPrefix = "urn:epc:";
  std::string_view rest = uri.substr(kPrefix.size());
  const size_t kind_end = rest.find(':');
  const std::string_view kind = rest.substr(0, kind_end);
  if (kind != "id" && kind != "class" && kind != "idpat") {
    return Status::InvalidArgument("EPC " + std::string(uri) + ": kind " + Quote(kind) +
                                   ", want id, class or idpat (pure identity URIs)");
  }
  if (kind_end == std::string_view::npos) {
    return Status::InvalidArgument("EPC " + std::string(uri) + ": no scheme after urn:epc:" +
                                   std::string(kind));
  }
  rest = rest.substr(kind_end + 1);
  const size_t scheme_end = rest.find(':');
  if (scheme_end == std::string_view::npos || scheme_end == 0 ||
      scheme_end + 1 == rest.size()) {
    return Status::InvalidArgument("EPC " + std::string(uri) +
                                   ": want urn:epc:" + std::string(kind) + ":<scheme>:<value>");
  }
  const std::string_view scheme = rest.substr(0, scheme_end);
  const std::string_view body = rest.substr(scheme_end + 1);

  const EpcSchemeRule* rule = nullptr;
  for (const EpcSchemeRule& r : kEpcSchemeRules) {
    if (r.kind == kind && r.scheme == scheme) {
      rule = &r;
      break;  // (kind, scheme) pairs are unique
    }
  }
  // Other EPC schemes (gid, cpi, ginc, gsin, itip, upui, ...) are accepted unchecked.
  if (rule == nullptr) return Status::Ok();

  const SplitParts<kMaxEpcParts> parts(body, '.');
  if (parts.size() != rule->parts) {
    return Status::InvalidArgument("EPC " + std::string(uri) + ": " +
                                   std::to_string(parts.size()) + " dot-separated parts, want " +
                                   std::to_string(rule->parts));
  }
  const bool is_pattern = kind == "idpat";
  if (rule->reference_digits == 0) {
    TL_RETURN_IF_ERROR(CheckPrefixAndReference(uri, parts[0], "", parts[0].size()));
  } else if (is_pattern && parts[1] == "*") {
    TL_RETURN_IF_ERROR(CheckPrefixAndReference(uri, parts[0], "", parts[0].size()));
  } else {
    TL_RETURN_IF_ERROR(
        CheckPrefixAndReference(uri, parts[0], parts[1], rule->reference_digits));
  }
  if (!rule->last_name.empty()) {
    const std::string_view last = parts.back();
    if (is_pattern && last == "*") return Status::Ok();
    if (is_pattern && parts[1] == "*") {
      return Status::InvalidArgument("EPC pattern " + std::string(uri) +
                                     ": want * for the serial when the item reference is *");
    }
    if (scheme == "sgcn" && !IsAllDigits(last)) {
      return Status::InvalidArgument("EPC " + std::string(uri) + ": serial " + Quote(last) +
                                     ", want digits");
    }
    size_t max_chars = rule->last_max_chars;
    if (rule->reference_digits == 0) max_chars -= parts[0].size();  // GIAI: prefix counts
    TL_RETURN_IF_ERROR(CheckEpcComponent(uri, rule->last_name, last, max_chars));
  }
  return Status::Ok();
}

// Returns `s` with its %XX escapes decoded (other '%' kept as is): `s` itself if it has no '%',
// else the decoded text, written to `out`.
std::string_view PercentDecode(std::string_view s, std::string& out) {
  if (s.find('%') == std::string_view::npos) return s;
  out.clear();
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && IsHexDigit(s[i + 1]) && IsHexDigit(s[i + 2])) {
      auto hex = [](char c) {
        if (IsDigit(c)) return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return c - 'A' + 10;
      };
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool IsPrimaryKeyAi(std::string_view ai) {
  constexpr std::array<std::string_view, 15> kPrimaryKeys = {
      "00", "01", "253", "255", "401", "402", "414", "417",
      "8003", "8004", "8006", "8010", "8013", "8017", "8018"};
  for (std::string_view key : kPrimaryKeys) {
    if (key == ai) return true;
  }
  return false;
}

bool IsAiSegment(std::string_view segment) {
  return segment.size() >= 2 && segment.size() <= 4 && IsAllDigits(segment);
}

Status CheckLength(std::string_view uri, std::string_view what, std::string_view value,
                   size_t min_chars, size_t max_chars) {
  if (value.size() < min_chars || value.size() > max_chars) {
    return Status::InvalidArgument("Digital Link " + std::string(uri) + ": " +
                                   std::string(what) + " " + Quote(value) + " length " +
                                   std::to_string(value.size()) + ", want " +
                                   std::to_string(min_chars) + ".." + std::to_string(max_chars));
  }
  return Status::Ok();
}

// Checks one AI/value pair of a Digital Link path; `value` is percent-decoded.
Status CheckDigitalLinkPair(std::string_view uri, std::string_view ai, std::string_view value) {
  if (ai == "01") return CheckGtin(value);
  if (ai == "00") return CheckSscc(value);
  if (ai == "414" || ai == "417") return CheckGln(value);
  if (ai == "8017" || ai == "8018") return CheckKeyDigits("GSRN", value, {18}, "18");
  if (ai == "402") return CheckKeyDigits("GSIN", value, {17}, "17");
  if (ai == "253" || ai == "255") {
    const bool gdti = ai == "253";
    const std::string_view kind = gdti ? "GDTI" : "GCN";
    if (value.size() < 13) return CheckKeyDigits(kind, value, {13}, "13");
    TL_RETURN_IF_ERROR(CheckKeyDigits(kind, value.substr(0, 13), {13}, "13"));
    return CheckLength(uri, gdti ? "GDTI serial" : "GCN serial", value.substr(13), 0,
                       gdti ? kMaxGdtiSerialChars : kMaxGcnSerialDigits);
  }
  if (ai == "8003") {
    // N14 = "0" + the 13-digit GRAI (12 digits + check digit), then an optional serial.
    if (value.size() < 14 || value[0] != '0') {
      return Status::InvalidArgument("GRAI " + Quote(value) +
                                     ": want \"0\" + 13 digits, then an optional serial");
    }
    TL_RETURN_IF_ERROR(CheckKeyDigits("GRAI", value.substr(1, 13), {13}, "13"));
    return CheckLength(uri, "GRAI serial", value.substr(14), 0, kMaxGraiSerialChars);
  }
  if (ai == "8004") return CheckLength(uri, "GIAI", value, 1, kMaxGiaiChars);
  if (ai == "10") return CheckLength(uri, "lot", value, 1, kMaxSerialChars);
  if (ai == "21") return CheckLength(uri, "serial", value, 1, kMaxSerialChars);
  if (ai == "22") return CheckLength(uri, "consumer product variant", value, 1, kMaxSerialChars);
  if (ai == "235") return CheckLength(uri, "TPX", value, 1, kMaxTpxChars);
  if (ai == "254") return CheckLength(uri, "GLN extension", value, 1, kMaxSerialChars);
  // Any other AI. Its name is only spelled out for the message.
  if (!value.empty() && value.size() <= kMaxAiValueChars) return Status::Ok();
  std::string what = "AI (";
  what.append(ai);
  what.append(") value");
  return CheckLength(uri, what, value, 1, kMaxAiValueChars);
}

// A GS1 Digital Link is an http(s) URI whose path ends in AI/value pairs that start with a
// primary key AI (01, 00, 414, ...). URIs without such a tail are not Digital Links and are
// accepted as plain URIs.
Status CheckDigitalLinkIfAny(std::string_view uri) {
  const size_t scheme_end = uri.find("://");
  if (scheme_end == std::string_view::npos) return Status::Ok();
  std::string_view rest = uri.substr(scheme_end + 3);
  const size_t path_start = rest.find('/');
  if (path_start == std::string_view::npos) return Status::Ok();
  std::string_view path = rest.substr(path_start + 1);
  const size_t query = path.find_first_of("?#");
  if (query != std::string_view::npos) path = path.substr(0, query);
  // One more than the limit: a trailing '/' gives an empty last segment, dropped below.
  SplitParts<kMaxDigitalLinkSegments + 1> segments(path, '/');
  if (!segments.all_kept()) return Status::Ok();  // over kMaxDigitalLinkSegments
  if (segments.size() > 0 && segments.back().empty()) segments.pop_back();
  if (segments.size() > kMaxDigitalLinkSegments) return Status::Ok();

  for (size_t start = 0; start < segments.size(); ++start) {
    if (!IsPrimaryKeyAi(segments[start])) continue;
    if ((segments.size() - start) % 2 != 0) continue;
    bool all_ais = true;
    for (size_t i = start; i < segments.size(); i += 2) {
      all_ais = all_ais && IsAiSegment(segments[i]);
    }
    if (!all_ais) continue;
    std::string decoded;  // stays empty (no allocation) unless a value has a '%'
    for (size_t i = start; i < segments.size(); i += 2) {
      TL_RETURN_IF_ERROR(
          CheckDigitalLinkPair(uri, segments[i], PercentDecode(segments[i + 1], decoded)));
    }
    return Status::Ok();
  }
  return Status::Ok();
}

Status CheckCnDrugCode(std::string_view uri) {
  const std::string_view digits = uri.substr(kCnDrugScheme.size());
  if (digits.size() != kCnDrugCodeDigits || !IsAllDigits(digits)) {
    return Status::InvalidArgument("drug trace code " + std::string(uri) + ": want " +
                                   std::string(kCnDrugScheme) + " + " +
                                   std::to_string(kCnDrugCodeDigits) + " digits, got " +
                                   Quote(digits));
  }
  return Status::Ok();
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool StartsWithIgnoringCase(std::string_view s, std::string_view lower_prefix) {
  if (s.size() < lower_prefix.size()) return false;
  for (size_t i = 0; i < lower_prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower_prefix[i]) return false;
  }
  return true;
}

// CheckUriIdentifier for a `uri` known to pass IsUri (callers check that first, and IsUri
// reads the whole string).
Status CheckKnownUriScheme(std::string_view uri) {
  if (StartsWith(uri, "urn:epc:")) return CheckEpcUrn(uri);
  if (StartsWith(uri, kCnDrugScheme)) return CheckCnDrugCode(uri);
  if (StartsWithIgnoringCase(uri, "https://") || StartsWithIgnoringCase(uri, "http://")) {
    return CheckDigitalLinkIfAny(uri);
  }
  return Status::Ok();
}

bool LooksLikeUscc(std::string_view id) {
  if (id.size() != kUnifiedSocialCreditCodeChars) return false;
  for (char c : id) {
    if (!IsDigit(c) && !(c >= 'A' && c <= 'Z')) return false;
  }
  return true;
}

}  // namespace

int Gs1CheckDigit(std::string_view data_digits) {
  TL_ASSERT(!data_digits.empty());
  int sum = 0;
  int weight = 3;  // the rightmost data digit has weight 3
  for (size_t i = data_digits.size(); i-- > 0;) {
    TL_ASSERT(IsDigit(data_digits[i]));
    sum += (data_digits[i] - '0') * weight;
    weight = 4 - weight;  // 3, 1, 3, 1, ...
  }
  return (10 - sum % 10) % 10;
}

Status CheckGtin(std::string_view number) {
  return CheckKeyDigits("GTIN", number, {8, 12, 13, 14}, "8, 12, 13 or 14");
}

Status CheckGln(std::string_view number) { return CheckKeyDigits("GLN", number, {13}, "13"); }

Status CheckSscc(std::string_view number) { return CheckKeyDigits("SSCC", number, {18}, "18"); }

Status CheckUnifiedSocialCreditCode(std::string_view code) {
  if (code.size() != kUnifiedSocialCreditCodeChars) {
    return Status::InvalidArgument("unified social credit code " + Quote(code) + ": want 18 " +
                                   "characters, got " + std::to_string(code.size()));
  }
  // Weights are 3^i mod 31; check = (31 - sum % 31) % 31.
  int sum = 0;
  int weight = 1;
  for (size_t i = 0; i + 1 < code.size(); ++i) {
    const size_t value = kUsccAlphabet.find(code[i]);
    if (value == std::string_view::npos) {
      return Status::InvalidArgument("unified social credit code " + std::string(code) +
                                     ": character " + Quote(std::string(1, code[i])) +
                                     " at position " + std::to_string(i + 1) +
                                     " is not in 0-9 A-H J-N P-R T U W-Y");
    }
    sum += static_cast<int>(value) * weight;
    weight = weight * 3 % 31;
  }
  const char want = kUsccAlphabet[static_cast<size_t>((31 - sum % 31) % 31)];
  if (code.back() != want) {
    return Status::InvalidArgument("unified social credit code " + std::string(code) +
                                   ": check character " + std::string(1, code.back()) +
                                   ", want " + std::string(1, want));
  }
  return Status::Ok();
}

bool IsUri(std::string_view text) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) return false;
  if (!IsAlpha(text[0])) return false;
  for (size_t i = 1; i < colon; ++i) {
    const char c = text[i];
    if (!IsAlpha(c) && !IsDigit(c) && c != '+' && c != '-' && c != '.') return false;
  }
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return false;
  }
  return true;
}

Status CheckUriIdentifier(std::string_view uri) {
  if (!IsUri(uri)) {
    return Status::InvalidArgument(Quote(uri) + ": want a URI (scheme:...) without spaces");
  }
  return CheckKnownUriScheme(uri);
}

Status CheckObjectId(std::string_view id) {
  if (!IsUri(id)) {
    return Status::InvalidArgument(
        Quote(id) + ": want a URI such as urn:epc:id:sgtin:..., a GS1 Digital Link " +
        "https://id.gs1.org/01/..., or cn-drug:<20 digits>");
  }
  return CheckKnownUriScheme(id);
}

Status CheckPartyId(std::string_view id) {
  if (IsAllDigits(id) && id.size() == 13) return CheckGln(id);
  if (LooksLikeUscc(id)) return CheckUnifiedSocialCreditCode(id);
  if (IsUri(id)) return CheckKnownUriScheme(id);
  return Status::InvalidArgument("party " + Quote(id) +
                                 ": want a 13-digit GLN, an 18-character unified social credit " +
                                 "code, or a URI (urn:epc:id:sgln:..., regulator:<code>)");
}

Status CheckFreeFormId(std::string_view id) {
  if (IsUri(id)) return CheckKnownUriScheme(id);
  return Status::Ok();
}

}  // namespace traceledger::ingest
