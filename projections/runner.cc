#include "projections/runner.h"

#include <rocksdb/db.h>
#include <rocksdb/utilities/write_batch_with_index.h>

#include <algorithm>
#include <map>
#include <set>
#include <thread>

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
      runner->slots_.push_back({std::move(it->second), 0});
      it = pending.erase(it);
      progress = true;
    }
    if (!progress) {
      return Status::InvalidArgument("projection dependencies are missing or circular (" +
                                     pending.begin()->first + ")");
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

Status ProjectionRunner::ApplyBatch(EntrySource& source, uint64_t from, uint64_t to) {
  rocksdb::WriteBatchWithIndex batch(rocksdb::BytewiseComparator(), 0, /*overwrite_key=*/true);
  rocksdb::DB* db = store_->db();
  std::vector<ViewRows> rows;
  rows.reserve(slots_.size());
  for (const Slot& slot : slots_) {
    rows.emplace_back(db, store_->family(slot.projection->name()), &batch);
    for (const std::string& dependency : slot.projection->dependencies()) {
      rows.back().dependencies_.emplace_back(
          dependency, ViewReader(db, store_->family(dependency), &batch));
    }
  }
  Status failure;
  v1::LedgerEntry entry;
  TL_RETURN_IF_ERROR(source.Scan(from, to, [&](uint64_t sequence, std::string_view bytes) {
    if (!entry.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      failure = Status::DataLoss("entry " + std::to_string(sequence) + " does not decode");
      return false;
    }
    AppliedEntry applied;
    applied.sequence = sequence;
    applied.entry = &entry;
    auto event = options_.decoder(entry.event_encoding(), entry.event());
    EventFacts facts;
    if (event.ok()) {
      facts = FactsOf(*event);
      applied.event = &*event;
      applied.facts = &facts;
    }
    for (size_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i].next > sequence) continue;  // already applied (e.g. not rebuilding)
      Status s = slots_[i].projection->Apply(applied, rows[i]);
      if (!s.ok()) {
        failure = s.WithContext(std::string(slots_[i].projection->name()) + " at entry " +
                                std::to_string(sequence));
        return false;
      }
    }
    return true;
  }));
  TL_RETURN_IF_ERROR(failure);
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].next >= to) continue;
    v1::ProjectionCursor cursor;
    cursor.set_version(slots_[i].projection->version());
    cursor.set_next_sequence(to);
    const std::string bytes = DeterministicBytes(cursor);
    TL_ASSERT(batch.Put(store_->family(slots_[i].projection->name()),
                        rocksdb::Slice(kCursorKey.data(), kCursorKey.size()), bytes)
                  .ok());
  }
  // Views are derived data: no fsync (a crash loses the last batches and their cursor
  // together, and they are re-applied).
  rocksdb::WriteOptions write_options;
  const rocksdb::Status written = db->Write(write_options, batch.GetWriteBatch());
  if (!written.ok()) return Status::Unavailable("writing views: " + written.ToString());
  for (Slot& slot : slots_) slot.next = std::max(slot.next, to);
  return Status::Ok();
}

Result<uint64_t> ProjectionRunner::CatchUp(EntrySource& source, const std::atomic<bool>* stop) {
  const uint64_t head = source.size();
  uint64_t from = head;
  for (const Slot& slot : slots_) from = std::min(from, slot.next);
  const uint64_t start = from;
  while (from < head) {
    if (stop != nullptr && stop->load()) break;
    const uint64_t to = std::min<uint64_t>(head, from + options_.batch_entries);
    TL_RETURN_IF_ERROR(ApplyBatch(source, from, to));
    from = to;
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
  }
  if (!found) return Status::NotFound("no projection named " + std::string(name));
  return Status::Ok();
}

}  // namespace traceledger::projections
