#include "ledger/checkpoint.h"

#include <gtest/gtest.h>

#include "ledger/base/encoding.h"
#include "ledger/merkle/hasher.h"

namespace traceledger::ledger {
namespace {

TEST(CheckpointTest, FormatsTheC2spLayout) {
  Checkpoint checkpoint{"ledger.example/log", 42, merkle::EmptyRoot(), {}};
  EXPECT_EQ(FormatCheckpoint(checkpoint),
            "ledger.example/log\n42\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n");
  auto parsed = ParseCheckpoint(FormatCheckpoint(checkpoint));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, checkpoint);
  checkpoint.extensions = {"— a cosignature-like extension line"};
  EXPECT_EQ(*ParseCheckpoint(FormatCheckpoint(checkpoint)), checkpoint);
}

TEST(CheckpointTest, ParseNamesTheBadLine) {
  struct Case {
    std::string text;
    std::string want;
  };
  const std::string root = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
  const std::vector<Case> cases = {
      {"origin\n1\n", "want at least 3"},
      {"origin\n01\n" + root + "\n", "line 2"},
      {"origin\n-1\n" + root + "\n", "line 2"},
      {"origin\n18446744073709551616\n" + root + "\n", "line 2"},
      {"origin\n1\nAAAA\n", "line 3: root hash has 3 bytes"},
      {"origin\n1\n" + root, "end with a newline"},
      {"has space\n1\n" + root + "\n", "line 1"},
      {"origin\n1\n" + root + "\n\n", "empty extension line"},
  };
  for (const Case& c : cases) {
    auto parsed = ParseCheckpoint(c.text);
    ASSERT_FALSE(parsed.ok()) << c.text;
    EXPECT_NE(parsed.status().message().find(c.want), std::string::npos)
        << parsed.status().message();
  }
}

TEST(CheckpointTest, OpenChecksSignatureAndOrigin) {
  auto signer = *NoteSigner::Generate("ledger.example/log");
  auto verifier = *NoteVerifier::FromVerifierKeyText(signer.VerifierKeyText());
  Checkpoint checkpoint{"ledger.example/log", 7, merkle::HashLeaf("x"), {}};
  const std::string note = *signer.Sign(FormatCheckpoint(checkpoint));
  auto opened = OpenCheckpoint(note, verifier, "");
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, checkpoint);
  EXPECT_FALSE(OpenCheckpoint(note, verifier, "other.example/log").ok());
  std::string tampered = note;
  tampered[tampered.find('7')] = '8';
  EXPECT_FALSE(OpenCheckpoint(tampered, verifier, "").ok());
}

}  // namespace
}  // namespace traceledger::ledger
