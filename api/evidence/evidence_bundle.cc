#include "api/evidence/evidence_bundle.h"

#include <algorithm>
#include <charconv>
#include <google/protobuf/stubs/logging.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "ingest/event_decoder.h"
#include "ledger/base/encoding.h"
#include "ledger/checkpoint.h"
#include "ledger/merkle/hasher.h"
#include "ledger/merkle/proof.h"
#include "ledger/merkle/verify.h"
#include "ledger/sha256.h"
#include "ledger/signed_note.h"
#include "tl/v1/ledger.pb.h"

namespace traceledger::api {
namespace {

// Line keywords of docs/formats/evidence-bundle.md; each is followed by one space and a value.
constexpr std::string_view kTitleKeyword = "title ";
constexpr std::string_view kKeyKeyword = "key ";
constexpr std::string_view kEntriesKeyword = "entries ";
constexpr std::string_view kIndexKeyword = "index ";
constexpr std::string_view kEventIdKeyword = "event-id ";
constexpr std::string_view kEntryKeyword = "entry ";
constexpr std::string_view kProofKeyword = "proof ";
constexpr std::string_view kSha256Keyword = "sha256 ";
// A signed note's signature line starts with U+2014 EM DASH and a space.
constexpr std::string_view kSignaturePrefix = "\xe2\x80\x94 ";
// A checkpoint body has an origin, a size, a root and at most 16 extension lines.
constexpr size_t kMaxCheckpointLines = 3 + ledger::kMaxCheckpointExtensions;
constexpr size_t kProofHashBase64Chars = 44;  // base64 of 32 bytes, one '=' of padding
constexpr uint64_t kLedgerFormatVersion = 1;

static_assert(kMaxInclusionProofHashes <= ledger::merkle::kMaxProofHashes);

// One entry block of a parsed bundle.
struct BundleEntry {
  uint64_t index = 0;
  std::string event_id;
  std::string entry_bytes;
  std::vector<Sha256Digest> proof;
};

struct ParsedBundle {
  std::string title;
  std::string key_text;
  std::vector<BundleEntry> entries;
  std::string note;          // the signed checkpoint note, exactly
  std::string sha256_hex;    // the sha256 line's value
  size_t covered_bytes = 0;  // bytes before the sha256 line
};

// Reads a text whose last byte is '\n' one line at a time.
class LineReader {
 public:
  explicit LineReader(std::string_view text) : text_(text) {}
  bool done() const { return offset_ == text_.size(); }
  // Number of the line Next() returned last (1-based).
  size_t line_number() const { return line_number_; }
  // Offset of the first byte Next() will return.
  size_t offset() const { return offset_; }
  // The next line without its '\n'. Requires !done().
  std::string_view Next() {
    TL_ASSERT(!done());
    const size_t eol = text_.find('\n', offset_);
    TL_ASSERT(eol != std::string_view::npos);
    std::string_view line = text_.substr(offset_, eol - offset_);
    offset_ = eol + 1;
    ++line_number_;
    return line;
  }

 private:
  std::string_view text_;
  size_t offset_ = 0;
  size_t line_number_ = 0;
};

// A decimal without sign or leading zeros ("0" is fine).
Result<uint64_t> ParseCanonicalDecimal(std::string_view text) {
  uint64_t value = 0;
  const bool leading_zero = text.size() > 1 && text[0] == '0';
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || leading_zero || ec != std::errc() || end != text.data() + text.size()) {
    return Status::InvalidArgument("\"" + PercentEncode(text) +
                                   "\" is not a decimal number without leading zeros");
  }
  return value;
}

bool IsLowercaseHexDigest(std::string_view text) {
  if (text.size() != 2 * kSha256DigestBytes) return false;
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string_view TrimTrailingWhitespace(std::string_view text) {
  while (!text.empty() &&
         (text.back() == '\n' || text.back() == '\r' || text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

std::string JoinProblems(const std::vector<std::string>& problems) {
  std::string out;
  for (const std::string& p : problems) {
    if (!out.empty()) out += "; ";
    out += p;
  }
  return out;
}

// Parses the grammar of docs/formats/evidence-bundle.md. Checks form only (every value has
// exactly one accepted spelling); what the values mean is checked by VerifyEvidenceBundle.
Result<ParsedBundle> ParseBundle(std::string_view bundle) {
  if (bundle.size() > kMaxBundleBytes) {
    return Status::InvalidArgument("the bundle has " + std::to_string(bundle.size()) +
                                   " bytes, more than " + std::to_string(kMaxBundleBytes));
  }
  if (bundle.empty() || bundle.back() != '\n') {
    return Status::InvalidArgument("the bundle does not end with a newline (truncated?)");
  }
  LineReader lines(bundle);
  ParsedBundle parsed;
  std::string context;  // names the entry block being read, for messages
  auto error = [&](const std::string& what) {
    return Status::InvalidArgument("line " + std::to_string(lines.line_number()) + context +
                                   ": " + what);
  };
  // Reads the next line, which must be `keyword value`; returns the value.
  auto expect = [&](std::string_view keyword, std::string_view what) -> Result<std::string_view> {
    if (lines.done()) {
      return Status::InvalidArgument("the bundle ends after line " +
                                     std::to_string(lines.line_number()) + ", want " +
                                     std::string(what));
    }
    std::string_view line = lines.Next();
    if (line.substr(0, keyword.size()) != keyword) {
      return error("want " + std::string(what) + " (\"" + std::string(keyword) + "...\")");
    }
    return line.substr(keyword.size());
  };
  auto expect_blank = [&](std::string_view after) -> Status {
    if (lines.done()) {
      return Status::InvalidArgument("the bundle ends after line " +
                                     std::to_string(lines.line_number()) +
                                     ", want a blank line after " + std::string(after));
    }
    if (!lines.Next().empty()) return error("want a blank line after " + std::string(after));
    return Status::Ok();
  };

  // Header.
  if (lines.Next() != kEvidenceBundleHeader) {
    return error("want the header \"" + std::string(kEvidenceBundleHeader) + "\"");
  }
  if (lines.done()) return Status::InvalidArgument("the bundle ends after its header");
  // The title line is optional: peek by reading and stepping back through a copy.
  {
    LineReader peek = lines;
    const std::string_view line = peek.Next();
    if (line.substr(0, kTitleKeyword.size()) == kTitleKeyword) {
      lines = peek;
      auto title = PercentDecode(line.substr(kTitleKeyword.size()));
      if (!title.ok()) return error("title: " + title.status().message());
      if (title->empty() || title->size() > kMaxBundleTitleBytes) {
        return error("title: want 1.." + std::to_string(kMaxBundleTitleBytes) + " bytes");
      }
      parsed.title = std::move(title).value();
    }
  }
  TL_ASSIGN_OR_RETURN(std::string_view key, expect(kKeyKeyword, "the log's verifier key"));
  auto verifier = ledger::NoteVerifier::FromVerifierKeyText(key);
  if (!verifier.ok()) return error("key: " + verifier.status().message());
  if (verifier->VerifierKeyText() != key) {
    return error("key: not written as " + verifier->VerifierKeyText());
  }
  parsed.key_text = std::string(key);
  TL_ASSIGN_OR_RETURN(std::string_view count_text, expect(kEntriesKeyword, "the entry count"));
  auto count = ParseCanonicalDecimal(count_text);
  if (!count.ok()) return error("entries: " + count.status().message());
  if (*count == 0 || *count > kMaxBundleEntries) {
    return error("entries: want 1.." + std::to_string(kMaxBundleEntries) + ", got " +
                 std::to_string(*count));
  }
  TL_RETURN_IF_ERROR(expect_blank("the header"));

  // Entry blocks.
  parsed.entries.reserve(*count);
  for (uint64_t block = 0; block < *count; ++block) {
    context = " (entry block " + std::to_string(block + 1) + ")";
    BundleEntry entry;
    TL_ASSIGN_OR_RETURN(std::string_view index_text, expect(kIndexKeyword, "an index line"));
    auto index = ParseCanonicalDecimal(index_text);
    if (!index.ok()) return error("index: " + index.status().message());
    if (!parsed.entries.empty() && *index <= parsed.entries.back().index) {
      return error("index " + std::to_string(*index) + " is not above the previous index " +
                   std::to_string(parsed.entries.back().index));
    }
    entry.index = *index;
    context = " (index " + std::to_string(entry.index) + ")";
    TL_ASSIGN_OR_RETURN(std::string_view id_text, expect(kEventIdKeyword, "an event-id line"));
    auto event_id = PercentDecode(id_text);
    if (!event_id.ok()) return error("event-id: " + event_id.status().message());
    if (event_id->empty() || event_id->size() > ledger::kMaxEventIdBytes) {
      return error("event-id: want 1.." + std::to_string(ledger::kMaxEventIdBytes) + " bytes");
    }
    entry.event_id = std::move(event_id).value();
    TL_ASSIGN_OR_RETURN(std::string_view entry_text, expect(kEntryKeyword, "an entry line"));
    auto entry_bytes = Base64Decode(entry_text);
    if (!entry_bytes.ok()) return error("entry: " + entry_bytes.status().message());
    if (entry_bytes->empty()) return error("entry: no bytes");
    entry.entry_bytes = std::move(entry_bytes).value();
    TL_ASSIGN_OR_RETURN(std::string_view proof_text,
                        expect(kProofKeyword, "the number of proof hashes"));
    auto proof_count = ParseCanonicalDecimal(proof_text);
    if (!proof_count.ok()) return error("proof: " + proof_count.status().message());
    if (*proof_count > kMaxInclusionProofHashes) {
      return error("proof: more than " + std::to_string(kMaxInclusionProofHashes) + " hashes");
    }
    for (uint64_t i = 0; i < *proof_count; ++i) {
      if (lines.done()) {
        return Status::InvalidArgument("the bundle ends inside the block of index " +
                                       std::to_string(entry.index));
      }
      const std::string_view line = lines.Next();
      auto hash = Base64Decode(line);
      if (!hash.ok()) return error("proof hash " + std::to_string(i + 1) + ": " + hash.status().message());
      if (line.size() != kProofHashBase64Chars || hash->size() != kSha256DigestBytes) {
        return error("proof hash " + std::to_string(i + 1) + ": " + std::to_string(hash->size()) +
                     " bytes, want 32");
      }
      entry.proof.push_back(DigestFromBytes(*hash));
    }
    TL_RETURN_IF_ERROR(expect_blank("the block's proof hashes"));
    parsed.entries.push_back(std::move(entry));
  }
  context.clear();

  // The signed checkpoint: its text lines, a blank line, exactly one signature line.
  const size_t note_begin = lines.offset();
  size_t text_lines = 0;
  while (true) {
    if (lines.done()) return Status::InvalidArgument("the bundle ends inside the checkpoint");
    if (lines.Next().empty()) break;
    if (++text_lines > kMaxCheckpointLines) {
      return error("checkpoint: more than " + std::to_string(kMaxCheckpointLines) +
                   " lines before its signature");
    }
  }
  if (text_lines == 0) return error("want the checkpoint (its origin line)");
  if (lines.done()) return Status::InvalidArgument("the bundle ends before the checkpoint's signature");
  if (lines.Next().substr(0, kSignaturePrefix.size()) != kSignaturePrefix) {
    return error("checkpoint: want its signature line (\"\xe2\x80\x94 ...\")");
  }
  const size_t note_end = lines.offset();
  parsed.note = std::string(bundle.substr(note_begin, note_end - note_begin));
  if (lines.done()) return Status::InvalidArgument("the bundle ends after the checkpoint; want its sha256 line");
  if (!lines.Next().empty()) {
    return error("want a blank line after the checkpoint's signature (a bundle carries exactly "
                 "one signature line, the log's)");
  }
  parsed.covered_bytes = lines.offset();
  TL_ASSIGN_OR_RETURN(std::string_view sha256, expect(kSha256Keyword, "the sha256 line"));
  if (!IsLowercaseHexDigest(sha256)) return error("sha256: want 64 lowercase hex digits");
  parsed.sha256_hex = std::string(sha256);
  if (!lines.done()) return error("want the end of the bundle after the sha256 line");
  return parsed;
}

// The checkpoint note and its parsed body covering entry `last_sequence`, signing one if the
// newest does not cover it.
Result<std::pair<std::string, ledger::Checkpoint>> CoveringCheckpoint(ledger::Ledger& ledger,
                                                                    uint64_t last_sequence) {
  auto open = [&](const std::string& note) -> Result<ledger::Checkpoint> {
    auto checkpoint = ledger::OpenCheckpoint(note, ledger.verifier(), "");
    if (!checkpoint.ok()) {
      return Status::DataLoss("the stored checkpoint does not verify with the log's key: " +
                              checkpoint.status().message());
    }
    return checkpoint;
  };
  auto latest = ledger.LatestCheckpoint();
  if (latest.ok()) {
    TL_ASSIGN_OR_RETURN(ledger::Checkpoint checkpoint, open(*latest));
    if (checkpoint.tree_size > last_sequence) {
      return std::make_pair(std::move(latest).value(), std::move(checkpoint));
    }
  } else if (latest.status().code() != StatusCode::kNotFound) {
    return latest.status();
  }
  if (ledger.read_only()) {
    return Status::FailedPrecondition(
        "no signed checkpoint covers sequence " + std::to_string(last_sequence) +
        " yet and this ledger is open read-only; sign one (tracectl checkpoint) and retry");
  }
  TL_ASSIGN_OR_RETURN(std::string note, ledger.Checkpoint());
  TL_ASSIGN_OR_RETURN(ledger::Checkpoint checkpoint, open(note));
  if (checkpoint.tree_size <= last_sequence) {
    return Status::Internal("the checkpoint just signed has size " +
                            std::to_string(checkpoint.tree_size) +
                            ", which does not cover sequence " + std::to_string(last_sequence));
  }
  return std::make_pair(std::move(note), std::move(checkpoint));
}

// The checks of one entry that do not need the checkpoint; appends what failed.
void CheckEntryContent(const BundleEntry& bundle_entry, EntryVerdict& verdict,
                       std::vector<std::string>& problems) {
  v1::LedgerEntry entry;
  bool parsed = false;
  {
    // Why: protobuf logs invalid UTF-8 in string fields; this is outside input, reported below.
    google::protobuf::LogSilencer silence;
    parsed = entry.ParseFromString(bundle_entry.entry_bytes);
  }
  if (!parsed) {
    problems.push_back("the entry bytes do not decode as a traceledger.v1.LedgerEntry");
    return;
  }
  verdict.submitter_id = entry.submitter_id();
  verdict.record_time_unix_micros = entry.record_time_unix_micros();
  if (entry.format_version() != kLedgerFormatVersion) {
    problems.push_back("the entry's format_version is " + std::to_string(entry.format_version()) +
                       ", want 1");
  }
  if (entry.sequence() != bundle_entry.index) {
    problems.push_back("the entry's sequence is " + std::to_string(entry.sequence()) +
                       ", but its index line says " + std::to_string(bundle_entry.index));
  }
  if (entry.event_id() != bundle_entry.event_id) {
    problems.push_back("the entry's event_id is \"" + PercentEncode(entry.event_id()) +
                       "\", but its event-id line says \"" +
                       PercentEncode(bundle_entry.event_id) + "\"");
  }
  auto event = ingest::DecodeEvent(entry.event(), entry.event_encoding());
  if (!event.ok()) {
    problems.push_back("the entry's event does not decode: " + event.status().message());
  } else if (event->event_id() != entry.event_id()) {
    problems.push_back("the event decodes with event id \"" + PercentEncode(event->event_id()) +
                       "\", but the entry's event_id is \"" + PercentEncode(entry.event_id()) +
                       "\"");
  }
}

}  // namespace

std::string PercentEncode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(bytes.size());
  for (char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x21 && c <= 0x7e && c != '%') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 0xf]);
    }
  }
  return out;
}

Result<std::string> PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) {
      return Status::InvalidArgument("'%' at offset " + std::to_string(i) +
                                     " is not followed by two hex digits");
    }
    auto byte = HexDecode(text.substr(i + 1, 2));
    if (!byte.ok()) {
      return Status::InvalidArgument("'%' at offset " + std::to_string(i) +
                                     " is not followed by two hex digits");
    }
    out += *byte;
    i += 2;
  }
  // One spelling per byte string: plain bytes where allowed, uppercase hex elsewhere.
  if (PercentEncode(out) != text) {
    return Status::InvalidArgument("\"" + PercentEncode(text) +
                                   "\" is not percent-encoded canonically (want \"" +
                                   PercentEncode(out) + "\")");
  }
  return out;
}

Result<std::vector<uint64_t>> SequencesOfEvents(const ledger::Ledger& ledger,
                                                const std::vector<std::string>& event_ids) {
  if (event_ids.empty()) return Status::InvalidArgument("no event ids given");
  if (event_ids.size() > kMaxBundleEntries) {
    return Status::InvalidArgument(std::to_string(event_ids.size()) + " event ids, more than " +
                                   std::to_string(kMaxBundleEntries));
  }
  std::vector<uint64_t> sequences;
  sequences.reserve(event_ids.size());
  for (const std::string& id : event_ids) {
    TL_ASSIGN_OR_RETURN(std::optional<uint64_t> sequence, ledger.FindEvent(id));
    if (!sequence.has_value()) {
      return Status::NotFound("event id \"" + PercentEncode(id) + "\" is not in the log");
    }
    sequences.push_back(*sequence);
  }
  return sequences;
}

Result<std::string> BuildEvidenceBundle(ledger::Ledger& ledger, std::vector<uint64_t> sequences,
                                        std::string_view title) {
  if (sequences.empty()) {
    return Status::InvalidArgument("an evidence bundle needs at least one entry");
  }
  std::sort(sequences.begin(), sequences.end());
  sequences.erase(std::unique(sequences.begin(), sequences.end()), sequences.end());
  if (sequences.size() > kMaxBundleEntries) {
    return Status::InvalidArgument(std::to_string(sequences.size()) +
                                   " entries, more than the " +
                                   std::to_string(kMaxBundleEntries) + " a bundle may hold");
  }
  if (title.size() > kMaxBundleTitleBytes) {
    return Status::InvalidArgument("the title has " + std::to_string(title.size()) +
                                   " bytes, more than " + std::to_string(kMaxBundleTitleBytes));
  }
  const uint64_t committed = ledger.size();
  if (sequences.back() >= committed) {
    return Status::OutOfRange("sequence " + std::to_string(sequences.back()) +
                              " is not committed: the log has " + std::to_string(committed) +
                              " entries");
  }
  TL_ASSIGN_OR_RETURN(auto covering, CoveringCheckpoint(ledger, sequences.back()));
  const std::string& note = covering.first;
  const ledger::Checkpoint& checkpoint = covering.second;

  std::string out;
  out.append(kEvidenceBundleHeader).append("\n");
  if (!title.empty()) out.append(kTitleKeyword).append(PercentEncode(title)).append("\n");
  out.append(kKeyKeyword).append(ledger.verifier().VerifierKeyText()).append("\n");
  out.append(kEntriesKeyword).append(std::to_string(sequences.size())).append("\n\n");
  for (const uint64_t sequence : sequences) {
    TL_ASSIGN_OR_RETURN(std::string bytes, ledger.GetEntry(sequence));
    v1::LedgerEntry entry;
    if (!entry.ParseFromString(bytes)) {
      return Status::DataLoss("entry " + std::to_string(sequence) + " does not decode");
    }
    TL_ASSIGN_OR_RETURN(std::vector<Sha256Digest> proof,
                        ledger.ProveInclusion(sequence, checkpoint.tree_size));
    out.append(kIndexKeyword).append(std::to_string(sequence)).append("\n");
    out.append(kEventIdKeyword).append(PercentEncode(entry.event_id())).append("\n");
    out.append(kEntryKeyword).append(Base64Encode(bytes)).append("\n");
    out.append(kProofKeyword).append(std::to_string(proof.size())).append("\n");
    for (const Sha256Digest& hash : proof) out.append(Base64Encode(AsBytes(hash))).append("\n");
    out.append("\n");
    if (out.size() > kMaxBundleBytes) {
      return Status::ResourceExhausted("the bundle would be larger than " +
                                       std::to_string(kMaxBundleBytes) +
                                       " bytes; ask for fewer entries");
    }
  }
  out.append(note).append("\n");
  const std::string sha256_hex = HexEncode(ledger::Sha256(out));  // of every byte so far
  out.append(kSha256Keyword).append(sha256_hex).append("\n");
  if (out.size() > kMaxBundleBytes) {
    return Status::ResourceExhausted("the bundle would be larger than " +
                                     std::to_string(kMaxBundleBytes) + " bytes");
  }

  // Pair assertion: what we hand to a court must pass the court's check.
  const BundleVerdict verdict = VerifyEvidenceBundle(out, ledger.verifier().VerifierKeyText());
  if (!verdict.ok) {
    std::string problem = verdict.problem;
    for (const EntryVerdict& e : verdict.entries) {
      if (e.ok) continue;
      problem = e.problem;
      break;
    }
    return Status::DataLoss("the bundle built does not verify: " + problem);
  }
  return out;
}

BundleVerdict VerifyEvidenceBundle(std::string_view bundle, std::string_view vkey) {
  BundleVerdict verdict;
  auto verifier = ledger::NoteVerifier::FromVerifierKeyText(TrimTrailingWhitespace(vkey));
  if (!verifier.ok()) {
    verdict.problem = "the key given is not a verifier key: " + verifier.status().message();
    return verdict;
  }
  auto parsed = ParseBundle(bundle);
  if (!parsed.ok()) {
    verdict.problem = "format: " + parsed.status().message();
    return verdict;
  }
  verdict.title = parsed->title;
  std::vector<std::string> problems;
  if (parsed->key_text != verifier->VerifierKeyText()) {
    problems.push_back("key line: the bundle names the key " + parsed->key_text +
                       ", not the key given, " + verifier->VerifierKeyText());
  }

  // The checkpoint: trusted only if it verifies with the key given. If it does not, its body
  // is still read (unverified) so that each entry can be judged against it.
  bool checkpoint_trusted = false;
  std::optional<ledger::Checkpoint> checkpoint;
  auto opened = ledger::OpenCheckpoint(parsed->note, *verifier, "");
  if (opened.ok()) {
    checkpoint_trusted = true;
    checkpoint = std::move(opened).value();
  } else {
    problems.push_back("checkpoint: " + opened.status().message());
    auto note = ledger::ParseNote(parsed->note);
    if (note.ok()) {
      auto body = ledger::ParseCheckpoint(note->text);
      if (body.ok()) checkpoint = std::move(body).value();
    }
  }
  if (checkpoint.has_value()) {
    verdict.origin = checkpoint->origin;
    verdict.tree_size = checkpoint->tree_size;
    verdict.root_hash_hex = HexEncode(checkpoint->root_hash);
  }

  bool entries_ok = true;
  for (const BundleEntry& bundle_entry : parsed->entries) {
    EntryVerdict entry;
    entry.index = bundle_entry.index;
    entry.event_id = bundle_entry.event_id;
    std::vector<std::string> entry_problems;
    CheckEntryContent(bundle_entry, entry, entry_problems);
    if (checkpoint.has_value()) {
      auto root = ledger::merkle::RootFromInclusionProof(
          bundle_entry.index, checkpoint->tree_size,
          ledger::merkle::HashLeaf(bundle_entry.entry_bytes), bundle_entry.proof);
      if (!root.ok()) {
        entry_problems.push_back("inclusion proof: " + root.status().message());
      } else if (*root != checkpoint->root_hash) {
        entry_problems.push_back("inclusion proof does not lead to the checkpoint root (it leads "
                                 "to " + HexEncode(*root) + ", the checkpoint's root is " +
                                 HexEncode(checkpoint->root_hash) + ")");
      }
    } else {
      entry_problems.push_back("not proven: the checkpoint does not parse");
    }
    if (entry_problems.empty() && !checkpoint_trusted) {
      entry_problems.push_back("not proven: the checkpoint's signature did not verify");
    }
    entry.ok = entry_problems.empty();
    if (!entry.ok) {
      entry.problem = "index " + std::to_string(entry.index) + ": " + JoinProblems(entry_problems);
      entries_ok = false;
    }
    verdict.entries.push_back(std::move(entry));
  }

  const std::string actual_sha256 =
      HexEncode(ledger::Sha256(bundle.substr(0, parsed->covered_bytes)));
  if (actual_sha256 != parsed->sha256_hex) {
    problems.push_back("sha256 line: the bytes before it hash to " + actual_sha256 +
                       ", but it says " + parsed->sha256_hex +
                       ": the bundle was changed after it was made (the title is covered by "
                       "nothing else)");
  }
  verdict.problem = JoinProblems(problems);
  verdict.ok = problems.empty() && entries_ok;
  return verdict;
}

ConsistencyVerdict VerifyCheckpointConsistency(std::string_view vkey, std::string_view old_note,
                                               std::string_view new_note,
                                               std::string_view proof_json) {
  ConsistencyVerdict verdict;
  auto fail = [&](std::string problem) {
    verdict.ok = false;
    verdict.problem = std::move(problem);
    return verdict;
  };
  auto verifier = ledger::NoteVerifier::FromVerifierKeyText(TrimTrailingWhitespace(vkey));
  if (!verifier.ok()) {
    return fail("the key given is not a verifier key: " + verifier.status().message());
  }
  auto old_checkpoint = ledger::OpenCheckpoint(old_note, *verifier, "");
  if (!old_checkpoint.ok()) return fail("old checkpoint: " + old_checkpoint.status().message());
  auto new_checkpoint = ledger::OpenCheckpoint(new_note, *verifier, "");
  if (!new_checkpoint.ok()) return fail("new checkpoint: " + new_checkpoint.status().message());
  verdict.origin = new_checkpoint->origin;
  verdict.old_size = old_checkpoint->tree_size;
  verdict.new_size = new_checkpoint->tree_size;
  if (old_checkpoint->tree_size > new_checkpoint->tree_size) {
    return fail("the old checkpoint has size " + std::to_string(old_checkpoint->tree_size) +
                ", larger than the new one's " + std::to_string(new_checkpoint->tree_size) +
                " (are they swapped?)");
  }

  const nlohmann::json proof = nlohmann::json::parse(proof_json, nullptr, /*allow_exceptions=*/false);
  if (proof.is_discarded() || !proof.is_object()) return fail("proof: not a JSON object");
  auto size_field = [&](const char* name, uint64_t want) -> std::optional<std::string> {
    auto it = proof.find(name);
    if (it == proof.end() || !it->is_number_unsigned()) {
      return std::string("proof: \"") + name + "\" is missing or not a non-negative integer";
    }
    const uint64_t got = it->get<uint64_t>();
    if (got != want) {
      return std::string("proof: \"") + name + "\" is " + std::to_string(got) +
             ", but the checkpoint's size is " + std::to_string(want);
    }
    return std::nullopt;
  };
  if (auto p = size_field("from", old_checkpoint->tree_size)) return fail(*p);
  if (auto p = size_field("to", new_checkpoint->tree_size)) return fail(*p);
  auto root_field = [&](const char* name, const Sha256Digest& want) -> std::optional<std::string> {
    auto it = proof.find(name);
    if (it == proof.end()) return std::nullopt;  // optional: the notes carry the roots
    if (!it->is_string() || it->get_ref<const std::string&>() != HexEncode(want)) {
      return std::string("proof: \"") + name + "\" is not the checkpoint's root " +
             HexEncode(want);
    }
    return std::nullopt;
  };
  if (auto p = root_field("from_root_hash", old_checkpoint->root_hash)) return fail(*p);
  if (auto p = root_field("root_hash", new_checkpoint->root_hash)) return fail(*p);
  auto path = proof.find("path");
  if (path == proof.end() || !path->is_array()) return fail("proof: \"path\" is missing or not a list");
  if (path->size() > ledger::merkle::kMaxProofHashes) {
    return fail("proof: \"path\" has more than " +
                std::to_string(ledger::merkle::kMaxProofHashes) + " hashes");
  }
  std::vector<Sha256Digest> hashes;
  for (size_t i = 0; i < path->size(); ++i) {
    const nlohmann::json& item = (*path)[i];
    if (!item.is_string()) return fail("proof: path[" + std::to_string(i) + "] is not a string");
    auto hash = DigestFromHex(item.get_ref<const std::string&>());
    if (!hash.ok()) return fail("proof: path[" + std::to_string(i) + "]: " + hash.status().message());
    hashes.push_back(*hash);
  }
  Status consistent =
      ledger::merkle::VerifyConsistency(old_checkpoint->tree_size, new_checkpoint->tree_size,
                                        hashes, old_checkpoint->root_hash,
                                        new_checkpoint->root_hash);
  if (!consistent.ok()) {
    return fail("the consistency proof does not show that the new checkpoint extends the old "
                "one: " + consistent.message());
  }
  verdict.ok = true;
  return verdict;
}

}  // namespace traceledger::api
