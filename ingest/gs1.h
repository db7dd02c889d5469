// File: ingest/gs1.h
//
// Identifier checks for submitted events: GS1 keys with their mod-10 check digits (GTIN, GLN,
// SSCC, GSRN, GDTI, GRAI, ...), EPC pure-identity URNs (urn:epc:id:sgtin:..., which carry no
// check digit, so only their digit counts are checked), GS1 Digital Link URIs, Chinese drug
// trace codes ("cn-drug:" + 20 digits), and Chinese unified social credit codes (18
// characters, GB 32100-2015 mod-31 check character).
//
// Every check returns OK or an InvalidArgument Status whose message names the identifier and
// says got vs want, e.g. "GTIN 09521234543214: check digit 4, want 3". The functions are pure
// and thread-safe. Rules and examples: docs/formats/events.md, section "Identifiers".
#ifndef TRACELEDGER_INGEST_GS1_H_
#define TRACELEDGER_INGEST_GS1_H_

#include <cstddef>
#include <string_view>

#include "ledger/base/status.h"

namespace traceledger::ingest {

// The scheme prefix of a Chinese drug trace code (药品追溯码): "cn-drug:" + 20 digits.
inline constexpr std::string_view kCnDrugScheme = "cn-drug:";
inline constexpr size_t kCnDrugCodeDigits = 20;

// Returns the GS1 mod-10 check digit (0..9) for `data_digits`, the key's digits without its
// check digit: weights 3,1,3,1,... from the rightmost data digit; check = (10 - sum % 10) % 10.
// Requires: `data_digits` is non-empty and all ASCII digits.
int Gs1CheckDigit(std::string_view data_digits);

// Each returns OK if `number` is all digits, of the key's length(s), and ends in the right
// check digit; otherwise InvalidArgument naming the key.
// GTIN-8, GTIN-12, GTIN-13 or GTIN-14.
Status CheckGtin(std::string_view number);
// Global Location Number: 13 digits.
Status CheckGln(std::string_view number);
// Serial Shipping Container Code: 18 digits.
Status CheckSscc(std::string_view number);

// Checks an 18-character unified social credit code (统一社会信用代码, GB 32100-2015):
// characters from "0123456789ABCDEFGHJKLMNPQRTUWXY", last one the mod-31 check character.
Status CheckUnifiedSocialCreditCode(std::string_view code);

// Returns true if `text` has the form of an absolute URI: a scheme (a letter, then letters,
// digits, '+', '-' or '.'), ':', and a non-empty rest without spaces or control characters.
bool IsUri(std::string_view text);

// Checks a URI used as an identifier. Known schemes are checked strictly:
//   urn:epc:id:*, urn:epc:class:*, urn:epc:idpat:*  (EPC Tag Data Standard syntax)
//   http(s) URIs whose path ends in GS1 key/value pairs (GS1 Digital Link), check digits
//   cn-drug:<20 digits>
// Any other URI is accepted as is. Returns InvalidArgument if `uri` is not a URI at all.
Status CheckUriIdentifier(std::string_view uri);

// Checks an object identifier (epc lists, parent ids, classes, recall roots): must be a URI
// (see CheckUriIdentifier); plain strings are rejected.
Status CheckObjectId(std::string_view id);

// Checks a party identifier (submitter, enterprise, holder, station, lab, agency): a 13-digit
// GLN (check digit), an 18-character unified social credit code (check character), or a URI
// (see CheckUriIdentifier, e.g. urn:epc:id:sgln:..., regulator:<code>).
Status CheckPartyId(std::string_view id);

// Checks a free-form identifier (cylinder ids, case ids, recall ids, badge numbers): any
// string is allowed, but if it is a URI of a known scheme it must be valid.
Status CheckFreeFormId(std::string_view id);

}  // namespace traceledger::ingest

#endif  // TRACELEDGER_INGEST_GS1_H_
