#include "projections/runner.h"

#include <google/protobuf/arena.h>
#include <rocksdb/db.h>

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <utility>

#include <spdlog/spdlog.h>

#include "projections/internal/decode_blocks.h"
#include "projections/internal/key_filter.h"
#include "projections/internal/pending_rows.h"
#include "projections/internal/task_thread.h"

// jemalloc's control interface, if the binary is linked with jemalloc (cmake/
// jemalloc_options.cc): weak, so null in the tests and sanitizer builds, which are not.
extern "C" int mallctl(const char* name, void* old_value, size_t* old_size, void* new_value,
                       size_t new_size) __attribute__((weak));

namespace traceledger::projections {
namespace {

constexpr std::chrono::milliseconds kFollowerPoll{100};

class LedgerSource : public EntrySource {
 public:
  explicit LedgerSource(ledger::Ledger& ledger) : ledger_(ledger) {}
  uint64_t size() override { return ledger_.size(); }
  Status Scan(uint64_t from, uint64_t to,
              const std::function<bool(uint64_t, std::string_view)>& visit) override {
    return ledger_.ScanEntries(from, to, visit);
  }
  bool WaitForMore(uint64_t seen, std::chrono::milliseconds timeout) override {
    if (!ledger_.follower()) return ledger_.WaitForCommit(seen, ledger_.rejection_count(), timeout);
    // A follower learns about new entries only by catching up with the writer's files.
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      // Why: a failed refresh (e.g. the writer is compacting a file away) is retried next poll.
      ledger_.Refresh().IgnoreError();
      if (ledger_.size() > seen) return true;
      std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(
          kFollowerPoll, std::chrono::duration_cast<std::chrono::milliseconds>(
                             deadline - std::chrono::steady_clock::now())));
    }
    return ledger_.size() > seen;
  }

 private:
  ledger::Ledger& ledger_;
};

}  // namespace

std::unique_ptr<EntrySource> LedgerEntrySource(ledger::Ledger& ledger) {
  return std::make_unique<LedgerSource>(ledger);
}

ProjectionRunner::ProjectionRunner()
    : loader_(std::make_unique<TaskThread>(/*nice=*/19)),
      reaper_(std::make_unique<TaskThread>(/*nice=*/19)) {}

ProjectionRunner::~ProjectionRunner() = default;

Result<std::unique_ptr<ProjectionRunner>> ProjectionRunner::Open(
    const std::string& views_dir, std::vector<std::unique_ptr<Projection>> projections,
    RunnerOptions options) {
  std::unique_ptr<ProjectionRunner> runner(new ProjectionRunner());
  runner->options_ = std::move(options);
  // Order: every projection after the ones it depends on.
  std::map<std::string, std::unique_ptr<Projection>> pending;
  for (auto& projection : projections) {
    const std::string name(projection->name());
    if (name.empty() || pending.count(name) > 0) {
      return Status::InvalidArgument("projection names must be unique and non-empty: \"" + name +
                                     "\"");
    }
    pending.emplace(name, std::move(projection));
  }
  std::set<std::string> placed;
  while (!pending.empty()) {
    bool progress = false;
    for (auto it = pending.begin(); it != pending.end();) {
      bool ready = true;
      for (const std::string& dependency : it->second->dependencies()) {
        if (placed.count(dependency) == 0) ready = false;
      }
      if (!ready) {
        ++it;
        continue;
      }
      placed.insert(it->first);
      runner->slots_.emplace_back().projection = std::move(it->second);
      it = pending.erase(it);
      progress = true;
    }
    if (!progress) {
      return Status::InvalidArgument("projection dependencies are missing or circular (" +
                                     pending.begin()->first + ")");
    }
  }
  // Groups: views connected by dependencies (either way), each in slot order.
  {
    std::vector<size_t> group_of(runner->slots_.size());
    for (size_t i = 0; i < runner->slots_.size(); ++i) group_of[i] = i;
    auto root = [&](size_t i) {
      while (group_of[i] != i) i = group_of[i];
      return i;
    };
    for (size_t i = 0; i < runner->slots_.size(); ++i) {
      for (const std::string& dependency : runner->slots_[i].projection->dependencies()) {
        for (size_t j = 0; j < i; ++j) {
          if (runner->slots_[j].projection->name() == dependency) group_of[root(i)] = root(j);
        }
      }
    }
    std::map<size_t, size_t> index_of_root;
    for (size_t i = 0; i < runner->slots_.size(); ++i) {
      auto [it, inserted] = index_of_root.try_emplace(root(i), runner->groups_.size());
      if (inserted) runner->groups_.emplace_back();
      runner->groups_[it->second].slots.push_back(i);
    }
  }
  TL_ASSIGN_OR_RETURN(runner->store_,
                      ViewStore::Open(views_dir, runner->names(), ViewStore::Mode::kReadWrite));
  for (Slot& slot : runner->slots_) {
    const std::string name(slot.projection->name());
    TL_ASSIGN_OR_RETURN(std::optional<v1::ProjectionCursor> cursor, runner->store_->Cursor(name));
    if (cursor.has_value() && cursor->version() == slot.projection->version()) {
      slot.next = cursor->next_sequence();
    } else {
      if (cursor.has_value()) TL_RETURN_IF_ERROR(runner->store_->Reset(name));
      slot.next = 0;
    }
  }
  // A view is never ahead of one it depends on (e.g. after one of them was reset).
  for (Slot& slot : runner->slots_) {
    for (const std::string& dependency : slot.projection->dependencies()) {
      if (runner->NextSequence(dependency) < slot.next) {
        TL_RETURN_IF_ERROR(runner->store_->Reset(slot.projection->name()));
        slot.next = 0;
      }
    }
  }
  // The views found empty (new, reset, or never written) start their key filters; the others
  // are read from the database as they are.
  for (Slot& slot : runner->slots_) {
    bool has_rows = false;
    TL_RETURN_IF_ERROR(runner->store_->ForEach(slot.projection->name(),
                                               [&](std::string_view key, std::string_view) {
                                                 has_rows = key != kCursorKey;
                                                 return !has_rows;
                                               }));
    slot.stored_keys = std::make_unique<KeyFilter>();
    slot.stored_prefixes = std::make_unique<KeyFilter>();
    slot.keys_complete = !has_rows;
  }
  return runner;
}

std::vector<std::string> ProjectionRunner::names() const {
  std::vector<std::string> out;
  for (const Slot& slot : slots_) out.emplace_back(slot.projection->name());
  return out;
}

uint64_t ProjectionRunner::NextSequence(std::string_view name) const {
  for (const Slot& slot : slots_) {
    if (slot.projection->name() == name) return slot.next;
  }
  return 0;
}

uint64_t ProjectionRunner::Lag(uint64_t head) const {
  uint64_t lag = 0;
  for (const Slot& slot : slots_) lag = std::max(lag, head > slot.next ? head - slot.next : 0);
  return lag;
}

struct ProjectionRunner::DecodedEntry {
  uint64_t sequence = 0;
  v1::LedgerEntry* entry = nullptr;  // in the batch's arenas
  v1::Event* event = nullptr;        // likewise; null if the event does not decode
  EventFacts facts;
};

// A batch's decoded entries and the protobuf arenas their messages live in: the messages are
// freed with their arena blocks, not one by one (freeing a batch's entries message by message
// was ~5 % of a catch-up's CPU, on one core while the other waited: docs/BENCHMARKS.md,
// "session 16").
struct ProjectionRunner::DecodedBatch {
  std::vector<std::unique_ptr<google::protobuf::Arena>> arenas;
  std::vector<DecodedEntry> entries;
};

namespace {

// Gives the memory malloc holds freed back to the system; returns how many bytes that was (0
// without jemalloc). jemalloc keeps freed pages until then (dirty_decay_ms:-1 in cmake/
// jemalloc_options.cc), so that a catch-up's batches reuse them instead of faulting fresh
// zeroed pages in; once a catch-up is over, following the head needs far less.
uint64_t GiveBackFreedMemory() {
  if (mallctl == nullptr) return 0;
  // Statistics are refreshed by writing to "epoch"; 4096 is MALLCTL_ARENAS_ALL: every arena.
  uint64_t epoch = 1;
  size_t epoch_size = sizeof(epoch);
  size_t dirty_pages = 0;
  size_t dirty_size = sizeof(dirty_pages);
  size_t page = 0;
  size_t page_size = sizeof(page);
  if (mallctl("epoch", &epoch, &epoch_size, &epoch, epoch_size) != 0 ||
      mallctl("stats.arenas.4096.pdirty", &dirty_pages, &dirty_size, nullptr, 0) != 0 ||
      mallctl("arenas.page", &page, &page_size, nullptr, 0) != 0) {
    dirty_pages = 0;
  }
  if (mallctl("arena.4096.purge", nullptr, nullptr, nullptr, 0) != 0) return 0;
  return uint64_t{dirty_pages} * page;
}

// Arena blocks: a chunk's events take a few hundred KiB. They come from DecodeBlocks, which
// keeps the blocks of the batches freed for the next ones.
std::unique_ptr<google::protobuf::Arena> NewDecodeArena() {
  google::protobuf::ArenaOptions options;
  options.start_block_size = DecodeBlocks::kFirst;
  options.max_block_size = DecodeBlocks::kLast;
  options.block_alloc = &DecodeBlocks::Allocate;
  options.block_dealloc = &DecodeBlocks::Free;
  return std::make_unique<google::protobuf::Arena>(options);
}

}  // namespace

TaskThread& ProjectionRunner::Helper(size_t i) {
  while (helpers_.size() <= i) helpers_.push_back(std::make_unique<TaskThread>());
  return *helpers_[i];
}

size_t ProjectionRunner::ApplyThreads() const {
  size_t threads = options_.apply_threads;
  if (threads == 0) threads = std::max<size_t>(1, std::thread::hardware_concurrency());
  return std::min(threads, kMaxApplyThreads);
}

// The entries [from, to) of a source: read in order by one thread (Read), then decoded (their
// events and facts) a chunk at a time by every thread that has nothing better to do: the
// loader, and the apply threads once they are done with the batch before (Help). Why: a batch
// is loaded while the one before is applied, by a thread below the apply threads' priority;
// the two apply threads seldom finish together, and when the second one did, it waited for
// the loader to finish decoding alone while the other core had nothing to do (~15 % of a
// batch's time at 2 M events). Measured: catch-ups that are mostly decoding +35 %; the build
// of all views within noise (docs/BENCHMARKS.md, "session 13").
class ProjectionRunner::BatchLoad {
 public:
  BatchLoad(const EventDecoder& decoder, uint64_t from, uint64_t to)
      : decoder_(decoder), from_(from), to_(to) {}
  BatchLoad(const BatchLoad&) = delete;
  BatchLoad& operator=(const BatchLoad&) = delete;

  // Reads the entries, then decodes with Help. One thread.
  void Read(EntrySource& source) {
    DecodedBatch batch;
    batch.entries.reserve(to_ - from_);
    google::protobuf::Arena* arena = batch.arenas.emplace_back(NewDecodeArena()).get();
    Status failure;
    Status scanned = source.Scan(from_, to_, [&](uint64_t sequence, std::string_view bytes) {
      DecodedEntry& decoded = batch.entries.emplace_back();
      decoded.sequence = sequence;
      decoded.entry = google::protobuf::Arena::CreateMessage<v1::LedgerEntry>(arena);
      if (!decoded.entry->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
        failure = Status::DataLoss("entry " + std::to_string(sequence) + " does not decode");
        return false;
      }
      return true;
    });
    if (scanned.ok()) scanned = failure;
    if (scanned.ok() && batch.entries.size() != to_ - from_) {
      scanned = Status::DataLoss("entries [" + std::to_string(from_) + ", " +
                                 std::to_string(to_) + ") are committed but " +
                                 std::to_string(batch.entries.size()) + " were read");
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      status_ = std::move(scanned);
      if (status_.ok()) {
        chunks_ = chunks();
        // An arena per chunk, made by the thread decoding it.
        chunk_arenas_ = batch.arenas.size();
        batch.arenas.resize(chunk_arenas_ + chunks_);
        batch_ = std::move(batch);
      }
      read_.store(true, std::memory_order_release);
    }
    changed_.notify_all();
    Help();
  }

  // Decodes chunks no other thread has taken, until none is left. Returns at once if the
  // entries are not read yet.
  void Help() {
    if (!read_.load(std::memory_order_acquire)) return;
    for (;;) {
      const size_t chunk = next_chunk_.fetch_add(1);
      if (chunk >= chunks_) return;
      std::unique_ptr<google::protobuf::Arena>& arena = batch_.arenas[chunk_arenas_ + chunk];
      arena = NewDecodeArena();
      const size_t end = std::min(batch_.entries.size(), (chunk + 1) * kChunk);
      for (size_t k = chunk * kChunk; k < end; ++k) {
        DecodedEntry& decoded = batch_.entries[k];
        auto* event = google::protobuf::Arena::CreateMessage<v1::Event>(arena.get());
        if (decoder_(decoded.entry->event_encoding(), decoded.entry->event(), event).ok()) {
          decoded.event = event;
          decoded.facts = FactsOf(*event);
        }
      }
      bool all_done = false;
      {
        std::lock_guard<std::mutex> lock(mu_);
        all_done = ++chunks_done_ == chunks_;
      }
      if (all_done) changed_.notify_all();
    }
  }

  // Waits until the entries are read (or could not be), then helps decode them.
  void HelpWhenRead() {
    {
      std::unique_lock<std::mutex> lock(mu_);
      changed_.wait(lock, [&] { return read_.load(std::memory_order_relaxed); });
    }
    Help();
  }

  // Helps decode the entries once read, and waits for the chunks other threads are decoding;
  // then the entries, or why they could not be read. Once.
  Result<DecodedBatch> Take() {
    HelpWhenRead();
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [&] { return chunks_done_ == chunks_; });
    TL_RETURN_IF_ERROR(status_);
    return std::move(batch_);
  }

  static constexpr size_t kChunk = 256;  // entries a thread decodes at a time
  size_t chunks() const { return (to_ - from_ + kChunk - 1) / kChunk; }  // once read

 private:
  const EventDecoder& decoder_;
  const uint64_t from_;
  const uint64_t to_;
  // Written by Read before read_ is set, then only the entries and arenas of a chunk, by the
  // thread decoding it.
  DecodedBatch batch_;
  size_t chunk_arenas_ = 0;  // batch_.arenas[chunk_arenas_ + c]: chunk c's
  size_t chunks_ = 0;
  std::atomic<bool> read_{false};
  std::atomic<size_t> next_chunk_{0};
  std::mutex mu_;
  std::condition_variable changed_;  // read_ set, or the last chunk decoded
  Status status_;                    // of Read; guarded by mu_
  size_t chunks_done_ = 0;           // guarded by mu_
};

Status ProjectionRunner::ApplyBatch(const std::vector<DecodedEntry>& entries, uint64_t to,
                                    uint64_t head, BatchLoad* next) {
  size_t threads = ApplyThreads();
  // Share the groups with work to do among the threads, the costliest first, each to the
  // least loaded thread (by their recent apply times). Which thread applies a view does not
  // change its rows.
  std::vector<size_t> order;
  for (size_t g = 0; g < groups_.size(); ++g) {
    for (size_t slot : groups_[g].slots) {
      if (slots_[slot].next < to) {
        order.push_back(g);
        break;
      }
    }
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return groups_[a].seconds > groups_[b].seconds; });
  threads = std::min(threads, std::max<size_t>(1, order.size()));
  std::vector<std::vector<size_t>> assigned(threads);
  std::vector<double> load(threads, 0);
  for (size_t g : order) {
    const size_t least = static_cast<size_t>(std::min_element(load.begin(), load.end()) -
                                             load.begin());
    assigned[least].push_back(g);
    load[least] += groups_[g].seconds + 1e-9;
  }
  std::vector<Status> results(threads);
  for (size_t t = 1; t < threads; ++t) {
    Helper(t - 1).Run([&, t] {
      results[t] = ApplyGroups(assigned[t], entries, to, head);
      if (next != nullptr) next->Help();
    });
  }
  results[0] = ApplyGroups(assigned[0], entries, to, head);
  if (next != nullptr) next->Help();
  for (size_t t = 1; t < threads; ++t) helpers_[t - 1]->Wait();
  for (const Status& result : results) TL_RETURN_IF_ERROR(result);
  return Status::Ok();
}

Status ProjectionRunner::ApplyGroups(const std::vector<size_t>& groups,
                                     const std::vector<DecodedEntry>& entries, uint64_t to,
                                     uint64_t head) {
  rocksdb::DB* db = store_->db();
  // Each view's rows of this batch, in memory until the batch is written (with the cursors);
  // emptied here rather than after the write, so a batch that failed leaves nothing behind.
  for (size_t g : groups) {
    for (size_t i : groups_[g].slots) {
      Slot& slot = slots_[i];
      if (slot.pending == nullptr) {
        slot.pending = std::make_unique<PendingRows>();
        slot.written = std::make_unique<PendingRows>();
        slot.read = std::make_unique<PendingRows>();
        slot.reading = std::make_unique<PendingRows>();
        slot.read_empty = std::make_unique<PendingRows>();
        slot.reading_empty = std::make_unique<PendingRows>();
      }
      // The last batch's rows and reads, if it was written, are what the database holds for
      // their keys now.
      if (slot.known_valid) {
        std::swap(slot.pending, slot.written);
        std::swap(slot.reading, slot.read);
        std::swap(slot.reading_empty, slot.read_empty);
      } else {
        slot.written->Clear();
        slot.read->Clear();
        slot.read_empty->Clear();
      }
      slot.known_valid = false;  // until this batch's write succeeds
      slot.pending->Clear();
      slot.reading->Clear();
      slot.reading_empty->Clear();
    }
  }
  const auto known_rows = [](const Slot& slot) {
    ViewReader::KnownRows known{slot.written.get(), slot.read.get(), slot.reading.get(),
                                slot.read_empty.get(), slot.reading_empty.get()};
    if (slot.keys_complete) {
      known.stored_keys = slot.stored_keys.get();
      known.stored_prefixes = slot.stored_prefixes.get();
    }
    return known;
  };
  for (size_t g : groups) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<ViewRows> rows;
    rows.reserve(groups_[g].slots.size());
    for (size_t i : groups_[g].slots) {
      rows.emplace_back(db, store_->family(slots_[i].projection->name()), slots_[i].pending.get());
      // Why safe: the group's families are written only after its readers are gone (below).
      rows.back().ReuseIteratorInBatch();
      rows.back().ReadKnownRowsFirst(known_rows(slots_[i]));
      for (const std::string& dependency : slots_[i].projection->dependencies()) {
        size_t index = 0;
        while (index < i && slots_[index].projection->name() != dependency) ++index;
        TL_ASSERT(index < i);  // placed before its dependents, in the same group
        ViewReader reader(db, store_->family(dependency), slots_[index].pending.get());
        reader.ReuseIteratorInBatch();
        reader.ReadKnownRowsFirst(known_rows(slots_[index]));
        rows.back().dependencies_.emplace_back(dependency, std::move(reader));
      }
    }
    for (const DecodedEntry& decoded : entries) {
      AppliedEntry applied;
      applied.sequence = decoded.sequence;
      applied.entry = decoded.entry;
      if (decoded.event != nullptr) {
        applied.event = decoded.event;
        applied.facts = &decoded.facts;
      }
      for (size_t k = 0; k < groups_[g].slots.size(); ++k) {
        const size_t i = groups_[g].slots[k];
        if (slots_[i].next > decoded.sequence) continue;  // already applied (not rebuilding)
        Status s = slots_[i].projection->Apply(applied, rows[k]);
        if (!s.ok()) {
          return s.WithContext(std::string(slots_[i].projection->name()) + " at entry " +
                               std::to_string(decoded.sequence));
        }
      }
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    groups_[g].seconds = groups_[g].seconds == 0 ? seconds : 0.7 * groups_[g].seconds + 0.3 * seconds;
  }
  // The groups' rows and cursors, written together: a group's views and cursors are in one
  // write, so a view is never ahead of one it depends on.
  std::vector<size_t> written;
  for (size_t g : groups) {
    for (size_t i : groups_[g].slots) {
      if (slots_[i].next < to) written.push_back(i);
    }
  }
  if (written.empty()) return Status::Ok();
  v1::ProjectionCursor cursor;
  cursor.set_next_sequence(to);
  std::vector<std::string> cursors;
  cursors.reserve(written.size());
  std::vector<ViewWrite> writes;
  size_t row_count = 0;
  for (size_t i : written) {
    // Before the write: if it fails, or fails halfway, the filters hold more keys than the
    // database, which only costs reads.
    Slot& slot = slots_[i];
    if (slot.keys_complete) {
      std::vector<uint64_t> keys;
      std::vector<uint64_t> prefixes;
      keys.reserve(slot.pending->size());
      slot.pending->ForEachStoredHash([&](uint64_t hash) { keys.push_back(hash); },
                                      [&](uint64_t hash) { prefixes.push_back(hash); });
      // A catch-up's batches each add about as many keys as this one: the filters are told how
      // many to expect up to the head, so that they grow once, not fourfold segment after
      // segment (each segment is one more cache miss for every read of the view).
      if (head > to && !entries.empty()) {
        const uint64_t batches = 1 + (head - to + entries.size() - 1) / entries.size();
        slot.stored_keys->Expect(keys.size() * batches);
        slot.stored_prefixes->Expect(prefixes.size() * batches);
      }
      slot.stored_keys->AddAll(keys);
      slot.stored_prefixes->AddAll(prefixes);
    }
    cursor.set_version(slots_[i].projection->version());
    cursors.push_back(DeterministicBytes(cursor));
    writes.push_back({slots_[i].projection->name(), slots_[i].pending.get(), cursors.back(),
                      slot.keys_complete ? slot.stored_keys.get() : nullptr});
    row_count += slots_[i].pending->size();
  }
  TL_RETURN_IF_ERROR(store_->Write(writes, row_count >= options_.table_file_min_rows));
  for (size_t i : written) {
    slots_[i].next = std::max(slots_[i].next, to);
    slots_[i].known_valid = true;
  }
  return Status::Ok();
}

Result<uint64_t> ProjectionRunner::CatchUp(EntrySource& source, const std::atomic<bool>* stop) {
  std::vector<uint64_t> before;
  for (const Slot& slot : slots_) before.push_back(slot.next);
  Result<uint64_t> applied = ApplyCommitted(source, stop);
  // After a failure too: the batches written before it are there, in as many sorted runs.
  uint64_t advanced = 0;
  std::vector<std::string> written;
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].next == before[i]) continue;
    advanced = std::max(advanced, slots_[i].next - before[i]);
    written.emplace_back(slots_[i].projection->name());
  }
  settle_started_ = options_.settle_after_entries > 0 && advanced >= options_.settle_after_entries;
  // A catch-up of more than a batch gives back the blocks it decoded into: following the head
  // decodes far smaller batches.
  if (advanced >= options_.batch_entries) {
    DecodeBlocks::Release();
    const uint64_t bytes = GiveBackFreedMemory();
    if (bytes > 0) {
      spdlog::info("projections: gave {:.1f} MiB of memory freed during a catch-up of {} "
                   "entries back to the system", static_cast<double>(bytes) / (1 << 20), advanced);
    }
  }
  if (settle_started_) store_->SettleInBackground(written);
  return applied;
}

Result<uint64_t> ProjectionRunner::ApplyCommitted(EntrySource& source,
                                                  const std::atomic<bool>* stop) {
  const uint64_t head = source.size();
  uint64_t from = head;
  for (const Slot& slot : slots_) from = std::min(from, slot.next);
  const uint64_t start = from;
  if (from >= head) return uint64_t{0};
  // Each batch after the first is read and decoded on a thread of its own while the batch
  // before it is applied: the views' threads are seldom equally loaded, and the decoding
  // (about an eighth of the work) fills the gap instead of running before them. The apply
  // threads help decode it once they are done (BatchLoad).
  uint64_t to = std::min<uint64_t>(head, from + options_.batch_entries);
  DecodedBatch batch;
  {
    // The first batch: read here, decoded by this thread and up to ApplyThreads() - 1 others
    // (one per chunk at most).
    BatchLoad first(options_.decoder, from, to);
    const size_t helpers = std::min(ApplyThreads(), first.chunks());
    for (size_t t = 1; t < helpers; ++t) Helper(t - 1).Run([&] { first.HelpWhenRead(); });
    first.Read(source);
    Result<DecodedBatch> taken = first.Take();
    for (size_t t = 1; t < helpers; ++t) helpers_[t - 1]->Wait();
    TL_ASSIGN_OR_RETURN(batch, std::move(taken));
  }
  // An applied batch is freed on a thread of its own (reaper_), below the apply threads'
  // priority, while the next one is applied: freed here, it kept one core busy and the other
  // waiting. At most one batch is being freed (waited for before the next is handed over, and
  // on return).
  struct WaitOnReturn {
    TaskThread& thread;
    ~WaitOnReturn() { thread.Wait(); }
  } wait_for_reaper{*reaper_};
  while (from < head) {
    if (stop != nullptr && stop->load()) break;
    const uint64_t next_to = std::min<uint64_t>(head, to + options_.batch_entries);
    std::unique_ptr<BatchLoad> next;
    if (to < head) {
      next = std::make_unique<BatchLoad>(options_.decoder, to, next_to);
      // On loader_, below the apply threads: it should run when one of them waits, not slow
      // the other.
      loader_->Run([&] { next->Read(source); });
    }
    const Status applied = ApplyBatch(batch.entries, to, head, next.get());
    Result<DecodedBatch> loaded = DecodedBatch();
    if (next != nullptr) loaded = next->Take();
    loader_->Wait();
    TL_RETURN_IF_ERROR(applied);
    if (options_.progress) options_.progress(to, head);
    from = to;
    if (from < head) {
      TL_RETURN_IF_ERROR(loaded.status());
      reaper_->Wait();
      auto done = std::make_shared<DecodedBatch>(std::exchange(batch, std::move(*loaded)));
      reaper_->Run([done = std::move(done)] { *done = DecodedBatch(); });
      to = next_to;
    }
  }
  return from - start;
}

Status ProjectionRunner::Follow(EntrySource& source, const std::atomic<bool>& stop) {
  while (!stop.load()) {
    TL_RETURN_IF_ERROR(CatchUp(source, &stop).status());
    uint64_t applied = UINT64_MAX;
    for (const Slot& slot : slots_) applied = std::min(applied, slot.next);
    source.WaitForMore(applied, std::chrono::milliseconds(200));
  }
  return Status::Ok();
}

Status ProjectionRunner::Rebuild(std::string_view name) {
  // The view and, transitively, what it depends on.
  std::set<std::string> reset = {std::string(name)};
  for (auto slot = slots_.rbegin(); slot != slots_.rend(); ++slot) {
    if (reset.count(std::string(slot->projection->name())) == 0) continue;
    for (const std::string& dependency : slot->projection->dependencies()) reset.insert(dependency);
  }
  // And whatever depends on a view being reset, since it read the old rows.
  for (const Slot& slot : slots_) {
    for (const std::string& dependency : slot.projection->dependencies()) {
      if (reset.count(dependency) > 0) reset.insert(std::string(slot.projection->name()));
    }
  }
  bool found = false;
  for (Slot& slot : slots_) {
    if (reset.count(std::string(slot.projection->name())) == 0) continue;
    found = found || slot.projection->name() == name;
    TL_RETURN_IF_ERROR(store_->Reset(slot.projection->name()));
    slot.next = 0;
    slot.known_valid = false;  // the rows it knows of are gone from the database
    slot.stored_keys->Clear();  // and the view is empty again
    slot.stored_prefixes->Clear();
    slot.keys_complete = true;
  }
  if (!found) return Status::NotFound("no projection named " + std::string(name));
  return Status::Ok();
}

}  // namespace traceledger::projections
