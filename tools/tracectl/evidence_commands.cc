#include "tools/tracectl/evidence_commands.h"

#include <charconv>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "api/evidence/evidence_bundle.h"
#include "ledger/base/encoding.h"
#include "ledger/data_dir.h"
#include "ledger/signed_note.h"

namespace traceledger::tools {
namespace {

// tracectl's exit codes (tools/tracectl/main.cc): 1 a check failed, 3 an input could not be
// read or another operating failure.
constexpr int kExitCannotRead = 3;
// Largest key, checkpoint or proof file read by the verify commands.
constexpr size_t kMaxSmallFileBytes = size_t{1} << 20;

// As FailWith, except that a ledger in no state for the command (FailedPrecondition, e.g. a
// read-only ledger without a covering checkpoint) is a usage error here.
int Fail(const Status& status) {
  if (status.code() == StatusCode::kFailedPrecondition) {
    FailWith("tracectl", status);
    return kExitUsage;
  }
  return FailWith("tracectl", status);
}

// Reads a whole file of at most `max_bytes`; Unavailable (exit 3) if it cannot.
Result<std::string> ReadInput(const std::string& what, const std::string& path, size_t max_bytes) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return Status::Unavailable("cannot read " + what + " " + path + ": " + ec.message());
  if (size > max_bytes) {
    return Status::Unavailable(what + " " + path + " has " + std::to_string(size) +
                               " bytes, more than " + std::to_string(max_bytes));
  }
  auto text = ledger::ReadFileToString(path);
  if (!text.ok()) return Status::Unavailable(text.status().message());
  return text;
}

// --key is a file holding the verifier key text, or the text itself.
Result<std::string> ReadKey(const Flags& flags) {
  TL_ASSIGN_OR_RETURN(std::string key, flags.Require("key"));
  std::error_code ec;
  if (std::filesystem::is_regular_file(key, ec)) return ReadInput("key file", key, kMaxSmallFileBytes);
  if (!ledger::NoteVerifier::FromVerifierKeyText(key).ok()) {
    return Status::Unavailable("--key " + key +
                               " is neither a readable file nor a verifier key "
                               "(<name>+<key id>+<base64 key>)");
  }
  return key;
}

// "2026-11-01T08:00:00.000000Z".
std::string FormatMicros(int64_t unix_micros) {
  const std::time_t seconds = static_cast<std::time_t>(unix_micros / 1000000);
  std::tm utc{};
  if (unix_micros < 0 || gmtime_r(&seconds, &utc) == nullptr) return std::to_string(unix_micros);
  char text[96];
  std::snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<long long>(unix_micros % 1000000));
  return text;
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> items;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    const size_t end = comma == std::string::npos ? text.size() : comma;
    if (end > start) items.push_back(text.substr(start, end - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return items;
}

// The sequences the evidence command was asked for, from --seq, --event-id or --event-ids-file.
Result<std::vector<uint64_t>> RequestedSequences(const Flags& flags, const ledger::Ledger& log) {
  const int sources = static_cast<int>(flags.Get("seq").has_value()) +
                      static_cast<int>(flags.Get("event-id").has_value()) +
                      static_cast<int>(flags.Get("event-ids-file").has_value());
  if (sources != 1) {
    return Status::InvalidArgument("give exactly one of --seq, --event-id, --event-ids-file");
  }
  if (auto list = flags.Get("seq")) {
    std::vector<uint64_t> sequences;
    for (const std::string& item : SplitList(*list)) {
      uint64_t value = 0;
      auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
      if (ec != std::errc() || end != item.data() + item.size()) {
        return Status::InvalidArgument("--seq: \"" + item + "\" is not a non-negative integer");
      }
      sequences.push_back(value);
      if (sequences.size() > api::kMaxBundleEntries) break;  // rejected by the builder
    }
    if (sequences.empty()) return Status::InvalidArgument("--seq: no sequence numbers");
    return sequences;
  }
  std::vector<std::string> ids;
  if (auto list = flags.Get("event-id")) {
    ids = SplitList(*list);
  } else {
    const std::string path = *flags.Get("event-ids-file");
    TL_ASSIGN_OR_RETURN(std::string text,
                        ReadInput("event ids file", path, api::kMaxBundleEntries * 1024));
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      std::string line = text.substr(start, end - start);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!line.empty()) ids.push_back(std::move(line));
      start = end + 1;
    }
  }
  return api::SequencesOfEvents(log, ids);
}

int RunEvidence(const Flags& flags) {
  auto dir = flags.Require("data");
  if (!dir.ok()) return Fail(dir.status());
  // Read-only first: a server may be writing the ledger. Only if no signed checkpoint covers
  // the entries yet is the ledger opened for writing, to sign one.
  auto log = ledger::OpenDataDir(*dir, ledger::Access::kReadOnly, {});
  if (!log.ok()) return Fail(log.status());
  auto sequences = RequestedSequences(flags, **log);
  if (!sequences.ok()) return Fail(sequences.status());
  const std::string title = flags.Get("title").value_or("");
  auto bundle = api::BuildEvidenceBundle(**log, *sequences, title);
  if (!bundle.ok() && bundle.status().code() == StatusCode::kFailedPrecondition) {
    log->reset();
    log = ledger::OpenDataDir(*dir, ledger::Access::kReadWrite, {});
    if (!log.ok()) return Fail(log.status().WithContext("signing a checkpoint that covers them"));
    bundle = api::BuildEvidenceBundle(**log, *sequences, title);
    if (Status s = (*log)->Close(); !s.ok()) return Fail(s);
  }
  if (!bundle.ok()) return Fail(bundle.status());
  if (auto out = flags.Get("out")) {
    if (Status s = ledger::WriteFileAtomically(*out, *bundle, 0644, ledger::Overwrite::kYes);
        !s.ok()) {
      return Fail(s);
    }
  } else {
    std::cout << *bundle << std::flush;
    if (!std::cout) return Fail(Status::Unavailable("error writing the bundle"));
  }
  const api::BundleVerdict verdict =
      api::VerifyEvidenceBundle(*bundle, (*log)->verifier().VerifierKeyText());
  std::fprintf(stderr,
               "tracectl: evidence bundle of %zu entries against the checkpoint of %s at tree "
               "size %llu%s%s\n",
               verdict.entries.size(), verdict.origin.c_str(),
               static_cast<unsigned long long>(verdict.tree_size),
               flags.Get("out") ? " written to " : "", flags.Get("out").value_or("").c_str());
  return kExitOk;
}

int RunVerifyBundle(const Flags& flags) {
  if (flags.positional().size() != 1) {
    return Fail(Status::InvalidArgument("verify-bundle takes exactly one FILE"));
  }
  const std::string path = flags.positional()[0];
  auto key = ReadKey(flags);
  if (!key.ok()) return Fail(key.status());
  auto bundle = ReadInput("bundle", path, api::kMaxBundleBytes);
  if (!bundle.ok()) return Fail(bundle.status());

  const api::BundleVerdict verdict = api::VerifyEvidenceBundle(*bundle, *key);
  std::printf("bundle: %s\n", path.c_str());
  if (!verdict.title.empty()) {
    std::printf("title: \"%s\" (a label: not attested by the log)\n",
                api::PercentEncode(verdict.title).c_str());
  }
  if (!verdict.origin.empty()) {
    std::printf("checkpoint: %s, tree size %llu, root %s\n", verdict.origin.c_str(),
                static_cast<unsigned long long>(verdict.tree_size),
                verdict.root_hash_hex.c_str());
  }
  size_t failed = 0;
  for (const api::EntryVerdict& entry : verdict.entries) {
    if (entry.ok) {
      std::printf("OK      index %llu event %s (submitter %s, recorded %s)\n",
                  static_cast<unsigned long long>(entry.index),
                  api::PercentEncode(entry.event_id).c_str(),
                  api::PercentEncode(entry.submitter_id).c_str(),
                  FormatMicros(entry.record_time_unix_micros).c_str());
    } else {
      ++failed;
      std::printf("FAILED  index %llu event %s: %s\n",
                  static_cast<unsigned long long>(entry.index),
                  api::PercentEncode(entry.event_id).c_str(), entry.problem.c_str());
    }
  }
  if (!verdict.problem.empty()) std::printf("problem: %s\n", verdict.problem.c_str());
  if (verdict.ok) {
    std::printf("verdict: VERIFIED: all %zu events are in the log %s, proven against its signed "
                "checkpoint of tree size %llu\n",
                verdict.entries.size(), verdict.origin.c_str(),
                static_cast<unsigned long long>(verdict.tree_size));
    return kExitOk;
  }
  std::printf("verdict: FAILED: %zu of %zu events failed%s\n", failed, verdict.entries.size(),
              verdict.problem.empty() ? "" : "; the bundle itself failed (see problem)");
  return kExitCheckFailed;
}

int RunVerifyConsistency(const Flags& flags) {
  auto key = ReadKey(flags);
  if (!key.ok()) return Fail(key.status());
  std::string inputs[3];
  const char* names[3] = {"old", "new", "proof"};
  for (int i = 0; i < 3; ++i) {
    auto path = flags.Require(names[i]);
    if (!path.ok()) return Fail(path.status());
    auto text = ReadInput(std::string("--") + names[i] + " file", *path, kMaxSmallFileBytes);
    if (!text.ok()) return Fail(text.status());
    inputs[i] = std::move(text).value();
  }
  const api::ConsistencyVerdict verdict =
      api::VerifyCheckpointConsistency(*key, inputs[0], inputs[1], inputs[2]);
  if (!verdict.ok) {
    std::printf("verdict: FAILED: %s\n", verdict.problem.c_str());
    return kExitCheckFailed;
  }
  std::printf("verdict: CONSISTENT: the checkpoint of %s at tree size %llu extends the one at "
              "tree size %llu (both signatures and the consistency proof verified)\n",
              verdict.origin.c_str(), static_cast<unsigned long long>(verdict.new_size),
              static_cast<unsigned long long>(verdict.old_size));
  return kExitOk;
}

}  // namespace

Command EvidenceCommand() {
  return {"build an evidence bundle (entries, proofs, signed checkpoint) for a court",
          "tracectl evidence --data DIR (--seq N[,N...] | --event-id ID[,ID...] |\n"
          "                  --event-ids-file FILE) [--title TEXT] [--out FILE]\n"
          "  Writes one self-contained text file (docs/formats/evidence-bundle.md): the\n"
          "  entries' exact bytes, their leaf indexes, inclusion proofs against the newest\n"
          "  signed checkpoint covering them (signing one if none does), that checkpoint and the\n"
          "  log's verifier key. --event-ids-file has one event id per line. At most 10000\n"
          "  entries. --title is a label (e.g. \"recall R-1\"); the log does not attest it.\n"
          "  Writes to stdout unless --out is given. Check it with `tracectl verify-bundle`.",
          {"data", "seq", "event-id", "event-ids-file", "title", "out"},
          {},
          RunEvidence};
}

Command VerifyBundleCommand() {
  return {"verify an evidence bundle offline (no server, no database)",
          "tracectl verify-bundle FILE --key VKEY_FILE_OR_TEXT\n"
          "  Checks the bundle's checkpoint signature with the log's verifier key (obtain it\n"
          "  independently of the bundle, e.g. DIR/checkpoint.vkey or `tracectl vkey`), that\n"
          "  the bundle names that key, every inclusion proof against the checkpoint's root,\n"
          "  that each entry decodes to the stated index and event id, and the bundle's sha256\n"
          "  line. Prints one verdict line per event and an overall verdict.\n"
          "  Exit 0 all verified, 1 any failure, 2 usage error, 3 cannot read FILE or the key.",
          {"key"},
          {},
          RunVerifyBundle};
}

Command VerifyConsistencyCommand() {
  return {"verify offline that a newer checkpoint extends an older one",
          "tracectl verify-consistency --key VKEY_FILE_OR_TEXT --old OLD_CHECKPOINT_FILE\n"
          "                            --new NEW_CHECKPOINT_FILE --proof PROOF_FILE\n"
          "  PROOF_FILE is the JSON of `tracectl prove consistency --from OLD --to NEW` (or of\n"
          "  the HTTP consistency endpoint): {\"from\",\"to\",\"from_root_hash\",\"root_hash\",\n"
          "  \"path\"}. Checks both checkpoints' signatures, that from/to and the roots match\n"
          "  them, and the RFC 9162 consistency proof: the log only appended since OLD.\n"
          "  Exit 0 consistent, 1 any failure, 2 usage error, 3 cannot read a file.",
          {"key", "old", "new", "proof"},
          {},
          RunVerifyConsistency};
}

}  // namespace traceledger::tools
