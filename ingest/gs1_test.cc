#include "ingest/gs1.h"

#include <gtest/gtest.h>

namespace traceledger::ingest {
namespace {

// Known-good keys, each checked by hand with the mod-10 algorithm (weights 3,1,3,... from
// the right): GS1's example GTIN, the EAN-13/UPC-A/EAN-8 examples used in GS1 training
// material, GS1's example SSCC, and a GLN in GS1's demonstration prefix 952.
TEST(Gs1CheckDigitTest, KnownKeys) {
  EXPECT_EQ(Gs1CheckDigit("0952123454321"), 3);       // GTIN-14 09521234543213
  EXPECT_EQ(Gs1CheckDigit("400638133393"), 1);        // GTIN-13 4006381333931
  EXPECT_EQ(Gs1CheckDigit("03600029145"), 2);         // GTIN-12 036000291452
  EXPECT_EQ(Gs1CheckDigit("9638507"), 4);             // GTIN-8 96385074
  EXPECT_EQ(Gs1CheckDigit("10614141123456789"), 7);   // SSCC 106141411234567897
  EXPECT_EQ(Gs1CheckDigit("952123400000"), 6);        // GLN 9521234000006
  EXPECT_EQ(Gs1CheckDigit("0"), 0);
}

TEST(Gs1KeyTest, AcceptsValidKeys) {
  EXPECT_TRUE(CheckGtin("09521234543213").ok());
  EXPECT_TRUE(CheckGtin("4006381333931").ok());
  EXPECT_TRUE(CheckGtin("036000291452").ok());
  EXPECT_TRUE(CheckGtin("96385074").ok());
  EXPECT_TRUE(CheckGln("9521234000006").ok());
  EXPECT_TRUE(CheckSscc("106141411234567897").ok());
}

TEST(Gs1KeyTest, RejectsWrongCheckDigitWithGotAndWant) {
  const Status status = CheckGtin("09521234543214");
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "GTIN 09521234543214: check digit 4, want 3");
  EXPECT_EQ(CheckGln("9521234000007").message(), "GLN 9521234000007: check digit 7, want 6");
  EXPECT_EQ(CheckSscc("106141411234567890").message(),
            "SSCC 106141411234567890: check digit 0, want 7");
}

TEST(Gs1KeyTest, RejectsWrongLengthAndNonDigits) {
  EXPECT_EQ(CheckGtin("0952123454321").message(), "GTIN 0952123454321: check digit 1, want 4")
      << "a GTIN-14 with its check digit cut off reads as a GTIN-13";
  EXPECT_EQ(CheckGtin("952123454").message(),
            "GTIN 952123454: want 8, 12, 13 or 14 digits, got 9");
  EXPECT_EQ(CheckGln("95212340000061").message(), "GLN 95212340000061: want 13 digits, got 14");
  EXPECT_EQ(CheckGtin("0952123454321A").message(), "GTIN \"0952123454321A\": want only digits");
  EXPECT_FALSE(CheckGtin("").ok());
}

TEST(UnifiedSocialCreditCodeTest, AcceptsPublishedCodes) {
  // Codes printed on public business licences; the check character follows GB 32100-2015.
  EXPECT_TRUE(CheckUnifiedSocialCreditCode("91350100M000100Y43").ok());
  EXPECT_TRUE(CheckUnifiedSocialCreditCode("914403001922038216").ok());
  EXPECT_TRUE(CheckUnifiedSocialCreditCode("91440300708461136T").ok());
}

TEST(UnifiedSocialCreditCodeTest, RejectsBadCodes) {
  EXPECT_EQ(CheckUnifiedSocialCreditCode("91350100M000100Y44").message(),
            "unified social credit code 91350100M000100Y44: check character 4, want 3");
  EXPECT_EQ(CheckUnifiedSocialCreditCode("91350100M000100I43").message(),
            "unified social credit code 91350100M000100I43: character \"I\" at position 16 is "
            "not in 0-9 A-H J-N P-R T U W-Y");
  EXPECT_FALSE(CheckUnifiedSocialCreditCode("91350100M000100Y4").ok());
}

TEST(IsUriTest, RecognizesSchemes) {
  EXPECT_TRUE(IsUri("urn:epc:id:sgtin:0614141.107346.2018"));
  EXPECT_TRUE(IsUri("https://id.gs1.org/01/09521234543213"));
  EXPECT_TRUE(IsUri("cn-drug:81234560000000010013"));
  EXPECT_TRUE(IsUri("regulator:SAMR-310104"));
  EXPECT_FALSE(IsUri("9521234000006"));
  EXPECT_FALSE(IsUri("CYL 42"));
  EXPECT_FALSE(IsUri("urn:epc:id:sgtin:0614141.107346.20 18"));
  EXPECT_FALSE(IsUri(":nothing"));
  EXPECT_FALSE(IsUri("1abc:x"));
  EXPECT_FALSE(IsUri("scheme:"));
}

TEST(EpcUriTest, AcceptsPureIdentityUris) {
  for (const char* uri : {
           "urn:epc:id:sgtin:0614141.107346.2018",
           "urn:epc:id:sgtin:952100200000.1.A%2FB",  // 12-digit prefix, escaped "/"
           "urn:epc:id:sscc:0614141.1234567890",
           "urn:epc:id:sgln:0614141.12345.400",
           "urn:epc:id:sgln:952123400000..0",  // 12-digit prefix, empty location reference
           "urn:epc:id:grai:0614141.12345.400",
           "urn:epc:id:giai:0614141.12345400",
           "urn:epc:id:pgln:0614141.00777",
           "urn:epc:id:gdti:0614141.00001.1618034",
           "urn:epc:id:gsrn:0614141.0000010253",
           "urn:epc:class:lgtin:4012345.012345.998877",
           "urn:epc:idpat:sgtin:4012345.098765.*",
           "urn:epc:idpat:sgtin:4012345.*.*",
           "urn:epc:id:gid:95100000.12345.400",  // no rule for GID: accepted as is
       }) {
    EXPECT_TRUE(CheckUriIdentifier(uri).ok()) << uri << ": " << CheckUriIdentifier(uri).message();
  }
}

TEST(EpcUriTest, RejectsWrongDigitCounts) {
  EXPECT_EQ(CheckUriIdentifier("urn:epc:id:sgtin:0614141.10734.2018").message(),
            "EPC urn:epc:id:sgtin:0614141.10734.2018: company prefix + reference have 12 "
            "digits, want 13");
  EXPECT_EQ(CheckUriIdentifier("urn:epc:id:sscc:0614141.123456789").message(),
            "EPC urn:epc:id:sscc:0614141.123456789: company prefix + reference have 16 digits, "
            "want 17");
  EXPECT_EQ(CheckUriIdentifier("urn:epc:id:sgln:0614141.1234.400").message(),
            "EPC urn:epc:id:sgln:0614141.1234.400: company prefix + reference have 11 digits, "
            "want 12");
  EXPECT_EQ(CheckUriIdentifier("urn:epc:class:lgtin:4012345.01234.998877").message(),
            "EPC urn:epc:class:lgtin:4012345.01234.998877: company prefix + reference have 12 "
            "digits, want 13");
  EXPECT_EQ(CheckUriIdentifier("urn:epc:id:sgtin:06141.1073461.2018").message(),
            "EPC urn:epc:id:sgtin:06141.1073461.2018: company prefix \"06141\", want 6..12 "
            "digits");
}

TEST(EpcUriTest, RejectsMalformedComponents) {
  EXPECT_EQ(CheckUriIdentifier("urn:epc:id:sgtin:0614141.107346").message(),
            "EPC urn:epc:id:sgtin:0614141.107346: 2 dot-separated parts, want 3");
  EXPECT_EQ(CheckUriIdentifier("urn:epc:id:sgtin:0614141.107346.123456789012345678901").message(),
            "EPC urn:epc:id:sgtin:0614141.107346.123456789012345678901: serial length 21, want "
            "1..20");
  EXPECT_EQ(CheckUriIdentifier("urn:epc:id:sgtin:0614141.107346.A/B").message(),
            "EPC urn:epc:id:sgtin:0614141.107346.A/B: serial has character \"/\" (escape it as "
            "%XX)");
  EXPECT_EQ(CheckUriIdentifier("urn:epc:id:sgtin:0614141.107346.").message(),
            "EPC urn:epc:id:sgtin:0614141.107346.: serial length 0, want 1..20");
  EXPECT_EQ(CheckUriIdentifier("urn:epc:tag:sgtin-96:3.0614141.107346.2018").message(),
            "EPC urn:epc:tag:sgtin-96:3.0614141.107346.2018: kind \"tag\", want id, class or "
            "idpat (pure identity URIs)");
  EXPECT_FALSE(CheckUriIdentifier("urn:epc:id:sgtin").ok());
  EXPECT_FALSE(CheckUriIdentifier("urn:epc:id:giai:0614141.").ok());
}

TEST(DigitalLinkTest, AcceptsValidLinks) {
  for (const char* uri : {
           "https://id.gs1.org/01/09521234543213/21/ABC",
           "https://id.gs1.org/01/09521234543213/10/LOT%2F7?exp=261231",
           "https://brand.example.com/shop/01/09521234543213/10/L1/21/S1",
           "https://id.gs1.org/00/106141411234567897",
           "https://id.gs1.org/414/9521234000006/254/7",
           "https://id.gs1.org/417/9521234000006",
           "https://id.gs1.org/8004/4000001111",
           "https://id.gs1.org/8003/095212340000681001",
           "HTTP://ID.GS1.ORG/01/96385074",
           "https://example.com/about",     // not a Digital Link: any URI is fine
           "https://example.com/2026/01/15/report",  // "01" then an odd tail: not a link
       }) {
    EXPECT_TRUE(CheckUriIdentifier(uri).ok()) << uri << ": " << CheckUriIdentifier(uri).message();
  }
}

TEST(DigitalLinkTest, RejectsBadKeys) {
  EXPECT_EQ(CheckUriIdentifier("https://id.gs1.org/01/09521234543214/21/ABC").message(),
            "GTIN 09521234543214: check digit 4, want 3");
  EXPECT_EQ(CheckUriIdentifier("https://id.gs1.org/00/106141411234567890").message(),
            "SSCC 106141411234567890: check digit 0, want 7");
  EXPECT_EQ(CheckUriIdentifier("https://id.gs1.org/414/9521234000007").message(),
            "GLN 9521234000007: check digit 7, want 6");
  EXPECT_EQ(CheckUriIdentifier("https://id.gs1.org/01/095212345432/21/A").message(),
            "GTIN 095212345432: check digit 2, want 8");
  EXPECT_EQ(CheckUriIdentifier("https://id.gs1.org/01/0952123454/21/A").message(),
            "GTIN 0952123454: want 8, 12, 13 or 14 digits, got 10");
  EXPECT_EQ(CheckUriIdentifier("https://id.gs1.org/8003/095212340000611001").message(),
            "GRAI 9521234000061: check digit 1, want 8");
  EXPECT_EQ(
      CheckUriIdentifier("https://id.gs1.org/01/09521234543213/21/123456789012345678901")
          .message(),
      "Digital Link https://id.gs1.org/01/09521234543213/21/123456789012345678901: serial "
      "\"123456789012345678901\" length 21, want 1..20");
}

TEST(CnDrugCodeTest, AcceptsTwentyDigits) {
  EXPECT_TRUE(CheckUriIdentifier("cn-drug:81234560000000010013").ok());
}

TEST(CnDrugCodeTest, RejectsWrongLengthOrNonDigits) {
  EXPECT_EQ(CheckUriIdentifier("cn-drug:8123456000000001001").message(),
            "drug trace code cn-drug:8123456000000001001: want cn-drug: + 20 digits, got "
            "\"8123456000000001001\"");
  EXPECT_FALSE(CheckUriIdentifier("cn-drug:812345600000000100130").ok());
  EXPECT_FALSE(CheckUriIdentifier("cn-drug:8123456000000001001X").ok());
}

TEST(ObjectIdTest, WantsUris) {
  EXPECT_TRUE(CheckObjectId("urn:epc:id:sgtin:0614141.107346.2018").ok());
  EXPECT_TRUE(CheckObjectId("urn:example:thing:1").ok());
  EXPECT_EQ(CheckObjectId("09521234543213").message(),
            "\"09521234543213\": want a URI such as urn:epc:id:sgtin:..., a GS1 Digital Link "
            "https://id.gs1.org/01/..., or cn-drug:<20 digits>");
}

TEST(PartyIdTest, AcceptsGlnUsccAndUris) {
  EXPECT_TRUE(CheckPartyId("9521234000006").ok());
  EXPECT_TRUE(CheckPartyId("91350100M000100Y43").ok());
  EXPECT_TRUE(CheckPartyId("urn:epc:id:sgln:9521234.00000.0").ok());
  EXPECT_TRUE(CheckPartyId("regulator:SAMR-310104").ok());
}

TEST(PartyIdTest, RejectsOtherForms) {
  EXPECT_EQ(CheckPartyId("9521234000007").message(), "GLN 9521234000007: check digit 7, want 6");
  EXPECT_FALSE(CheckPartyId("91350100M000100Y44").ok());
  EXPECT_EQ(CheckPartyId("acme").message(),
            "party \"acme\": want a 13-digit GLN, an 18-character unified social credit code, "
            "or a URI (urn:epc:id:sgln:..., regulator:<code>)");
}

TEST(FreeFormIdTest, AcceptsPlainStringsButChecksKnownUris) {
  EXPECT_TRUE(CheckFreeFormId("LPG-SH-2019-004512").ok());
  EXPECT_TRUE(CheckFreeFormId("1234567890123").ok()) << "13 digits are not taken for a GLN here";
  EXPECT_TRUE(CheckFreeFormId("urn:epc:id:grai:9521009.00001.1001").ok());
  EXPECT_FALSE(CheckFreeFormId("urn:epc:id:grai:9521009.0001.1001").ok());
}

}  // namespace
}  // namespace traceledger::ingest
