// tracectl: the operator's and auditor's command line for a traceledger data directory.
// Run `tracectl help` for the commands. Exit codes: 0 success, 1 the data or input failed a
// check (invalid events, audit findings, conflicts), 2 usage error, 3 operating failure.
#include <google/protobuf/util/json_util.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <variant>
#include <vector>

#include "api/server/ledger_json.h"
#include "ingest/event_decoder.h"
#include "ingest/event_validator.h"
#include "ingest/kafka_client.h"
#include "ledger/audit.h"
#include "ledger/base/encoding.h"
#include "ledger/data_dir.h"
#include "ledger/ledger.h"
#include "projections/chain/genealogy.h"
#include "projections/chain/trace.h"
#include "projections/view_store.h"
#include "tools/flags.h"
#include "tools/gen/supply_chain.h"
#include "tools/tracectl/evidence_commands.h"
#include "tools/tracectl/token_commands.h"

namespace traceledger::tools {
namespace {

using ledger::Ledger;
using nlohmann::json;

constexpr int kExitFailure = kExitInternal;
constexpr size_t kMaxLineBytes = size_t{1} << 20;  // = LedgerOptions::max_event_bytes
constexpr size_t kMaxReportedErrors = 50;

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int Fail(const Status& status) { return FailWith("tracectl", status); }

void PrintJson(const json& value) { std::cout << value.dump() << "\n" << std::flush; }

// Prints "label: done/total (pct%, rate/s)" to stderr at most once a second.
class Progress {
 public:
  explicit Progress(std::string label) : label_(std::move(label)), start_(Clock::now()) {}
  void Update(uint64_t done, uint64_t total) {
    const auto now = Clock::now();
    const int64_t now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now - start_).count();
    int64_t last = last_ms_.load();
    if (now_ms - last < 1000 || !last_ms_.compare_exchange_strong(last, now_ms)) return;
    const double seconds = static_cast<double>(now_ms) / 1000.0;
    std::fprintf(stderr, "%s: %llu/%llu (%.0f%%, %.0f/s)\n", label_.c_str(),
                 static_cast<unsigned long long>(done), static_cast<unsigned long long>(total),
                 total > 0 ? 100.0 * static_cast<double>(done) / static_cast<double>(total) : 100.0,
                 seconds > 0 ? static_cast<double>(done) / seconds : 0.0);
  }
  double Seconds() const {
    return std::chrono::duration<double>(Clock::now() - start_).count();
  }

 private:
  using Clock = std::chrono::steady_clock;
  std::string label_;
  Clock::time_point start_;
  std::atomic<int64_t> last_ms_{0};
};

// ---------------------------------------------------------------------------------------------

int Keygen(const Flags& flags) {
  auto dir = flags.Require("data");
  if (!dir.ok()) return Fail(dir.status());
  auto origin = flags.Require("origin");
  if (!origin.ok()) return Fail(origin.status());
  auto ledger = ledger::CreateDataDir(*dir, *origin, {});
  if (!ledger.ok()) return Fail(ledger.status());
  std::fprintf(stderr,
               "tracectl: created an empty ledger in %s with origin %s\n"
               "tracectl: signing key %s (keep it secret); verifier key %s (publish it):\n",
               dir->c_str(), origin->c_str(), ledger::SigningKeyPath(*dir).c_str(),
               ledger::VerifierKeyPath(*dir).c_str());
  std::cout << (*ledger)->verifier().VerifierKeyText() << "\n";
  return kExitOk;
}

int Append(const Flags& flags) {
  auto dir = flags.Require("data");
  if (!dir.ok()) return Fail(dir.status());
  if (flags.positional().size() != 1) {
    return Fail(Status::InvalidArgument("append takes exactly one FILE (or - for stdin)"));
  }
  auto batch_flag = flags.GetUint("batch");
  if (!batch_flag.ok()) return Fail(batch_flag.status());
  ledger::LedgerOptions options;
  auto every = flags.GetUint("checkpoint-every");
  auto interval = flags.GetUint("checkpoint-interval-ms");
  if (!every.ok()) return Fail(every.status());
  if (!interval.ok()) return Fail(interval.status());
  if (every->value_or(1) == 0 || interval->value_or(1) == 0 || interval->value_or(0) > UINT32_MAX) {
    return Fail(Status::InvalidArgument(
        "--checkpoint-every and --checkpoint-interval-ms must be positive"));
  }
  options.checkpoint_every_entries = every->value_or(options.checkpoint_every_entries);
  options.checkpoint_interval_ms =
      static_cast<uint32_t>(interval->value_or(options.checkpoint_interval_ms));
  const size_t batch = batch_flag->value_or(options.max_batch_records);
  if (batch == 0 || batch > options.max_batch_records) {
    return Fail(Status::InvalidArgument("--batch must be 1.." +
                                        std::to_string(options.max_batch_records)));
  }
  const std::string path = flags.positional()[0];
  std::ifstream file;
  if (path != "-") {
    file.open(path, std::ios::binary);
    if (!file) return Fail(Status::NotFound("cannot open " + path));
  }
  std::istream& in = path == "-" ? std::cin : file;

  // Validate every line first: a file with any invalid event appends nothing.
  struct Line {
    uint64_t number;
    std::string bytes;
    std::string event_id;
    std::string submitter_id;
  };
  std::vector<Line> lines;
  std::vector<std::string> errors;
  size_t invalid = 0;
  ingest::ValidationContext context;
  context.now_unix_micros = NowMicros();
  std::string text;
  for (uint64_t number = 1; std::getline(in, text); ++number) {
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = path + ":" + std::to_string(number) + ": ";
    if (text.size() > kMaxLineBytes) {
      ++invalid;
      if (errors.size() < kMaxReportedErrors) {
        errors.push_back(where + "too_large: event has " + std::to_string(text.size()) +
                         " bytes, more than " + std::to_string(kMaxLineBytes));
      }
      continue;
    }
    auto checked = ingest::DecodeAndValidate(text, v1::EVENT_ENCODING_JSON, context);
    if (const auto* violation = std::get_if<ingest::Violation>(&checked)) {
      ++invalid;
      if (errors.size() < kMaxReportedErrors) {
        errors.push_back(where + std::string(ingest::ValidationRuleName(violation->rule)) +
                         " at \"" + violation->field + "\": " + violation->message);
      }
      continue;
    }
    const auto& event = std::get<v1::Event>(checked);
    lines.push_back({number, std::move(text), event.event_id(), event.submitter_id()});
  }
  if (in.bad()) return Fail(Status::Unavailable("error reading " + path));
  if (invalid > 0) {
    for (const std::string& e : errors) std::fprintf(stderr, "%s\n", e.c_str());
    std::fprintf(stderr, "tracectl: %zu of %zu events are invalid; nothing was appended\n",
                 invalid, invalid + lines.size());
    return kExitCheckFailed;
  }

  auto ledger = ledger::OpenDataDir(*dir, ledger::Access::kReadWrite, options);
  if (!ledger.ok()) return Fail(ledger.status());
  std::map<ledger::AppendOutcome, uint64_t> counts;
  Progress progress("append");
  for (size_t start = 0; start < lines.size(); start += batch) {
    const size_t end = std::min(lines.size(), start + batch);
    std::vector<ledger::AppendRequest> requests;
    requests.reserve(end - start);
    for (size_t i = start; i < end; ++i) {
      ledger::AppendRequest request;
      request.event_id = lines[i].event_id;
      request.submitter_id = lines[i].submitter_id;
      request.encoding = v1::EVENT_ENCODING_JSON;
      request.event = lines[i].bytes;
      request.source.mutable_file()->set_path(path);
      request.source.mutable_file()->set_line(lines[i].number);
      requests.push_back(std::move(request));
    }
    auto results = (*ledger)->Append(std::move(requests));
    if (!results.ok()) return Fail(results.status());
    for (const ledger::AppendResult& r : *results) {
      ++counts[r.outcome];
      PrintJson({{"event_id", r.receipt.event_id},
                 {"seq", r.receipt.sequence},
                 {"leaf_hash", HexEncode(r.receipt.leaf_hash)},
                 {"status", ledger::AppendOutcomeName(r.outcome)}});
    }
    progress.Update(end, lines.size());
  }
  if (Status s = (*ledger)->Close(); !s.ok()) return Fail(s);
  std::fprintf(stderr,
               "tracectl: %llu appended, %llu duplicates, %llu conflicts; the log has %llu "
               "entries\n",
               static_cast<unsigned long long>(counts[ledger::AppendOutcome::kAppended]),
               static_cast<unsigned long long>(counts[ledger::AppendOutcome::kDuplicate]),
               static_cast<unsigned long long>(counts[ledger::AppendOutcome::kConflict]),
               static_cast<unsigned long long>((*ledger)->size()));
  if (counts[ledger::AppendOutcome::kConflict] > 0) {
    std::fprintf(stderr,
                 "tracectl: conflicting events (an id already logged with other content) were "
                 "not appended\n");
    return kExitCheckFailed;
  }
  return kExitOk;
}

int CheckpointCommand(const Flags& flags) {
  auto dir = flags.Require("data");
  if (!dir.ok()) return Fail(dir.status());
  auto ledger = ledger::OpenDataDir(*dir, ledger::Access::kReadWrite, {});
  if (!ledger.ok()) return Fail(ledger.status());
  auto note = (*ledger)->Checkpoint();
  if (!note.ok()) return Fail(note.status());
  std::cout << *note << std::flush;
  return kExitOk;
}

int Prove(const Flags& flags) {
  auto dir = flags.Require("data");
  if (!dir.ok()) return Fail(dir.status());
  if (flags.positional().size() != 1 ||
      (flags.positional()[0] != "inclusion" && flags.positional()[0] != "consistency")) {
    return Fail(Status::InvalidArgument("prove needs `inclusion` or `consistency`"));
  }
  auto ledger = ledger::OpenDataDir(*dir, ledger::Access::kReadOnly, {});
  if (!ledger.ok()) return Fail(ledger.status());
  Ledger& log = **ledger;
  if (flags.positional()[0] == "inclusion") {
    auto seq = flags.RequireUint("seq");
    if (!seq.ok()) return Fail(seq.status());
    auto size_flag = flags.GetUint("size");
    if (!size_flag.ok()) return Fail(size_flag.status());
    auto proof = api::InclusionProofJson(log, *seq, size_flag->value_or(log.size()));
    if (!proof.ok()) return Fail(proof.status());
    PrintJson(*proof);
    return kExitOk;
  }
  auto from = flags.RequireUint("from");
  if (!from.ok()) return Fail(from.status());
  auto to_flag = flags.GetUint("to");
  if (!to_flag.ok()) return Fail(to_flag.status());
  auto proof = api::ConsistencyProofJson(log, *from, to_flag->value_or(log.size()));
  if (!proof.ok()) return Fail(proof.status());
  PrintJson(*proof);
  return kExitOk;
}

int AuditCommand(const Flags& flags) {
  auto dir = flags.Require("data");
  if (!dir.ok()) return Fail(dir.status());
  auto threads = flags.GetUint("threads");
  if (!threads.ok()) return Fail(threads.status());
  auto store = ledger::LogStore::Open(ledger::DatabasePath(*dir), ledger::OpenMode::kReadOnly, {});
  if (!store.ok()) return Fail(store.status());
  Progress progress("audit: entries checked");
  ledger::AuditOptions options;
  options.threads = static_cast<unsigned>(threads->value_or(0));
  options.progress = [&](uint64_t done, uint64_t total) { progress.Update(done, total); };
  auto report = ledger::AuditLog(**store, options);
  if (!report.ok()) return Fail(report.status());
  const double seconds = progress.Seconds();
  if (report->ok()) {
    std::printf(
        "audit: clean: %llu entries, %llu tree tiles, %llu checkpoints and %llu event-id index "
        "records checked in %.2f s (%.0f entries/s)\n",
        static_cast<unsigned long long>(report->entries_checked),
        static_cast<unsigned long long>(report->tiles_checked),
        static_cast<unsigned long long>(report->checkpoints_checked),
        static_cast<unsigned long long>(report->index_records_checked), seconds,
        seconds > 0 ? static_cast<double>(report->entries_checked) / seconds : 0.0);
    return kExitOk;
  }
  const auto first = report->first_bad_sequence();
  if (first.has_value()) {
    std::printf("audit: FAILED: first bad sequence number %llu: %s\n",
                static_cast<unsigned long long>(*first), report->findings.front().problem.c_str());
  } else {
    std::printf("audit: FAILED: %s\n", report->findings.front().problem.c_str());
  }
  for (size_t i = 1; i < report->findings.size() && i < 20; ++i) {
    std::printf("audit: also: %s\n", report->findings[i].problem.c_str());
  }
  std::printf("audit: %zu finding(s)%s; %llu entries checked\n", report->findings.size(),
              report->findings.size() >= ledger::kMaxAuditFindings ? " (list truncated)" : "",
              static_cast<unsigned long long>(report->entries_checked));
  return kExitCheckFailed;
}

int Entry(const Flags& flags) {
  auto dir = flags.Require("data");
  if (!dir.ok()) return Fail(dir.status());
  auto seq = flags.RequireUint("seq");
  if (!seq.ok()) return Fail(seq.status());
  auto ledger = ledger::OpenDataDir(*dir, ledger::Access::kReadOnly, {});
  if (!ledger.ok()) return Fail(ledger.status());
  auto entry = api::EntryJson(**ledger, *seq);
  if (!entry.ok()) return Fail(entry.status());
  PrintJson(*entry);
  return kExitOk;
}

int Vkey(const Flags& flags) {
  auto dir = flags.Require("data");
  if (!dir.ok()) return Fail(dir.status());
  auto ledger = ledger::OpenDataDir(*dir, ledger::Access::kReadOnly, {});
  if (!ledger.ok()) return Fail(ledger.status());
  std::cout << (*ledger)->metadata().verifier_key() << "\n";
  return kExitOk;
}

// Converts native JSON events to the Kafka wire format (protobuf binary) and produces them.
int Produce(const Flags& flags) {
  auto brokers = flags.Require("brokers");
  if (!brokers.ok()) return Fail(brokers.status());
  const std::string topic = flags.Get("topic").value_or("traceledger.events");
  if (flags.positional().size() != 1) {
    return Fail(Status::InvalidArgument("produce takes exactly one FILE (or - for stdin)"));
  }
  const std::string path = flags.positional()[0];
  std::ifstream file;
  if (path != "-") {
    file.open(path, std::ios::binary);
    if (!file) return Fail(Status::NotFound("cannot open " + path));
  }
  std::istream& in = path == "-" ? std::cin : file;
  struct Message {
    std::string key;
    std::string value;
  };
  std::vector<Message> messages;
  std::string text;
  for (uint64_t number = 1; std::getline(in, text); ++number) {
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto event = ingest::DecodeEvent(text, v1::EVENT_ENCODING_JSON);
    if (!event.ok()) {
      return Fail(event.status().WithContext(path + ":" + std::to_string(number)));
    }
    const std::vector<std::string> ids = ingest::ObjectIdsOf(*event);
    messages.push_back({ids.empty() ? event->event_id() : ids.front(), event->SerializeAsString()});
  }
  std::atomic<uint64_t> failed{0};
  auto producer = ingest::NewKafkaClient(
      RD_KAFKA_PRODUCER,
      {{"bootstrap.servers", *brokers}, {"enable.idempotence", "true"}, {"linger.ms", "5"}},
      [&](rd_kafka_conf_t* conf) {
        rd_kafka_conf_set_opaque(conf, &failed);
        rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t*, const rd_kafka_message_t* m, void* o) {
          if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) ++*static_cast<std::atomic<uint64_t>*>(o);
        });
      });
  if (!producer.ok()) return Fail(producer.status());
  for (const Message& m : messages) {
    while (true) {
      const rd_kafka_resp_err_t err = rd_kafka_producev(
          producer->get(), RD_KAFKA_V_TOPIC(topic.c_str()),
          RD_KAFKA_V_KEY(m.key.data(), m.key.size()),
          RD_KAFKA_V_VALUE(const_cast<char*>(m.value.data()), m.value.size()),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        return Fail(ingest::KafkaStatus(err, "producing to " + topic));
      }
      rd_kafka_poll(producer->get(), 100);
    }
  }
  if (rd_kafka_flush(producer->get(), 60000) != RD_KAFKA_RESP_ERR_NO_ERROR || failed > 0) {
    return Fail(Status::Unavailable(std::to_string(failed.load()) + " of " +
                                    std::to_string(messages.size()) +
                                    " messages were not delivered to " + topic));
  }
  std::fprintf(stderr, "tracectl: produced %zu events to %s\n", messages.size(), topic.c_str());
  return kExitOk;
}

// Synthetic supply chains in the capture format (native JSON lines), for demos and benchmarks.
int Gen(const Flags& flags) {
  gen::Options options;
  auto profile = gen::ParseProfile(flags.Get("profile").value_or("mixed"));
  if (!profile.ok()) return Fail(profile.status());
  options.profile = *profile;
  auto events = flags.GetUint("events");
  auto seed = flags.GetUint("seed");
  if (!events.ok()) return Fail(events.status());
  if (!seed.ok()) return Fail(seed.status());
  options.events = events->value_or(options.events);
  options.seed = seed->value_or(options.seed);
  if (auto path = flags.Get("parties")) {
    std::ofstream parties(*path);
    if (!parties) return Fail(Status::NotFound("cannot write --parties " + *path));
    for (const std::string& party : gen::Parties(options)) parties << party << "\n";
  }
  std::ostream* out = &std::cout;
  std::ofstream file;
  if (auto path = flags.Get("out")) {
    file.open(*path, std::ios::binary);
    if (!file) return Fail(Status::NotFound("cannot write --out " + *path));
    out = &file;
  }
  if (Status s = gen::WriteJsonLines(options, *out); !s.ok()) return Fail(s);
  out->flush();
  if (!*out) return Fail(Status::Unavailable("error writing the events"));
  std::fprintf(stderr, "tracectl: generated %llu %s events (seed %llu)\n",
               static_cast<unsigned long long>(options.events),
               std::string(gen::ProfileName(options.profile)).c_str(),
               static_cast<unsigned long long>(options.seed));
  return kExitOk;
}

// Reads the views `traceledger project` (or the server) built; the views database may be open
// in the process building it.
int TraceCommand(const Flags& flags) {
  auto dir = flags.Require("data");
  if (!dir.ok()) return Fail(dir.status());
  auto id = flags.Require("id");
  if (!id.ok()) return Fail(id.status());
  auto direction = projections::ParseTraceDirection(flags.Get("direction").value_or("both"));
  if (!direction.ok()) return Fail(direction.status().WithContext("--direction"));
  projections::TraceLimits limits;
  auto max_depth = flags.GetUint("max-depth");
  auto max_nodes = flags.GetUint("max-nodes");
  if (!max_depth.ok()) return Fail(max_depth.status());
  if (!max_nodes.ok()) return Fail(max_nodes.status());
  limits.max_depth = static_cast<uint32_t>(std::min<uint64_t>(
      max_depth->value_or(limits.max_depth), std::numeric_limits<uint32_t>::max()));
  limits.max_nodes = max_nodes->value_or(limits.max_nodes);
  const std::string views_dir = flags.Get("views").value_or(*dir + "/views");
  const std::vector<std::string> names = {std::string(projections::kGenealogyView)};
  const std::string hint = " (build them: traceledger project --data " + *dir + " --once)";
  if (!std::filesystem::exists(std::filesystem::path(views_dir) / "CURRENT")) {
    return Fail(Status::NotFound("no views database in " + views_dir + hint));
  }
  auto store =
      projections::ViewStore::Open(views_dir, names, projections::ViewStore::Mode::kReadOnly);
  if (!store.ok()) return Fail(store.status());
  for (const std::string& name : names) {
    if ((*store)->family(name) == nullptr) {
      return Fail(Status::NotFound("no " + name + " view in " + views_dir + hint));
    }
  }
  const auto start = std::chrono::steady_clock::now();
  auto result =
      projections::Trace((*store)->Reader(projections::kGenealogyView), *id, *direction, limits);
  if (!result.ok()) return Fail(result.status());
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::string out;
  google::protobuf::util::JsonPrintOptions print;
  print.add_whitespace = flags.Has("pretty");
  print.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(*result, &out, print).ok()) {
    return Fail(Status::Internal("trace answer does not print as JSON"));
  }
  std::printf("%s\n", out.c_str());
  std::string truncated;
  if (result->truncated()) truncated.append(" (truncated: ").append(result->truncated_reason()).append(")");
  std::fprintf(stderr, "tracectl: %s trace of %s: %d nodes, %d edges, %d holders%s in %.2f ms\n",
               std::string(projections::TraceDirectionName(*direction)).c_str(), id->c_str(),
               result->nodes_size(), result->edges_size(), result->holders_size(),
               truncated.c_str(), ms);
  return kExitOk;
}

const std::map<std::string, Command>& Commands() {
  static const auto* commands = new std::map<std::string, Command>{
      {"keygen",
       {"create a ledger and its checkpoint signing key",
        "tracectl keygen --data DIR --origin ORIGIN\n"
        "  Generates an Ed25519 signing key named ORIGIN (the checkpoint origin line, e.g.\n"
        "  ledger.example.gov/traceledger), writes DIR/checkpoint.key (mode 0600) and\n"
        "  DIR/checkpoint.vkey, and creates an empty ledger in DIR/db. Prints the verifier key.",
        {"data", "origin"},
        {},
        Keygen}},
      {"append",
       {"append events (one native JSON event per line) and print receipts",
        "tracectl append --data DIR [--batch N] [--checkpoint-every N]\n"
        "                [--checkpoint-interval-ms T] FILE|-\n"
        "  Validates every line first; if any is invalid, reports each (file:line: rule at\n"
        "  field: reason) and appends nothing. Otherwise appends in batches of N (default and\n"
        "  max 1000), each durable before its receipts are printed as JSON lines:\n"
        "  {\"event_id\",\"seq\",\"leaf_hash\",\"status\": appended|duplicate|conflict}.\n"
        "  Exit 1 if any event conflicts with a logged event of the same id. A checkpoint is\n"
        "  signed every N entries (default 1000) or T ms (default 1000), and at the end.",
        {"data", "batch", "checkpoint-every", "checkpoint-interval-ms"},
        {},
        Append}},
      {"checkpoint",
       {"sign a checkpoint of everything appended and print it",
        "tracectl checkpoint --data DIR\n"
        "  Prints the C2SP signed checkpoint note covering the whole log (signing a new one\n"
        "  only if the latest does not cover every entry).",
        {"data"},
        {},
        CheckpointCommand}},
      {"prove",
       {"print an inclusion or consistency proof as JSON",
        "tracectl prove inclusion --data DIR --seq I [--size N]\n"
        "  {\"tree_size\",\"leaf_index\",\"leaf_hash\",\"root_hash\",\"path\"}; N defaults to the log size.\n"
        "tracectl prove consistency --data DIR --from M [--to N]\n"
        "  {\"from\",\"to\",\"from_root_hash\",\"root_hash\",\"path\"}; hashes are lowercase hex.",
        {"data", "seq", "size", "from", "to"},
        {},
        Prove}},
      {"audit",
       {"re-verify the whole log",
        "tracectl audit --data DIR [--threads N]\n"
        "  Checks every entry's chain link and leaf hash, every stored tree node, every\n"
        "  checkpoint's signature and root, and the event-id index. Prints progress on stderr;\n"
        "  exits 1 and names the first bad sequence number on any fault.",
        {"data", "threads"},
        {},
        AuditCommand}},
      {"entry",
       {"print one ledger entry as JSON",
        "tracectl entry --data DIR --seq I\n"
        "  The entry's fields, its leaf hash and its exact bytes (entry_base64).",
        {"data", "seq"},
        {},
        Entry}},
      {"evidence", EvidenceCommand()},
      {"gen",
       {"generate a realistic synthetic supply chain (native JSON events)",
        "tracectl gen [--profile food|drug|device|cylinder|mixed] [--events N] [--seed S]\n"
        "             [--out FILE] [--parties FILE]\n"
        "  Writes N events (default 10000) in time order, one native JSON event per line, as\n"
        "  `tracectl append` and `tracectl produce` read them; the same seed gives the same\n"
        "  stream. food: farms -> processors (transformations, pallets) -> distributors ->\n"
        "  supermarkets, school canteens, online shops; drug: makers -> wholesalers ->\n"
        "  pharmacies and hospitals with serialized packs in cases and pallets; device: UDI\n"
        "  devices to hospitals; cylinder: filling stations, inspections, fills; mixed: all of\n"
        "  them plus inspections, sampling, penalties and recalls. Rare anomalies (a pack\n"
        "  dispensed twice, an overdue cylinder filled, ...) are injected for the alert views.\n"
        "  --parties FILE writes the party ids, for `traceledger ingest --known-submitters`.",
        {"profile", "events", "seed", "out", "parties"},
        {},
        Gen}},
      {"produce",
       {"send native JSON events to Kafka in the wire format (protobuf)",
        "tracectl produce --brokers HOST:PORT [--topic traceledger.events] FILE|-\n"
        "  Converts each native JSON event line to traceledger.v1.Event protobuf binary and\n"
        "  produces it with key = the event's primary object id, for `traceledger ingest`.\n"
        "  Lines must parse as events (validation happens in the ingest, which rejects).",
        {"brokers", "topic"},
        {},
        Produce}},
      {"trace",
       {"trace an object backward to its sources and forward to every holder",
        "tracectl trace --data DIR --id ID [--direction backward|forward|both]\n"
        "               [--max-depth 32] [--max-nodes 10000] [--views DIR/views] [--pretty]\n"
        "  Answers from the genealogy view `traceledger project --data DIR` keeps (holdings too):\n"
        "  nodes (objects, parties), edges with the entry that proves each, and the holders\n"
        "  with their quantities now. Time-aware: forward, a lot reaches only what was made from\n"
        "  it or shipped after it arrived. truncated says when a limit cut the answer. Prints\n"
        "  one JSON object; the size and time go to stderr.",
        {"data", "id", "direction", "max-depth", "max-nodes", "views"},
        {"pretty"},
        TraceCommand}},
      {"token", TokenCommand()},
      {"vkey",
       {"print the log's checkpoint verifier key",
        "tracectl vkey --data DIR",
        {"data"},
        {},
        Vkey}},
      {"verify-bundle", VerifyBundleCommand()},
      {"verify-consistency", VerifyConsistencyCommand()},
  };
  return *commands;
}

}  // namespace
}  // namespace traceledger::tools

int main(int argc, char** argv) {
  using traceledger::tools::RunCommand;
  return RunCommand("tracectl", "operate and verify a traceledger data directory.",
                    traceledger::tools::Commands(), argc, argv);
}
