#include "ledger/checkpoint.h"

#include <charconv>

#include "ledger/base/encoding.h"

namespace traceledger::ledger {

Status ValidateOrigin(std::string_view origin) {
  if (origin.empty()) return Status::InvalidArgument("checkpoint origin is empty");
  for (char ch : origin) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f || c == '+') {
      return Status::InvalidArgument("checkpoint origin \"" + std::string(origin) +
                                     "\" must be printable ASCII without spaces or '+'");
    }
  }
  return Status::Ok();
}

std::string FormatCheckpoint(const Checkpoint& checkpoint) {
  TL_ASSERT(ValidateOrigin(checkpoint.origin).ok());
  std::string text = checkpoint.origin;
  text += "\n";
  text += std::to_string(checkpoint.tree_size);
  text += "\n";
  text += Base64Encode(AsBytes(checkpoint.root_hash));
  text += "\n";
  for (const std::string& line : checkpoint.extensions) {
    TL_ASSERT(!line.empty());
    TL_ASSERT(line.find('\n') == std::string::npos);
    text += line;
    text += "\n";
  }
  return text;
}

Result<Checkpoint> ParseCheckpoint(std::string_view text) {
  if (text.empty() || text.back() != '\n') {
    return Status::InvalidArgument("checkpoint text must end with a newline");
  }
  std::vector<std::string_view> lines;
  std::string_view rest = text;
  while (!rest.empty()) {
    const size_t eol = rest.find('\n');
    lines.push_back(rest.substr(0, eol));
    rest.remove_prefix(eol + 1);
  }
  if (lines.size() < 3) {
    return Status::InvalidArgument("checkpoint has " + std::to_string(lines.size()) +
                                   " lines, want at least 3 (origin, size, root hash)");
  }
  if (lines.size() > 3 + kMaxCheckpointExtensions) {
    return Status::InvalidArgument("checkpoint has more than " +
                                   std::to_string(kMaxCheckpointExtensions) + " extension lines");
  }
  Checkpoint checkpoint;
  TL_RETURN_IF_ERROR(ValidateOrigin(lines[0]).WithContext("line 1"));
  checkpoint.origin = std::string(lines[0]);
  const std::string_view size = lines[1];
  const bool leading_zero = size.size() > 1 && size[0] == '0';
  auto [end, ec] = std::from_chars(size.data(), size.data() + size.size(), checkpoint.tree_size);
  if (size.empty() || leading_zero || ec != std::errc() || end != size.data() + size.size()) {
    return Status::InvalidArgument("line 2: tree size \"" + std::string(size) +
                                   "\" is not a decimal number without leading zeros");
  }
  auto root = Base64Decode(lines[2]);
  if (!root.ok()) return root.status().WithContext("line 3: root hash");
  if (root->size() != kSha256DigestBytes) {
    return Status::InvalidArgument("line 3: root hash has " + std::to_string(root->size()) +
                                   " bytes, want 32");
  }
  checkpoint.root_hash = DigestFromBytes(*root);
  for (size_t i = 3; i < lines.size(); ++i) {
    if (lines[i].empty()) {
      return Status::InvalidArgument("line " + std::to_string(i + 1) + ": empty extension line");
    }
    checkpoint.extensions.emplace_back(lines[i]);
  }
  return checkpoint;
}

Result<Checkpoint> OpenCheckpoint(std::string_view signed_note, const NoteVerifier& verifier,
                                  std::string_view expected_origin) {
  TL_ASSIGN_OR_RETURN(std::string text, OpenNote(signed_note, verifier));
  TL_ASSIGN_OR_RETURN(Checkpoint checkpoint, ParseCheckpoint(text));
  const std::string_view want = expected_origin.empty() ? verifier.name() : expected_origin;
  if (checkpoint.origin != want) {
    return Status::InvalidArgument("checkpoint origin \"" + checkpoint.origin + "\", want \"" +
                                   std::string(want) + "\"");
  }
  return checkpoint;
}

}  // namespace traceledger::ledger
