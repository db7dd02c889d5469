// File: ledger/ledger.h
//
// Ledger: the append-only, hash-chained log with its RFC 6962 Merkle tree and signed
// checkpoints (docs/ARCHITECTURE.md, docs/formats/). Start reading here.
//
//  - Append() is group commit: requests from all callers are sequenced into batches of up to
//    max_batch_records; each batch (entries, event-id index, tree tiles, source positions and
//    any checkpoint) is one RocksDB WriteBatch. A caller is answered only after its batch is
//    durable (WAL fsync'd). Three threads form a pipeline: the sequencer prepares batch k+2
//    while the writer applies batch k+1 and the syncer fsyncs the WAL up to batch k
//    (docs/decisions/0002-group-commit-pipeline.md).
//  - An event id already in the log (or in a batch still in flight) is not appended again: the
//    caller gets the existing receipt (kDuplicate) or, if the bytes or submitter differ,
//    kConflict with the existing receipt.
//  - Entry n stores previous_hash = leaf_hash(n-1), so the entries form a hash chain, and is
//    leaf n of the Merkle tree. Checkpoints are signed after every checkpoint_every_entries
//    entries or checkpoint_interval_ms, whichever first, and on Close(); all are kept.
//  - Proofs read O(log n) stored tree nodes through a tile cache; they never rehash the log.
//
// Thread-safety: all public methods are thread-safe. Appends are serialized internally; reads
// see a consistent committed tree size (size()).
//
// Failure model: if a batch write fails, the ledger stops accepting appends (every waiting
// and later caller gets the error) because batches prepared after it were chained onto it.
// Reopen to recover: recovery reads the last durable state from RocksDB.
#ifndef TRACELEDGER_LEDGER_LEDGER_H_
#define TRACELEDGER_LEDGER_LEDGER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "ledger/base/status.h"
#include "ledger/base/types.h"
#include "ledger/checkpoint.h"
#include "ledger/log_store.h"
#include "ledger/merkle/tree_builder.h"
#include "ledger/signed_note.h"
#include "ledger/tile_cache.h"
#include "tl/v1/ledger.pb.h"

namespace traceledger::ledger {

inline constexpr size_t kMaxEventIdBytes = 256;
inline constexpr size_t kMaxSubmitterIdBytes = 256;

struct LedgerOptions {
  // Most requests in one Append call and in one write batch.
  size_t max_batch_records = 1000;
  // Requests waiting to be sequenced; AppendAsync blocks while this many wait (back-pressure).
  size_t max_queued_records = 100000;
  // Largest event accepted, in bytes.
  size_t max_event_bytes = size_t{1} << 20;
  // Sign a checkpoint once this many entries are not covered by the latest one...
  uint64_t checkpoint_every_entries = 1000;
  // ...or once the oldest uncovered entry is this old.
  uint32_t checkpoint_interval_ms = 1000;
  // Decoded Merkle tiles kept in memory for proofs (16 KiB each).
  size_t tile_cache_bytes = size_t{256} << 20;
  StoreOptions store;
  // Wall clock for record times and checkpoint timing, in microseconds since the epoch.
  std::function<int64_t()> clock_unix_micros;
};

// What to do when an event id is already logged with other bytes or another submitter.
enum class OnConflict {
  kAnswer,                    // answer kConflict with the existing receipt
  kAnswerAndRecordRejection,  // also record a Rejection (rule "conflict") in the outbox
};

// One event to append. The ledger does not parse the event: callers (ingest/, api/) validate
// it and extract its id and submitter first.
struct AppendRequest {
  std::string event_id;
  std::string submitter_id;
  v1::EventEncoding encoding = v1::EVENT_ENCODING_UNSPECIFIED;
  std::string event;  // exact bytes as submitted
  v1::Source source;
  OnConflict on_conflict = OnConflict::kAnswer;
};

struct Receipt {
  std::string event_id;
  uint64_t sequence = 0;
  Sha256Digest leaf_hash{};
  friend bool operator==(const Receipt&, const Receipt&) = default;
};

enum class AppendOutcome {
  kAppended,   // a new entry; the receipt is its own
  kDuplicate,  // same event id, bytes and submitter already logged; the existing receipt
  kConflict,   // same event id already logged with other bytes or submitter; existing receipt
};
std::string_view AppendOutcomeName(AppendOutcome outcome);

struct AppendResult {
  AppendOutcome outcome = AppendOutcome::kAppended;
  Receipt receipt;
};

// A consumer position stored atomically with the entries of the same Append call, e.g.
// stream "kafka/traceledger.events/3" -> next offset to read.
struct SourcePosition {
  std::string stream;
  int64_t next_offset = 0;
};

// Everything one caller commits atomically: events to append, consumer positions, and
// rejections for the rejection outbox (their sequence numbers are assigned by the ledger).
struct AppendCall {
  std::vector<AppendRequest> requests;
  std::vector<SourcePosition> positions;
  std::vector<v1::Rejection> rejections;
};

class Ledger {
 public:
  using AppendCallback = std::function<void(Result<std::vector<AppendResult>>)>;

  // Creates a new empty ledger in `db_dir` whose checkpoints have `origin` and are signed by
  // `signer` (whose key name must equal the origin). AlreadyExists if one is there.
  static Result<std::unique_ptr<Ledger>> Create(const std::string& db_dir, std::string origin,
                                                const NoteSigner& signer, LedgerOptions options);
  // Opens an existing ledger. With a signer it is writable (the signer must be the log's key:
  // FailedPrecondition otherwise); without one it is read-only and Append fails.
  // DataLoss if the stored state is inconsistent (run audit).
  static Result<std::unique_ptr<Ledger>> Open(const std::string& db_dir,
                                              std::optional<NoteSigner> signer,
                                              LedgerOptions options);
  // Opens a read-only follower of a ledger another process is writing (a RocksDB secondary
  // instance keeping its own files in `follower_dir`); Refresh() brings it up to date.
  static Result<std::unique_ptr<Ledger>> OpenFollower(const std::string& db_dir,
                                                      const std::string& follower_dir,
                                                      LedgerOptions options);
  // Followers: catches up with the writer (entries, tree, checkpoint, rejections).
  // FailedPrecondition for a ledger that is not a follower.
  Status Refresh();
  ~Ledger();
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  // Appends and blocks until the call is durable. One result per request, in order.
  // InvalidArgument for a malformed request (nothing of the call is appended),
  // ResourceExhausted over max_batch_records, FailedPrecondition if read-only or closed.
  Result<std::vector<AppendResult>> Append(AppendCall call);
  Result<std::vector<AppendResult>> Append(std::vector<AppendRequest> requests,
                                           std::vector<SourcePosition> positions = {});
  // As Append, but returns at once; `done` runs on the ledger's syncer thread after the batch
  // is durable (keep it short). Blocks only while max_queued_records are already waiting.
  void AppendAsync(AppendCall call, AppendCallback done);

  // Committed (durable) number of entries.
  uint64_t size() const { return committed_size_.load(std::memory_order_acquire); }
  const v1::LogMetadata& metadata() const { return metadata_; }
  const NoteVerifier& verifier() const { return verifier_; }
  bool read_only() const { return !signer_.has_value(); }
  bool follower() const { return follower_; }

  // The exact stored bytes of entry `sequence`. OutOfRange if sequence >= size().
  Result<std::string> GetEntry(uint64_t sequence) const;
  // Sequence of `event_id` if it is in the committed log. DataLoss if the index points the id
  // at an entry holding another id.
  Result<std::optional<uint64_t>> FindEvent(std::string_view event_id) const;
  Result<Sha256Digest> LeafHash(uint64_t sequence);
  // Root of the tree of the first `tree_size` entries. OutOfRange if tree_size > size().
  Result<Sha256Digest> RootHash(uint64_t tree_size);
  // InvalidArgument unless sequence < tree_size; OutOfRange if tree_size > size().
  Result<std::vector<Sha256Digest>> ProveInclusion(uint64_t sequence, uint64_t tree_size);
  // InvalidArgument unless from <= to; OutOfRange if to > size().
  Result<std::vector<Sha256Digest>> ProveConsistency(uint64_t from, uint64_t to);

  // Signs and stores a checkpoint of everything appended so far (waiting for in-flight
  // batches), unless the latest checkpoint already covers it; returns the latest note.
  Result<std::string> Checkpoint();
  // The newest stored checkpoint note; NotFound if none has been signed yet.
  Result<std::string> LatestCheckpoint() const;
  // The stored checkpoint of exactly `tree_size`; NotFound if none was signed at that size.
  Result<std::string> CheckpointAt(uint64_t tree_size) const;

  // The stored position of `stream`, if any (see SourcePosition). It may already include a
  // batch that is written but not yet durable; after a crash it is that batch's predecessor's.
  Result<std::optional<int64_t>> GetSourcePosition(std::string_view stream) const;

  // Committed (durable) number of rejections in the outbox.
  uint64_t rejection_count() const { return committed_rejections_.load(std::memory_order_acquire); }
  // Calls visit(sequence, exact bytes) for committed entries [from, min(to, size())), in order,
  // until visit returns false.
  Status ScanEntries(uint64_t from, uint64_t to,
                     const std::function<bool(uint64_t, std::string_view)>& visit) const;
  // The same over committed rejections (traceledger.v1.Rejection bytes).
  Status ScanRejections(uint64_t from, uint64_t to,
                        const std::function<bool(uint64_t, std::string_view)>& visit) const;
  // Waits until size() > entries_seen or rejection_count() > rejections_seen, the ledger is
  // closing, or `timeout` passes. Returns true if there is something new.
  bool WaitForCommit(uint64_t entries_seen, uint64_t rejections_seen,
                     std::chrono::milliseconds timeout) const;

  // Drains queued appends, signs a final checkpoint if entries are uncovered, stops the
  // threads. Later appends fail with FailedPrecondition. Idempotent.
  Status Close();

  const LogStore& store() const { return *store_; }

 private:
  struct Submission;
  struct PreparedBatch;
  struct InFlightBatch;
  class StoredNodes;

  Ledger(std::unique_ptr<LogStore> store, v1::LogMetadata metadata, NoteVerifier verifier,
         std::optional<NoteSigner> signer, LedgerOptions options);
  static Result<std::unique_ptr<Ledger>> OpenStore(std::unique_ptr<LogStore> store,
                                                   std::optional<NoteSigner> signer,
                                                   LedgerOptions options);
  Status Recover();
  // Leaf `sequence` of the stored tree: from the builder's edge, else from its stored tile.
  Result<Sha256Digest> StoredLeaf(uint64_t sequence);
  void StartThreads();
  Status ValidateRequests(const std::vector<AppendRequest>& requests) const;
  // What a submission weighs against max_batch_records and max_queued_records.
  static size_t Records(const Submission& submission);
  int64_t NowMicros() const;

  // Sequencer thread: turns queued submissions into prepared batches.
  void SequencerLoop();
  Result<std::unique_ptr<PreparedBatch>> Prepare(
      std::vector<std::shared_ptr<Submission>> submissions, bool force_checkpoint);
  Result<AppendResult> ExistingResult(const AppendRequest& request, uint64_t sequence);
  // Assign the next outbox sequence to `rejection` and add it to `batch`.
  void RecordRejection(v1::Rejection& rejection, LogStore::Batch& batch);
  void RecordConflict(const AppendRequest& request, uint64_t existing_sequence, int64_t now,
                      LogStore::Batch& batch);
  // Writer thread: applies prepared batches to RocksDB (WAL + memtables), in order.
  void WriterLoop();
  // Syncer thread: fsyncs the WAL over every written batch, then publishes them and answers
  // their callers, in order.
  void SyncerLoop();
  void Publish(PreparedBatch& batch);
  void Fail(PreparedBatch& batch, const Status& status);
  // Puts the ledger in the failed state (first cause wins); returns the state's status.
  Status Stop(const Status& cause);
  Result<std::shared_ptr<const merkle::Tile>> LoadTile(merkle::TileId id, uint32_t row,
                                                       uint32_t position) const;

  const std::unique_ptr<LogStore> store_;
  const v1::LogMetadata metadata_;
  const NoteVerifier verifier_;
  const std::optional<NoteSigner> signer_;
  const LedgerOptions options_;
  mutable TileCache tile_cache_;

  std::atomic<uint64_t> committed_size_{0};
  std::atomic<uint64_t> committed_rejections_{0};
  mutable std::mutex commit_mu_;                // pairs with commit_cv_ for WaitForCommit
  mutable std::condition_variable commit_cv_;
  std::atomic<bool> closing_{false};
  bool follower_ = false;
  std::mutex refresh_mu_;  // serializes Refresh()

  // Sequencer state: touched only by the sequencer thread (and Recover before it starts).
  merkle::TreeBuilder tree_;
  Sha256Digest previous_hash_{};
  uint64_t last_checkpoint_size_ = 0;   // prepared checkpoints included
  uint64_t next_rejection_ = 0;          // rejection outbox sequence, prepared ones included
  int64_t oldest_uncovered_micros_ = 0;  // record time of the first entry after it
  v1::LedgerEntry scratch_entry_;

  // Batches prepared but not yet durable, oldest first: the sequencer answers a duplicate of
  // an id they hold (not yet in the store) from them. Popped by the writer once durable.
  std::mutex in_flight_mu_;
  std::deque<std::shared_ptr<const InFlightBatch>> in_flight_;  // guarded by in_flight_mu_

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;         // sequencer waits for work
  std::condition_variable queue_space_cv_;   // producers wait for space
  std::deque<std::shared_ptr<Submission>> queue_;  // guarded by queue_mu_
  size_t queued_records_ = 0;                      // guarded by queue_mu_
  bool stopping_ = false;                          // guarded by queue_mu_
  Status failed_;                                  // guarded by queue_mu_

  std::mutex write_mu_;
  std::condition_variable write_cv_;
  std::deque<std::unique_ptr<PreparedBatch>> write_queue_;  // guarded by write_mu_
  bool sequencer_done_ = false;                             // guarded by write_mu_

  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  std::deque<std::unique_ptr<PreparedBatch>> sync_queue_;  // guarded by sync_mu_
  bool writer_done_ = false;                               // guarded by sync_mu_

  mutable std::mutex checkpoint_mu_;
  uint64_t latest_checkpoint_size_ = 0;  // guarded by checkpoint_mu_ (committed)
  std::string latest_checkpoint_;        // guarded by checkpoint_mu_

  std::thread sequencer_;
  std::thread writer_;
  std::thread syncer_;
  std::mutex close_mu_;
  bool closed_ = false;  // guarded by close_mu_
};

}  // namespace traceledger::ledger

#endif  // TRACELEDGER_LEDGER_LEDGER_H_
