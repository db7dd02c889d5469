#include "ledger/signed_note.h"

#include <gtest/gtest.h>

#include "ledger/base/encoding.h"

namespace traceledger::ledger {
namespace {

// The example of the C2SP signed-note specification.
constexpr std::string_view kSpecVkey =
    "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
constexpr std::string_view kSpecNote =
    "This is an example message.\n"
    "\n"
    "\xe2\x80\x94 example.com/foo "
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

TEST(SignedNoteTest, VerifiesTheSpecificationExample) {
  auto verifier = NoteVerifier::FromVerifierKeyText(kSpecVkey);
  ASSERT_TRUE(verifier.ok()) << verifier.status().ToString();
  EXPECT_EQ(verifier->name(), "example.com/foo");
  EXPECT_EQ(verifier->key_id(), 0x530d903au);
  auto text = OpenNote(kSpecNote, *verifier);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(*text, "This is an example message.\n");
}

TEST(SignedNoteTest, AnyChangedByteOfTheSpecExampleFailsToOpen) {
  auto verifier = NoteVerifier::FromVerifierKeyText(kSpecVkey);
  ASSERT_TRUE(verifier.ok());
  for (size_t i = 0; i < kSpecNote.size(); ++i) {
    std::string changed(kSpecNote);
    changed[i] = static_cast<char>(changed[i] ^ 0x01);
    EXPECT_FALSE(OpenNote(changed, *verifier).ok()) << "byte " << i << " changed";
  }
}

TEST(SignedNoteTest, SignThenOpenRoundTripsAndKeyTextsParse) {
  auto signer = NoteSigner::Generate("ledger.example/test");
  ASSERT_TRUE(signer.ok());
  auto note = signer->Sign("hello\nworld\n");
  ASSERT_TRUE(note.ok());
  auto verifier = NoteVerifier::FromVerifierKeyText(signer->VerifierKeyText());
  ASSERT_TRUE(verifier.ok());
  EXPECT_EQ(verifier->key_id(), signer->key_id());
  EXPECT_EQ(*OpenNote(*note, *verifier), "hello\nworld\n");

  auto reloaded = NoteSigner::FromPrivateKeyText(signer->PrivateKeyText());
  ASSERT_TRUE(reloaded.ok()) << reloaded.status().ToString();
  EXPECT_EQ(reloaded->VerifierKeyText(), signer->VerifierKeyText());
  // Ed25519 is deterministic: the same key signs the same text identically.
  EXPECT_EQ(*reloaded->Sign("hello\nworld\n"), *note);
}

TEST(SignedNoteTest, SignaturesByOtherKeysAreIgnoredButOneValidIsNeeded) {
  auto ours = *NoteSigner::Generate("log.example");
  auto witness = *NoteSigner::Generate("witness.example");
  auto verifier = *NoteVerifier::FromVerifierKeyText(ours.VerifierKeyText());
  const std::string text = "body\n";
  const std::string by_witness = *witness.Sign(text);
  const std::string witness_line = by_witness.substr(text.size() + 1);
  const std::string by_ours = *ours.Sign(text);
  // Ours plus a witness cosignature: opens.
  EXPECT_TRUE(OpenNote(by_ours + witness_line, verifier).ok());
  // Only the witness: refused, naming the missing key.
  auto refused = OpenNote(by_witness, verifier);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("no signature by log.example"), std::string::npos);
  // A forged line claiming our key name and id but carrying the witness signature: refused.
  std::string forged = by_ours.substr(0, by_ours.rfind(' ') + 1) +
                       by_witness.substr(by_witness.rfind(' ') + 1);
  EXPECT_FALSE(OpenNote(forged, verifier).ok());
}

TEST(SignedNoteTest, RejectsMalformedNotesAndKeys) {
  auto signer = *NoteSigner::Generate("k");
  EXPECT_FALSE(signer.Sign("no trailing newline").ok());
  EXPECT_FALSE(signer.Sign("bell \x07 character\n").ok());
  EXPECT_FALSE(NoteSigner::Generate("has space").ok());
  EXPECT_FALSE(NoteSigner::Generate("has+plus").ok());
  EXPECT_FALSE(NoteSigner::Generate("").ok());
  auto verifier = *NoteVerifier::FromVerifierKeyText(signer.VerifierKeyText());
  EXPECT_FALSE(OpenNote("text\n", verifier).ok());          // no signatures
  EXPECT_FALSE(OpenNote("text\n\nsig\n", verifier).ok());  // not a signature line
  // A verifier key whose id does not match its key.
  std::string vkey = signer.VerifierKeyText();
  const size_t plus = vkey.find('+');
  vkey[plus + 1] = vkey[plus + 1] == '0' ? '1' : '0';
  auto bad = NoteVerifier::FromVerifierKeyText(vkey);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("does not match"), std::string::npos);
  EXPECT_FALSE(NoteSigner::FromPrivateKeyText("PRIVATE+KEY+k+00000000+AAAA").ok());
}

}  // namespace
}  // namespace traceledger::ledger
