#include "ledger/ledger.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>

#include "ledger/base/encoding.h"
#include "ledger/merkle/hasher.h"
#include "ledger/merkle/proof.h"

namespace traceledger::ledger {
namespace {

constexpr uint32_t kEntryFormatVersion = 1;
constexpr uint32_t kMetadataFormatVersion = 1;
constexpr std::string_view kHashAlgorithm = "sha256";
constexpr std::string_view kSignatureAlgorithm = "ed25519";
// Prepared batches waiting for the writer: enough to overlap preparing with syncing.
constexpr size_t kMaxBatchesInFlight = 2;

std::string Seq(uint64_t n) { return std::to_string(n); }

}  // namespace

std::string_view AppendOutcomeName(AppendOutcome outcome) {
  switch (outcome) {
    case AppendOutcome::kAppended: return "appended";
    case AppendOutcome::kDuplicate: return "duplicate";
    case AppendOutcome::kConflict: return "conflict";
  }
  return "unknown";
}

struct Ledger::Submission {
  std::vector<AppendRequest> requests;
  std::vector<SourcePosition> positions;
  std::vector<v1::Rejection> rejections;
  AppendCallback done;
  bool force_checkpoint = false;
  std::vector<AppendResult> results;
};

size_t Ledger::Records(const Submission& submission) {
  return submission.requests.size() + submission.rejections.size();
}

// What a batch appended, by event id, while it is not yet durable. Keys and request pointers
// point into `submissions`, which this shares with the PreparedBatch so that a reader of the
// map keeps them alive.
struct Ledger::InFlightBatch {
  struct Entry {
    uint64_t sequence;
    Sha256Digest leaf_hash;
    const AppendRequest* request;
  };
  std::vector<std::shared_ptr<Submission>> submissions;
  std::unordered_map<std::string_view, Entry> appended;
};

struct Ledger::PreparedBatch {
  std::shared_ptr<InFlightBatch> in_flight;  // submissions and what they appended
  LogStore::Batch batch;
  Status write_status;  // set by the writer: the batch failed (or came after a failure)
  uint64_t tree_size = 0;        // after this batch
  uint64_t rejection_count = 0;  // after this batch
  std::vector<merkle::TileUpdate> tiles;
  std::optional<std::pair<uint64_t, std::string>> checkpoint;
};

// Reads committed tree nodes for proofs through the tile cache.
class Ledger::StoredNodes : public merkle::NodeSource {
 public:
  explicit StoredNodes(const Ledger& ledger) : ledger_(ledger) {}
  Result<Sha256Digest> GetNode(uint32_t level, uint64_t index) override {
    const merkle::NodeLocation loc = merkle::LocateNode(level, index);
    if (tile_ == nullptr || tile_id_ != loc.tile || !tile_->HasNode(loc.row, loc.position)) {
      TL_ASSIGN_OR_RETURN(tile_, ledger_.LoadTile(loc.tile, loc.row, loc.position));
      tile_id_ = loc.tile;
    }
    return tile_->Node(loc.row, loc.position);
  }

 private:
  const Ledger& ledger_;
  merkle::TileId tile_id_;
  std::shared_ptr<const merkle::Tile> tile_;
};

Ledger::Ledger(std::unique_ptr<LogStore> store, v1::LogMetadata metadata, NoteVerifier verifier,
               std::optional<NoteSigner> signer, LedgerOptions options)
    : store_(std::move(store)),
      metadata_(std::move(metadata)),
      verifier_(std::move(verifier)),
      signer_(std::move(signer)),
      options_(std::move(options)),
      tile_cache_(options_.tile_cache_bytes / merkle::Tile::EncodedSize(merkle::kTileWidth)) {}

Ledger::~Ledger() {
  // Why: a destructor cannot report; callers that care call Close() and check it.
  Close().IgnoreError();
}

int64_t Ledger::NowMicros() const {
  if (options_.clock_unix_micros) return options_.clock_unix_micros();
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<std::unique_ptr<Ledger>> Ledger::Create(const std::string& db_dir, std::string origin,
                                               const NoteSigner& signer, LedgerOptions options) {
  TL_RETURN_IF_ERROR(ValidateOrigin(origin));
  if (signer.name() != origin) {
    return Status::InvalidArgument("signing key name \"" + signer.name() +
                                   "\" must equal the log origin \"" + origin + "\"");
  }
  TL_ASSIGN_OR_RETURN(std::unique_ptr<LogStore> store,
                      LogStore::Open(db_dir, OpenMode::kCreate, options.store));
  v1::LogMetadata metadata;
  metadata.set_format_version(kMetadataFormatVersion);
  metadata.set_origin(origin);
  metadata.set_hash_algorithm(std::string(kHashAlgorithm));
  metadata.set_signature_algorithm(std::string(kSignatureAlgorithm));
  metadata.set_verifier_key(signer.VerifierKeyText());
  metadata.set_created_unix_micros(options.clock_unix_micros
                                       ? options.clock_unix_micros()
                                       : std::chrono::duration_cast<std::chrono::microseconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count());
  // The empty tree's checkpoint goes in with the metadata, so every log has one.
  const ledger::Checkpoint empty{origin, 0, merkle::EmptyRoot(), {}};
  TL_ASSIGN_OR_RETURN(std::string note, signer.Sign(FormatCheckpoint(empty)));
  LogStore::Batch batch = store->NewBatch();
  batch.PutMetadata(metadata.SerializeAsString());
  batch.PutCheckpoint(0, note);
  TL_RETURN_IF_ERROR(store->Write(batch));
  store.reset();
  return Open(db_dir, signer, std::move(options));
}

Result<std::unique_ptr<Ledger>> Ledger::Open(const std::string& db_dir,
                                             std::optional<NoteSigner> signer,
                                             LedgerOptions options) {
  const OpenMode mode = signer.has_value() ? OpenMode::kReadWrite : OpenMode::kReadOnly;
  TL_ASSIGN_OR_RETURN(std::unique_ptr<LogStore> store, LogStore::Open(db_dir, mode, options.store));
  return OpenStore(std::move(store), std::move(signer), std::move(options));
}

Result<std::unique_ptr<Ledger>> Ledger::OpenFollower(const std::string& db_dir,
                                                     const std::string& follower_dir,
                                                     LedgerOptions options) {
  options.store.follower_dir = follower_dir;
  TL_ASSIGN_OR_RETURN(std::unique_ptr<LogStore> store,
                      LogStore::Open(db_dir, OpenMode::kFollower, options.store));
  TL_ASSIGN_OR_RETURN(std::unique_ptr<Ledger> ledger,
                      OpenStore(std::move(store), std::nullopt, std::move(options)));
  ledger->follower_ = true;
  return ledger;
}

Status Ledger::Refresh() {
  if (!follower_) return Status::FailedPrecondition("only a follower ledger refreshes");
  std::lock_guard<std::mutex> lock(refresh_mu_);
  TL_RETURN_IF_ERROR(store_->CatchUp());
  // Recover() re-derives everything committed (tree edge, checkpoint, counts) from the store.
  TL_RETURN_IF_ERROR(Recover());
  std::lock_guard<std::mutex> commit_lock(commit_mu_);
  commit_cv_.notify_all();
  return Status::Ok();
}

Result<std::unique_ptr<Ledger>> Ledger::OpenStore(std::unique_ptr<LogStore> store,
                                                  std::optional<NoteSigner> signer,
                                                  LedgerOptions options) {
  TL_ASSIGN_OR_RETURN(std::optional<std::string> metadata_bytes, store->GetMetadata());
  if (!metadata_bytes.has_value()) {
    return Status::DataLoss("ledger database has no metadata record");
  }
  v1::LogMetadata metadata;
  if (!metadata.ParseFromString(*metadata_bytes)) {
    return Status::DataLoss("ledger metadata record does not decode");
  }
  if (metadata.format_version() != kMetadataFormatVersion) {
    return Status::FailedPrecondition("ledger format version " +
                                      std::to_string(metadata.format_version()) +
                                      " is not supported (want 1)");
  }
  if (metadata.hash_algorithm() != kHashAlgorithm ||
      metadata.signature_algorithm() != kSignatureAlgorithm) {
    return Status::FailedPrecondition("ledger uses " + metadata.hash_algorithm() + "/" +
                                      metadata.signature_algorithm() +
                                      "; this build supports sha256/ed25519");
  }
  auto verifier = NoteVerifier::FromVerifierKeyText(metadata.verifier_key());
  if (!verifier.ok()) return verifier.status().WithContext("ledger metadata verifier key");
  if (signer.has_value() && signer->VerifierKeyText() != metadata.verifier_key()) {
    return Status::FailedPrecondition("signing key " + signer->VerifierKeyText() +
                                      " is not this ledger's key " + metadata.verifier_key());
  }
  std::unique_ptr<Ledger> ledger(new Ledger(std::move(store), std::move(metadata),
                                            std::move(verifier).value(), std::move(signer),
                                            std::move(options)));
  TL_RETURN_IF_ERROR(ledger->Recover());
  if (!ledger->read_only()) ledger->StartThreads();
  return ledger;
}

Result<Sha256Digest> Ledger::StoredLeaf(uint64_t sequence) {
  // Why not tree_.GetNode alone: the builder keeps only partial edge tiles, so when the size is
  // a multiple of the tile width the last leaf sits in a complete tile that only the store has.
  const merkle::NodeLocation loc = merkle::LocateNode(0, sequence);
  if (auto edge = tree_.GetNode(0, sequence); edge.ok()) {
    return edge;
  }
  TL_ASSIGN_OR_RETURN(std::optional<merkle::Tile> tile, store_->GetTile(loc.tile));
  if (!tile.has_value() || !tile->HasNode(loc.row, loc.position)) {
    return Status::DataLoss("tile 0/" + std::to_string(loc.tile.index) + " holding leaf " +
                            Seq(sequence) + " is missing or short");
  }
  return tile->Node(loc.row, loc.position);
}

Status Ledger::Recover() {
  TL_ASSIGN_OR_RETURN(const uint64_t size, store_->CountEntries());
  TL_ASSIGN_OR_RETURN(tree_, merkle::TreeBuilder::Restore(size, [this](merkle::TileId id) {
                        return store_->GetTile(id);
                      }));
  previous_hash_ = Sha256Digest{};
  if (size > 0) {
    // Pair check: the last entry hashes to the last stored leaf and knows its own position.
    TL_ASSIGN_OR_RETURN(std::optional<std::string> bytes, store_->GetEntry(size - 1));
    TL_ASSERT(bytes.has_value());  // CountEntries just saw its key
    v1::LedgerEntry entry;
    if (!entry.ParseFromString(*bytes) || entry.sequence() != size - 1) {
      return Status::DataLoss("entry " + Seq(size - 1) + " does not decode to its own sequence");
    }
    const Sha256Digest leaf = merkle::HashLeaf(*bytes);
    TL_ASSIGN_OR_RETURN(Sha256Digest stored_leaf, StoredLeaf(size - 1));
    if (leaf != stored_leaf) {
      return Status::DataLoss("entry " + Seq(size - 1) + ": leaf hash " + HexEncode(leaf) +
                              " differs from the stored tree's " + HexEncode(stored_leaf));
    }
    previous_hash_ = leaf;
  }
  TL_ASSIGN_OR_RETURN(auto latest, store_->LatestCheckpoint());
  if (!latest.has_value()) return Status::DataLoss("ledger has no checkpoint, not even size 0");
  auto checkpoint = OpenCheckpoint(latest->second, verifier_, metadata_.origin());
  if (!checkpoint.ok()) {
    return Status::DataLoss("latest checkpoint: " + checkpoint.status().message());
  }
  if (checkpoint->tree_size != latest->first) {
    return Status::DataLoss("checkpoint stored under size " + Seq(latest->first) + " says " +
                            Seq(checkpoint->tree_size));
  }
  if (checkpoint->tree_size > size) {
    return Status::DataLoss("latest checkpoint covers " + Seq(checkpoint->tree_size) +
                            " entries but the log has " + Seq(size));
  }
  if (checkpoint->tree_size == size && checkpoint->root_hash != tree_.Root()) {
    return Status::DataLoss("latest checkpoint root differs from the stored tree at size " +
                            Seq(size));
  }
  last_checkpoint_size_ = checkpoint->tree_size;
  oldest_uncovered_micros_ = NowMicros();
  TL_ASSIGN_OR_RETURN(next_rejection_, store_->CountRejections());
  committed_rejections_.store(next_rejection_, std::memory_order_release);
  {
    std::lock_guard<std::mutex> lock(checkpoint_mu_);
    latest_checkpoint_size_ = checkpoint->tree_size;
    latest_checkpoint_ = latest->second;
  }
  committed_size_.store(size, std::memory_order_release);
  return Status::Ok();
}

void Ledger::StartThreads() {
  sequencer_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "tl-sequencer");
    SequencerLoop();
  });
  writer_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "tl-writer");
    WriterLoop();
  });
  syncer_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "tl-syncer");
    SyncerLoop();
  });
}

Status Ledger::ValidateRequests(const std::vector<AppendRequest>& requests) const {
  if (requests.size() > options_.max_batch_records) {
    return Status::ResourceExhausted("batch of " + std::to_string(requests.size()) +
                                     " events exceeds max_batch_records " +
                                     std::to_string(options_.max_batch_records));
  }
  for (size_t i = 0; i < requests.size(); ++i) {
    const AppendRequest& r = requests[i];
    // Messages are built only for a request that fails: this runs for every appended event.
    auto refuse = [i](const std::string& what) {
      return Status::InvalidArgument("request " + std::to_string(i) + ": " + what);
    };
    if (r.event_id.empty()) return refuse("event_id is empty");
    if (r.event_id.size() > kMaxEventIdBytes) {
      return refuse("event_id has " + std::to_string(r.event_id.size()) + " bytes, more than " +
                    std::to_string(kMaxEventIdBytes));
    }
    if (r.submitter_id.empty()) return refuse("submitter_id is empty");
    if (r.submitter_id.size() > kMaxSubmitterIdBytes) {
      return refuse("submitter_id is longer than " + std::to_string(kMaxSubmitterIdBytes) +
                    " bytes");
    }
    if (r.encoding == v1::EVENT_ENCODING_UNSPECIFIED) return refuse("event encoding is unspecified");
    if (r.event.empty()) return refuse("event bytes are empty");
    if (r.event.size() > options_.max_event_bytes) {
      return refuse("event has " + std::to_string(r.event.size()) +
                    " bytes, more than max_event_bytes " + std::to_string(options_.max_event_bytes));
    }
  }
  return Status::Ok();
}

Result<std::vector<AppendResult>> Ledger::Append(std::vector<AppendRequest> requests,
                                                 std::vector<SourcePosition> positions) {
  return Append(AppendCall{std::move(requests), std::move(positions), {}});
}

Result<std::vector<AppendResult>> Ledger::Append(AppendCall call) {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Result<std::vector<AppendResult>>> outcome;
  AppendAsync(std::move(call), [&](Result<std::vector<AppendResult>> result) {
                std::lock_guard<std::mutex> lock(mu);
                outcome.emplace(std::move(result));
                cv.notify_one();
              });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return outcome.has_value(); });
  return std::move(*outcome);
}

void Ledger::AppendAsync(AppendCall call, AppendCallback done) {
  if (read_only()) {
    done(Status::FailedPrecondition("ledger is open read-only (no signing key)"));
    return;
  }
  if (Status s = ValidateRequests(call.requests); !s.ok()) {
    done(s);
    return;
  }
  for (const SourcePosition& p : call.positions) {
    if (p.stream.empty() || p.next_offset < 0) {
      done(Status::InvalidArgument("source position needs a stream name and offset >= 0"));
      return;
    }
  }
  if (call.rejections.size() > options_.max_batch_records) {
    done(Status::ResourceExhausted("call with " + std::to_string(call.rejections.size()) +
                                   " rejections exceeds max_batch_records " +
                                   std::to_string(options_.max_batch_records)));
    return;
  }
  auto submission = std::make_shared<Submission>();
  submission->requests = std::move(call.requests);
  submission->positions = std::move(call.positions);
  submission->rejections = std::move(call.rejections);
  submission->done = std::move(done);
  const size_t count = Records(*submission);
  std::unique_lock<std::mutex> lock(queue_mu_);
  queue_space_cv_.wait(lock, [&] {
    return stopping_ || !failed_.ok() || queued_records_ + count <= options_.max_queued_records ||
           queued_records_ == 0;
  });
  Status refusal;
  if (stopping_) refusal = Status::FailedPrecondition("ledger is closed");
  if (!failed_.ok()) refusal = failed_;
  if (!refusal.ok()) {
    lock.unlock();
    submission->done(refusal);
    return;
  }
  queued_records_ += count;
  queue_.push_back(std::move(submission));
  lock.unlock();
  queue_cv_.notify_one();
}

Result<std::string> Ledger::Checkpoint() {
  if (read_only()) return LatestCheckpoint();
  auto submission = std::make_shared<Submission>();
  submission->force_checkpoint = true;
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Status> outcome;
  submission->done = [&](Result<std::vector<AppendResult>> result) {
    std::lock_guard<std::mutex> lock(mu);
    outcome = result.ok() ? Status::Ok() : result.status();
    cv.notify_one();
  };
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (stopping_) return LatestCheckpoint();
    if (!failed_.ok()) return failed_;
    queue_.push_back(std::move(submission));
  }
  queue_cv_.notify_one();
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return outcome.has_value(); });
  TL_RETURN_IF_ERROR(*outcome);
  return LatestCheckpoint();
}

// ---------------------------------------------------------------------------------------------
// Sequencer

void Ledger::SequencerLoop() {
  while (true) {
    std::vector<std::shared_ptr<Submission>> taken;
    bool force_checkpoint = false;
    bool final_round = false;
    Status failed;
    {
      std::unique_lock<std::mutex> lock(queue_mu_);
      auto has_work = [&] { return !queue_.empty() || stopping_; };
      if (tree_.size() > last_checkpoint_size_) {
        // Wake when the oldest uncovered entry is due a checkpoint.
        const int64_t due = oldest_uncovered_micros_ +
                            int64_t{options_.checkpoint_interval_ms} * 1000 - NowMicros();
        if (due > 0) queue_cv_.wait_for(lock, std::chrono::microseconds(due), has_work);
      } else {
        queue_cv_.wait(lock, has_work);
      }
      failed = failed_;
      size_t records = 0;
      while (!queue_.empty()) {
        Submission& next = *queue_.front();
        if (!taken.empty() && records + Records(next) > options_.max_batch_records) break;
        records += Records(next);
        force_checkpoint = force_checkpoint || next.force_checkpoint;
        taken.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      queued_records_ -= records;
      final_round = stopping_ && queue_.empty();
    }
    queue_space_cv_.notify_all();
    if (!failed.ok()) {
      for (auto& submission : taken) submission->done(failed);
      if (final_round) break;
      continue;
    }
    const bool uncovered = tree_.size() > last_checkpoint_size_ || !taken.empty();
    const bool due = tree_.size() > last_checkpoint_size_ &&
                     NowMicros() - oldest_uncovered_micros_ >=
                         int64_t{options_.checkpoint_interval_ms} * 1000;
    if (final_round || due) force_checkpoint = true;
    if (taken.empty() && !(force_checkpoint && uncovered)) {
      if (final_round) break;
      continue;
    }
    auto prepared = Prepare(std::move(taken), force_checkpoint);
    if (!prepared.ok()) {
      // Preparing reads the store (duplicate lookups); a failure there is a storage failure,
      // and the sequencer's state is now ahead of the store. Prepare answered its callers.
      Stop(prepared.status()).IgnoreError();  // Why: the next round answers later callers.
      continue;
    }
    {
      std::unique_lock<std::mutex> lock(write_mu_);
      write_cv_.wait(lock, [&] { return write_queue_.size() < kMaxBatchesInFlight; });
      write_queue_.push_back(std::move(prepared).value());
    }
    write_cv_.notify_all();
    if (final_round) break;
  }
  {
    std::lock_guard<std::mutex> lock(write_mu_);
    sequencer_done_ = true;
  }
  write_cv_.notify_all();
}

void Ledger::RecordRejection(v1::Rejection& rejection, LogStore::Batch& batch) {
  rejection.set_sequence(next_rejection_);
  batch.PutRejection(next_rejection_, rejection.SerializeAsString());
  ++next_rejection_;
}

void Ledger::RecordConflict(const AppendRequest& request, uint64_t existing_sequence,
                            int64_t now, LogStore::Batch& batch) {
  if (request.on_conflict != OnConflict::kAnswerAndRecordRejection) return;
  v1::Rejection rejection;
  *rejection.mutable_source() = request.source;
  rejection.set_rule("conflict");
  rejection.set_field("/eventId");
  rejection.set_reason("event id \"" + request.event_id + "\" is already logged at entry " +
                       Seq(existing_sequence) + " with other content");
  rejection.set_payload(request.event);
  rejection.set_event_id(request.event_id);
  rejection.set_rejected_unix_micros(now);
  RecordRejection(rejection, batch);
}

Result<AppendResult> Ledger::ExistingResult(const AppendRequest& request, uint64_t sequence) {
  TL_ASSIGN_OR_RETURN(std::optional<std::string> bytes, store_->GetEntry(sequence));
  if (!bytes.has_value()) {
    return Status::DataLoss("event id \"" + request.event_id + "\" is indexed at entry " +
                            Seq(sequence) + ", which does not exist");
  }
  v1::LedgerEntry entry;
  if (!entry.ParseFromString(*bytes)) {
    return Status::DataLoss("entry " + Seq(sequence) + " does not decode");
  }
  if (entry.event_id() != request.event_id) {
    // Two ids with the same 128-bit index key (or a corrupted index): refuse rather than guess.
    return Status::DataLoss("event id \"" + request.event_id + "\" has the index key of entry " +
                            Seq(sequence) + ", which holds event \"" + entry.event_id() + "\"");
  }
  const bool same = entry.event() == request.event && entry.event_encoding() == request.encoding &&
                    entry.submitter_id() == request.submitter_id;
  return AppendResult{same ? AppendOutcome::kDuplicate : AppendOutcome::kConflict,
                      Receipt{request.event_id, sequence, merkle::HashLeaf(*bytes)}};
}

Result<std::unique_ptr<Ledger::PreparedBatch>> Ledger::Prepare(
    std::vector<std::shared_ptr<Submission>> submissions, bool force_checkpoint) {
  auto prepared = std::make_unique<PreparedBatch>();
  prepared->batch = store_->NewBatch();
  prepared->in_flight = std::make_shared<InFlightBatch>();
  InFlightBatch& batch = *prepared->in_flight;
  batch.submissions = std::move(submissions);
  auto fail = [&](const Status& s) -> Status {
    for (auto& submission : batch.submissions) submission->done(s);
    return s;
  };

  // 1. Where each id already is: in a batch still in flight, or (one MultiGet) in the store.
  std::deque<std::shared_ptr<const InFlightBatch>> pending;
  {
    std::lock_guard<std::mutex> lock(in_flight_mu_);
    pending = in_flight_;
  }
  auto find_pending = [&](std::string_view id) -> const InFlightBatch::Entry* {
    for (const auto& earlier : pending) {
      if (auto it = earlier->appended.find(id); it != earlier->appended.end()) return &it->second;
    }
    return nullptr;
  };
  std::vector<const InFlightBatch::Entry*> pending_hits;
  std::vector<std::string> keys;        // EventIdKey of every request, hashed once
  std::vector<std::string_view> lookup;
  std::vector<size_t> lookup_slot;  // request number of each lookup
  for (const auto& submission : batch.submissions) {
    for (const AppendRequest& request : submission->requests) {
      keys.push_back(EventIdKey(request.event_id));
      pending_hits.push_back(pending.empty() ? nullptr : find_pending(request.event_id));
      if (pending_hits.back() == nullptr) lookup_slot.push_back(pending_hits.size() - 1);
    }
  }
  for (size_t slot : lookup_slot) lookup.push_back(keys[slot]);
  std::vector<std::optional<uint64_t>> found;
  if (Status s = store_->FindEvents(lookup, &found); !s.ok()) return fail(s);
  std::vector<std::optional<uint64_t>> in_store(pending_hits.size());
  for (size_t i = 0; i < lookup.size(); ++i) in_store[lookup_slot[i]] = found[i];

  // 2. Sequence the new events; answer duplicates with the receipt they already have.
  const int64_t now = NowMicros();
  const uint64_t first_sequence = tree_.size();
  if (tree_.size() == last_checkpoint_size_) oldest_uncovered_micros_ = now;
  batch.appended.reserve(pending_hits.size());
  std::vector<std::pair<std::string_view, uint64_t>> new_keys;  // index records to write
  new_keys.reserve(pending_hits.size());
  std::string bytes;
  size_t slot = 0;
  for (auto& submission : batch.submissions) {
    submission->results.reserve(submission->requests.size());
    for (const AppendRequest& request : submission->requests) {
      const size_t i = slot++;
      const InFlightBatch::Entry* earlier = pending_hits[i];
      if (auto it = batch.appended.find(request.event_id); it != batch.appended.end()) {
        earlier = &it->second;
      }
      if (earlier != nullptr) {
        const AppendRequest& first = *earlier->request;
        const bool same = first.event == request.event && first.encoding == request.encoding &&
                          first.submitter_id == request.submitter_id;
        submission->results.push_back(
            {same ? AppendOutcome::kDuplicate : AppendOutcome::kConflict,
             Receipt{request.event_id, earlier->sequence, earlier->leaf_hash}});
        if (!same) RecordConflict(request, earlier->sequence, now, prepared->batch);
        continue;
      }
      if (in_store[i].has_value()) {
        auto existing = ExistingResult(request, *in_store[i]);
        if (!existing.ok()) return fail(existing.status());
        if (existing->outcome == AppendOutcome::kConflict) {
          RecordConflict(request, existing->receipt.sequence, now, prepared->batch);
        }
        submission->results.push_back(std::move(existing).value());
        continue;
      }
      const uint64_t sequence = tree_.size();
      v1::LedgerEntry& entry = scratch_entry_;
      entry.Clear();
      entry.set_format_version(kEntryFormatVersion);
      entry.set_sequence(sequence);
      entry.set_previous_hash(AsBytes(previous_hash_).data(), kSha256DigestBytes);
      entry.set_record_time_unix_micros(now);
      *entry.mutable_source() = request.source;
      entry.set_event_id(request.event_id);
      entry.set_submitter_id(request.submitter_id);
      entry.set_event_encoding(request.encoding);
      entry.set_event(request.event);
      bytes.clear();
      TL_ASSERT(entry.SerializeToString(&bytes));
      const Sha256Digest leaf = merkle::HashLeaf(bytes);
      tree_.AppendLeaf(leaf);
      TL_ASSERT(tree_.size() == sequence + 1);
      previous_hash_ = leaf;
      prepared->batch.PutEntry(sequence, bytes);
      batch.appended.emplace(request.event_id, InFlightBatch::Entry{sequence, leaf, &request});
      new_keys.emplace_back(keys[i], sequence);
      submission->results.push_back(
          {AppendOutcome::kAppended, Receipt{request.event_id, sequence, leaf}});
    }
    for (const SourcePosition& position : submission->positions) {
      prepared->batch.PutSourcePosition(position.stream, position.next_offset);
    }
    for (v1::Rejection& rejection : submission->rejections) {
      if (rejection.rejected_unix_micros() == 0) rejection.set_rejected_unix_micros(now);
      RecordRejection(rejection, prepared->batch);
    }
  }
  TL_ASSERT(tree_.size() == first_sequence + batch.appended.size());
  prepared->rejection_count = next_rejection_;
  // Index records go in key order: the memtable's skiplist then inserts each one next to the
  // previous (its sequential-insert splice) instead of searching from the top for each.
  std::sort(new_keys.begin(), new_keys.end());
  for (const auto& [key, sequence] : new_keys) prepared->batch.PutEventId(key, sequence);

  // 3. Tree tiles changed by this batch, and a checkpoint if one is due.
  prepared->tiles = tree_.TakeChangedTiles();
  for (const merkle::TileUpdate& update : prepared->tiles) {
    prepared->batch.PutTile(update.id, update.tile->Encode());
  }
  const uint64_t uncovered = tree_.size() - last_checkpoint_size_;
  if (uncovered > 0 && (force_checkpoint || uncovered >= options_.checkpoint_every_entries ||
                        now - oldest_uncovered_micros_ >=
                            int64_t{options_.checkpoint_interval_ms} * 1000)) {
    const ledger::Checkpoint checkpoint{metadata_.origin(), tree_.size(), tree_.Root(), {}};
    auto note = signer_->Sign(FormatCheckpoint(checkpoint));
    if (!note.ok()) return fail(note.status());
    prepared->batch.PutCheckpoint(tree_.size(), *note);
    prepared->checkpoint.emplace(tree_.size(), std::move(note).value());
    last_checkpoint_size_ = tree_.size();
  }
  prepared->tree_size = tree_.size();
  {
    std::lock_guard<std::mutex> lock(in_flight_mu_);
    in_flight_.push_back(prepared->in_flight);
  }
  return prepared;
}

// ---------------------------------------------------------------------------------------------
// Writer

void Ledger::WriterLoop() {
  while (true) {
    std::unique_ptr<PreparedBatch> prepared;
    {
      std::unique_lock<std::mutex> lock(write_mu_);
      write_cv_.wait(lock, [&] { return !write_queue_.empty() || sequencer_done_; });
      if (write_queue_.empty()) break;
      prepared = std::move(write_queue_.front());
      write_queue_.pop_front();
    }
    write_cv_.notify_all();
    {
      std::lock_guard<std::mutex> lock(queue_mu_);
      prepared->write_status = failed_;
    }
    // Durability comes from the syncer's fsync, which covers this batch and every one before.
    if (prepared->write_status.ok() && prepared->batch.Count() > 0) {
      const Status written = store_->Write(prepared->batch, LogStore::WalSync::kLater);
      // Stop at once: the batches behind this one were chained onto it and must not be written.
      if (!written.ok()) prepared->write_status = Stop(written);
    }
    {
      std::unique_lock<std::mutex> lock(sync_mu_);
      sync_cv_.wait(lock, [&] { return sync_queue_.size() < kMaxBatchesInFlight; });
      sync_queue_.push_back(std::move(prepared));
    }
    sync_cv_.notify_all();
  }
  {
    std::lock_guard<std::mutex> lock(sync_mu_);
    writer_done_ = true;
  }
  sync_cv_.notify_all();
}

void Ledger::SyncerLoop() {
  while (true) {
    std::deque<std::unique_ptr<PreparedBatch>> written;
    {
      std::unique_lock<std::mutex> lock(sync_mu_);
      sync_cv_.wait(lock, [&] { return !sync_queue_.empty() || writer_done_; });
      if (sync_queue_.empty()) break;
      written.swap(sync_queue_);  // one fsync for everything written so far
    }
    sync_cv_.notify_all();
    bool any_written = false;
    for (const auto& prepared : written) {
      any_written = any_written || (prepared->write_status.ok() && prepared->batch.Count() > 0);
    }
    Status synced;
    if (any_written) synced = store_->SyncWal();
    for (auto& prepared : written) {
      Status status = prepared->write_status.ok() ? synced : prepared->write_status;
      if (!status.ok()) {
        Fail(*prepared, status);
        continue;
      }
      Publish(*prepared);
      for (auto& submission : prepared->in_flight->submissions) {
        submission->done(std::move(submission->results));
      }
    }
  }
}

void Ledger::Publish(PreparedBatch& prepared) {
  for (merkle::TileUpdate& update : prepared.tiles) {
    tile_cache_.Put(update.id, std::move(update.tile));
  }
  if (prepared.checkpoint.has_value()) {
    std::lock_guard<std::mutex> lock(checkpoint_mu_);
    latest_checkpoint_size_ = prepared.checkpoint->first;
    latest_checkpoint_ = std::move(prepared.checkpoint->second);
  }
  {
    std::lock_guard<std::mutex> lock(commit_mu_);
    committed_size_.store(prepared.tree_size, std::memory_order_release);
    committed_rejections_.store(prepared.rejection_count, std::memory_order_release);
  }
  commit_cv_.notify_all();
  // Only now that the batch is in the store may the sequencer stop finding its ids here.
  std::lock_guard<std::mutex> lock(in_flight_mu_);
  TL_ASSERT(!in_flight_.empty());
  TL_ASSERT(in_flight_.front() == prepared.in_flight);
  in_flight_.pop_front();
}

Status Ledger::Stop(const Status& cause) {
  Status stopped;
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (failed_.ok()) {
      failed_ = Status(cause.code(),
                       "ledger stopped after a failed write (reopen it): " + cause.message());
    }
    stopped = failed_;
  }
  queue_space_cv_.notify_all();
  return stopped;
}

void Ledger::Fail(PreparedBatch& prepared, const Status& status) {
  const Status failure = Stop(status);
  {
    std::lock_guard<std::mutex> lock(in_flight_mu_);
    TL_ASSERT(!in_flight_.empty());
    TL_ASSERT(in_flight_.front() == prepared.in_flight);
    in_flight_.pop_front();
  }
  for (auto& submission : prepared.in_flight->submissions) submission->done(failure);
}

Status Ledger::Close() {
  {
    std::lock_guard<std::mutex> lock(close_mu_);
    if (closed_) return Status::Ok();
    closed_ = true;
  }
  {
    std::lock_guard<std::mutex> lock(commit_mu_);
    closing_ = true;
  }
  commit_cv_.notify_all();
  if (read_only()) return Status::Ok();
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  queue_space_cv_.notify_all();
  // Why joinable(): a ledger whose Open failed in Recover() never started its threads, and its
  // destructor still comes through here.
  for (std::thread* thread : {&sequencer_, &writer_, &syncer_}) {
    if (thread->joinable()) thread->join();
  }
  std::lock_guard<std::mutex> lock(queue_mu_);
  return failed_;
}

// ---------------------------------------------------------------------------------------------
// Reads

Result<std::shared_ptr<const merkle::Tile>> Ledger::LoadTile(merkle::TileId id, uint32_t row,
                                                             uint32_t position) const {
  std::shared_ptr<const merkle::Tile> tile = tile_cache_.Get(id);
  if (tile != nullptr && tile->HasNode(row, position)) return tile;
  TL_ASSIGN_OR_RETURN(std::optional<merkle::Tile> stored, store_->GetTile(id));
  const std::string name = "tile " + std::to_string(id.level) + "/" + std::to_string(id.index);
  if (!stored.has_value()) return Status::DataLoss(name + " is missing");
  tile = tile_cache_.Put(id, std::make_shared<const merkle::Tile>(std::move(*stored)));
  if (!tile->HasNode(row, position)) {
    return Status::DataLoss(name + " lacks row " + std::to_string(row) + " position " +
                            std::to_string(position) + " of the committed tree");
  }
  return tile;
}

Result<std::string> Ledger::GetEntry(uint64_t sequence) const {
  const uint64_t committed = size();
  if (sequence >= committed) {
    return Status::OutOfRange("entry " + Seq(sequence) + " does not exist; the log has " +
                              Seq(committed) + " entries");
  }
  TL_ASSIGN_OR_RETURN(std::optional<std::string> bytes, store_->GetEntry(sequence));
  if (!bytes.has_value()) return Status::DataLoss("entry " + Seq(sequence) + " is missing");
  return std::move(*bytes);
}

Result<std::optional<uint64_t>> Ledger::FindEvent(std::string_view event_id) const {
  TL_ASSIGN_OR_RETURN(std::optional<uint64_t> sequence, store_->FindEvent(event_id));
  // An id can be in the index a moment before size() covers it; report only committed ones.
  if (!sequence.has_value() || *sequence >= size()) return std::optional<uint64_t>();
  TL_ASSIGN_OR_RETURN(std::string bytes, GetEntry(*sequence));
  v1::LedgerEntry entry;
  if (!entry.ParseFromString(bytes) || entry.event_id() != event_id) {
    return Status::DataLoss("the event id index points \"" + std::string(event_id) +
                            "\" at entry " + Seq(*sequence) + ", which holds another event");
  }
  return sequence;
}

Result<Sha256Digest> Ledger::LeafHash(uint64_t sequence) {
  if (sequence >= size()) {
    return Status::OutOfRange("entry " + Seq(sequence) + " does not exist; the log has " +
                              Seq(size()) + " entries");
  }
  StoredNodes nodes(*this);
  return nodes.GetNode(0, sequence);
}

Result<Sha256Digest> Ledger::RootHash(uint64_t tree_size) {
  if (tree_size > size()) {
    return Status::OutOfRange("tree size " + Seq(tree_size) + " is beyond the log's " +
                              Seq(size()) + " entries");
  }
  StoredNodes nodes(*this);
  return merkle::RootHash(nodes, tree_size);
}

Result<std::vector<Sha256Digest>> Ledger::ProveInclusion(uint64_t sequence, uint64_t tree_size) {
  if (tree_size > size()) {
    return Status::OutOfRange("tree size " + Seq(tree_size) + " is beyond the log's " +
                              Seq(size()) + " entries");
  }
  StoredNodes nodes(*this);
  return merkle::InclusionProof(nodes, sequence, tree_size);
}

Result<std::vector<Sha256Digest>> Ledger::ProveConsistency(uint64_t from, uint64_t to) {
  if (to > size()) {
    return Status::OutOfRange("tree size " + Seq(to) + " is beyond the log's " + Seq(size()) +
                              " entries");
  }
  StoredNodes nodes(*this);
  return merkle::ConsistencyProof(nodes, from, to);
}

Result<std::string> Ledger::LatestCheckpoint() const {
  std::lock_guard<std::mutex> lock(checkpoint_mu_);
  if (latest_checkpoint_.empty()) return Status::NotFound("no checkpoint has been signed");
  return latest_checkpoint_;
}

Result<std::string> Ledger::CheckpointAt(uint64_t tree_size) const {
  TL_ASSIGN_OR_RETURN(std::optional<std::string> note,
                      store_->Get(Family::kCheckpoints, CheckpointKey(tree_size)));
  if (!note.has_value()) {
    return Status::NotFound("no checkpoint was signed at tree size " + Seq(tree_size));
  }
  return std::move(*note);
}

Result<std::optional<int64_t>> Ledger::GetSourcePosition(std::string_view stream) const {
  return store_->GetSourcePosition(stream);
}

Status Ledger::ScanEntries(uint64_t from, uint64_t to,
                           const std::function<bool(uint64_t, std::string_view)>& visit) const {
  return store_->Scan(Family::kEntries, from, std::min(to, size()), visit);
}

Status Ledger::ScanRejections(uint64_t from, uint64_t to,
                              const std::function<bool(uint64_t, std::string_view)>& visit) const {
  return store_->Scan(Family::kRejections, from, std::min(to, rejection_count()), visit);
}

bool Ledger::WaitForCommit(uint64_t entries_seen, uint64_t rejections_seen,
                           std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(commit_mu_);
  return commit_cv_.wait_for(lock, timeout, [&] {
    return closing_.load() || size() > entries_seen || rejection_count() > rejections_seen;
  }) && !closing_.load();
}

}  // namespace traceledger::ledger
