#include "projections/chain/trace.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <string>
#include <system_error>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <google/protobuf/repeated_ptr_field.h>

#include "projections/chain/genealogy.h"
#include "projections/chain/holdings.h"
#include "projections/internal/pending_rows.h"
#include "projections/keys.h"

namespace traceledger::projections {
namespace {

constexpr int64_t kEarliest = std::numeric_limits<int64_t>::min();
constexpr int64_t kLatest = std::numeric_limits<int64_t>::max();

// Forward walks keep two states per object: reached by going down from the root into its
// contents (may go further down), or reached any other way (may not).
enum Mode : uint8_t { kFree = 0, kDescent = 1 };

bool IsCustody(std::string_view kind) {
  return kind == kEdgeShipped || kind == kEdgeReceived || kind == kEdgeSold ||
         kind == kEdgeDestroyed;
}

// Every string of one trace (node ids, edge kinds, units, parties, places), stored once and
// named by a number: a large trace reaches thousands of nodes through tens of thousands of
// edges, and strings copied per node and per edge (queue items, map keys, kept protobufs) were
// most of its time. Equal numbers are equal strings.
//
// The index is an open-addressing table (linear probing, power-of-two size, at most half
// full; each slot keeps 32 bits of the text's hash, so a probe seldom compares a text it does
// not match), hashed as the pending rows are (PendingRows::HashKey). Why not a
// std::unordered_map<std::string_view, Id>: its byte-at-a-time hash, modulo and chained
// nodes were a third of the largest forward traces' CPU (docs/BENCHMARKS.md, "session 17").
class Symbols {
 public:
  using Id = uint32_t;

  Id Intern(std::string_view text) {
    const uint64_t hash = PendingRows::HashKey(text);
    if ((texts_.size() + 1) * 2 > slots_.size()) Grow();
    const auto tag = static_cast<uint32_t>(hash >> 32);
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {  // bounded: at most half full
      Slot& slot = slots_[i];
      if (slot.id == kNone) {
        TL_ASSERT(texts_.size() < kNone);
        const Id id = static_cast<Id>(texts_.size());
        texts_.push_back(Store(text));
        hashes_.push_back(hash);
        slot = Slot{id, tag};
        return id;
      }
      if (slot.tag == tag && texts_[slot.id] == text) return slot.id;
    }
  }
  // Intern, trying first `*recent`, the id this caller interned last (the edges read in a row
  // mostly share their source or target, unit, party and place): a compare instead of a hash.
  Id Intern(std::string_view text, Id* recent) {
    if (*recent < texts_.size() && texts_[*recent] == text) return *recent;
    *recent = Intern(text);
    return *recent;
  }
  std::string_view operator[](Id id) const { return texts_[id]; }
  size_t size() const { return texts_.size(); }

 private:
  static constexpr size_t kBlockBytes = 64 << 10;
  static constexpr Id kNone = std::numeric_limits<Id>::max();  // an empty slot
  static constexpr size_t kMinSlots = 64;

  struct Slot {
    Id id = kNone;
    uint32_t tag = 0;  // the high half of the text's hash
  };

  // Doubles the table and places every text again.
  void Grow() {
    slots_.assign(std::max(kMinSlots, slots_.size() * 2), Slot());
    mask_ = slots_.size() - 1;
    for (Id id = 0; id < hashes_.size(); ++id) {
      size_t i = hashes_[id] & mask_;
      while (slots_[i].id != kNone) i = (i + 1) & mask_;
      slots_[i] = Slot{id, static_cast<uint32_t>(hashes_[id] >> 32)};
    }
  }

  // A copy of `text` that never moves.
  std::string_view Store(std::string_view text) {
    if (blocks_.empty() || text.size() > block_bytes_ - block_used_) {
      block_bytes_ = std::max(kBlockBytes, text.size());
      blocks_.push_back(std::make_unique<char[]>(block_bytes_));
      block_used_ = 0;
    }
    char* at = blocks_.back().get() + block_used_;
    std::copy(text.begin(), text.end(), at);
    block_used_ += text.size();
    return std::string_view(at, text.size());
  }

  std::vector<std::unique_ptr<char[]>> blocks_;  // the last one is being filled
  size_t block_bytes_ = 0;                       // of the last block
  size_t block_used_ = 0;
  std::vector<std::string_view> texts_;  // by Id
  std::vector<uint64_t> hashes_;         // by Id: HashKey of the text
  std::vector<Slot> slots_;              // the ids by text; empty, or a power of two
  size_t mask_ = 0;                      // slots_.size() - 1
};

using RowVisitor = std::function<bool(std::string_view, std::string_view)>;

// Reads the out-edge rows of the nodes a forward walk has queued, on a thread of its own, while
// the walk expands the nodes before them. Why: RocksDB seeking to a node's rows and stepping
// through them was over 60 % of a large walk, one node after another on one core
// (docs/BENCHMARKS.md, "session 26"), and that can be done ahead on a second core. The walk still visits each node's rows itself, in
// its own order and with the same visitor, and the rows come from a sibling scanner (the same
// snapshot), so the answer is the same with or without it.
//
// A node's rows are asked for when it is first queued (Request), and read in that order. When
// the walk gets to the node: rows read ahead are visited from their copy; rows being read are
// waited for; rows not yet started are taken back and the walk scans them itself (the two
// threads share the work when the reader falls behind). A node with more than
// kMaxPrefetchedRows rows, or a read that failed, is left to the walk, which scans it (and
// meets the error) itself; once kMaxKeptBytes of rows are kept, nothing more is asked for.
class RowPrefetcher {
 public:
  class Slot;

  // `scanner` reads what the walk's scanner reads. `wait`: Visit waits for rows not started
  // too (TraceLimits::wait_for_read_ahead).
  RowPrefetcher(std::unique_ptr<ViewScanner> scanner, bool wait)
      : scanner_(std::move(scanner)), wait_(wait) {}
  ~RowPrefetcher() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    work_.notify_one();
    if (thread_.joinable()) thread_.join();
  }
  RowPrefetcher(const RowPrefetcher&) = delete;
  RowPrefetcher& operator=(const RowPrefetcher&) = delete;

  // Asks for the rows under `prefix` to be read ahead; null once the rows kept reach
  // kMaxKeptBytes. The reading thread starts with the first request.
  Slot* Request(std::string prefix) {
    if (bytes_kept_.load(std::memory_order_relaxed) >= kMaxKeptBytes || no_thread_) {
      return nullptr;
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (!thread_.joinable()) {
      try {
        thread_ = std::thread([this] { Run(); });
      } catch (const std::system_error&) {  // no thread to be had: the walk reads alone
        no_thread_ = true;
        return nullptr;
      }
    } else if (idle_) {
      work_.notify_one();
    }
    Slot* slot = &slots_.emplace_back(std::move(prefix));  // a deque: slots never move
    queue_.push_back(slot);
    return slot;
  }

  // Calls visit(key, value) on each row of `slot`, in key order, until it returns false, and
  // returns true; or returns false without calling it if the rows were not read ahead (the
  // caller scans them itself). Waits while they are being read (and, told to wait, until
  // they are).
  bool Visit(Slot* slot, const RowVisitor& visit) {
    State state = slot->state.load(std::memory_order_acquire);
    if (state == State::kQueued && !wait_ &&
        slot->state.compare_exchange_strong(state, State::kTaken, std::memory_order_acq_rel)) {
      return false;
    }
    if (state == State::kReading || state == State::kQueued) {
      std::unique_lock<std::mutex> lock(mu_);
      waiting_ = true;
      done_.wait(lock, [&] {
        const State now = slot->state.load(std::memory_order_acquire);
        return now != State::kReading && now != State::kQueued;
      });
      waiting_ = false;
      state = slot->state.load(std::memory_order_acquire);
    }
    if (state != State::kReady) return false;
    const char* at = slot->rows;
    for (uint32_t i = 0; i < slot->row_count; ++i) {
      uint32_t sizes[2];  // key, value
      std::memcpy(sizes, at, sizeof(sizes));
      at += sizeof(sizes);
      const std::string_view key(at, sizes[0]);
      const std::string_view value(at + sizes[0], sizes[1]);
      at += sizes[0] + sizes[1];
      if (!visit(key, value)) break;
    }
    return true;
  }

 private:
  enum class State : uint8_t {
    kQueued,   // asked for, not started
    kReading,  // being read by the prefetcher
    kReady,    // read: `rows` and `row_count` say where the rows are
    kTaken,    // the walk got to it first and scanned it itself
    kNotRead,  // too many rows, a read error, or stopped: the walk scans it itself
  };

 public:
  class Slot {
   public:
    explicit Slot(std::string prefix) : prefix_(std::move(prefix)) {}

   private:
    friend class RowPrefetcher;
    const std::string prefix_;
    std::atomic<State> state{State::kQueued};
    // Row after row: the key's and the value's sizes (two uint32_t), the key, the value. In
    // a block of the prefetcher's (blocks_), valid while it lives.
    const char* rows = nullptr;
    uint32_t row_count = 0;
  };

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      while (!stop_ && next_ == queue_.size()) {
        idle_ = true;
        work_.wait(lock);
        idle_ = false;
      }
      if (stop_) return;
      Slot* slot = queue_[next_++];
      lock.unlock();
      State queued = State::kQueued;
      const bool mine = slot->state.compare_exchange_strong(queued, State::kReading,
                                                           std::memory_order_acq_rel);
      if (mine) slot->state.store(Read(*slot), std::memory_order_release);
      lock.lock();
      if (mine && waiting_) done_.notify_all();
    }
  }

  // Reads `slot`'s rows into it: kReady, or kNotRead if they could not all be kept.
  State Read(Slot& slot) {
    bool kept = true;
    size_t start = used_;  // the slot's rows: [start, used_) of the last block
    uint32_t rows = 0;
    const Status scanned =
        scanner_->Scan(slot.prefix_, [&](std::string_view key, std::string_view value) {
          if (rows >= kMaxPrefetchedRows || stop_.load(std::memory_order_relaxed)) {
            kept = false;
            return false;
          }
          const uint32_t sizes[2] = {static_cast<uint32_t>(key.size()),
                                     static_cast<uint32_t>(value.size())};
          const size_t row_bytes = sizeof(sizes) + key.size() + value.size();
          if (blocks_.empty() || row_bytes > block_bytes_ - used_) {
            // A new block, with the slot's rows so far moved to its start: a slot's rows are
            // one run of bytes.
            const size_t so_far = used_ - start;
            const size_t bytes = std::max(kBlockBytes, 2 * (so_far + row_bytes));
            auto block = std::make_unique<char[]>(bytes);
            if (so_far > 0) std::memcpy(block.get(), blocks_.back().get() + start, so_far);
            blocks_.push_back(std::move(block));
            block_bytes_ = bytes;
            bytes_kept_.fetch_add(bytes, std::memory_order_relaxed);
            start = 0;
            used_ = so_far;
          }
          char* at = blocks_.back().get() + used_;
          std::memcpy(at, sizes, sizeof(sizes));
          std::memcpy(at + sizeof(sizes), key.data(), key.size());
          std::memcpy(at + sizeof(sizes) + key.size(), value.data(), value.size());
          used_ += row_bytes;
          ++rows;
          return true;
        });
    if (!scanned.ok() || !kept) {
      used_ = start;  // the block's space is used again
      return State::kNotRead;
    }
    slot.rows = rows == 0 ? nullptr : blocks_.back().get() + start;
    slot.row_count = rows;
    return State::kReady;
  }

  // Rows of one node read ahead at most; a node with more (a long-lived lot's transforms into
  // every product) is scanned by the walk, which may stop early.
  static constexpr size_t kMaxPrefetchedRows = 4096;
  // Rows kept for one walk at most, in blocks (the largest of the generated chain test kept
  // 5.1 MB).
  static constexpr size_t kMaxKeptBytes = 64 << 20;
  // The rows read ahead are kept in blocks of this size (or larger, for a node with more):
  // one allocation per block, not a string and a vector per node (docs/BENCHMARKS.md,
  // "session 27").
  static constexpr size_t kBlockBytes = 1 << 20;

  const std::unique_ptr<ViewScanner> scanner_;  // used by the reading thread only
  const bool wait_;                              // for rows not started too
  std::atomic<size_t> bytes_kept_{0};  // the blocks' sizes, added up
  std::vector<std::unique_ptr<char[]>> blocks_;  // the reading thread's; the last is filled
  size_t block_bytes_ = 0;                       // of the last block
  size_t used_ = 0;                              // of the last block

  std::mutex mu_;
  std::condition_variable work_;  // a request, or stop
  std::condition_variable done_;  // a slot read, while the walk waits (waiting_)
  std::deque<Slot> slots_;        // grown under mu_
  std::vector<Slot*> queue_;      // in the order asked for; under mu_
  size_t next_ = 0;               // the next of queue_ to read; under mu_
  bool idle_ = false;             // the thread waits for work; under mu_
  bool waiting_ = false;          // the walk waits for a slot; under mu_
  std::atomic<bool> stop_{false};  // set under mu_ (for work_), read anywhere
  std::thread thread_;            // started by the first request
  bool no_thread_ = false;        // it could not be started; the walk's thread only
};

using Symbol = Symbols::Id;
constexpr Symbol kNoSymbol = std::numeric_limits<Symbol>::max();

struct Label {
  int64_t time = 0;
  uint32_t depth = 0;
  bool set = false;
  bool settled = false;
};

struct NodeState {
  std::array<Label, 2> labels;
  v1::NodeKind kind = v1::NODE_KIND_OBJECT;
  bool known = false;  // relaxed at least once, which set `kind`
  bool in_answer = false;
  bool holders_read = false;  // forward: a scan of its out-edges got to its holder rows
  RowPrefetcher::Slot* prefetched = nullptr;  // forward: its out-edge rows, asked for ahead
};

struct QueueItem {
  int64_t time;
  uint32_t depth;
  Symbol node;
  Mode mode;
};

// The end of an edge a walk followed it to.
enum class Toward : uint8_t { kTo, kFrom };

// An edge a walk followed: the fields of its TraceEdge, and of the TraceHolder of a sale.
struct FollowedEdge {
  int64_t time;
  uint64_t sequence;
  double quantity;
  Symbol kind;
  Symbol from;
  Symbol to;
  Symbol uom;
  Symbol party;
  Symbol location;
  Toward toward;

  Symbol target() const { return toward == Toward::kTo ? to : from; }
};

// A holder row a forward walk read at the end of an object's out-edges.
struct HolderRow {
  Symbol party;
  Symbol object;
  double quantity;
  Symbol uom;
  Symbol location;
};

// A node of a walk's answer, in the order reached.
struct AnswerNode {
  Symbol node;
  v1::NodeKind kind;
  int64_t time;
  uint32_t depth;
};

// One direction of a trace: a label-setting (Dijkstra) walk over time, which is sound because
// following an edge never makes the time better (forward: never earlier; backward: never
// later).
class Walk {
 public:
  // `genealogy`, `symbols`, `limits` and `edges_scanned` must outlive the walk.
  Walk(ViewScanner& genealogy, Symbols& symbols, bool forward, const TraceLimits& limits,
       size_t max_nodes, size_t* edges_scanned)
      : genealogy_(genealogy),
        symbols_(symbols),
        forward_(forward),
        limits_(limits),
        max_nodes_(max_nodes),
        edges_scanned_(edges_scanned),
        queue_(Order{forward, &symbols}) {}

  Status Run(std::string_view root) {
    Relax(symbols_.Intern(root), v1::NODE_KIND_OBJECT, forward_ ? kDescent : kFree,
          forward_ ? kEarliest : kLatest, 0);
    while (!queue_.empty() && truncated_reason_.empty()) {
      const QueueItem item = queue_.top();
      queue_.pop();
      // Not kept across the expansion below: Relax may grow states_.
      NodeState& state = states_[item.node];
      Label& label = state.labels[item.mode];
      if (label.settled || label.time != item.time || label.depth != item.depth) continue;
      label.settled = true;
      if (!state.in_answer) {
        if (answer_.size() >= max_nodes_) {
          truncated_reason_ = "max_nodes";
          break;
        }
        state.in_answer = true;
        answer_.push_back(AnswerNode{item.node, state.kind, item.time, item.depth});
      }
      if (state.kind != v1::NODE_KIND_OBJECT) continue;  // parties and places are leaves
      ++expanded_;
      TL_RETURN_IF_ERROR(forward_ ? ExpandForward(item) : ExpandBackward(item));
    }
    prefetcher_.reset();  // what it still reads is not needed
    return Status::Ok();
  }

  bool forward() const { return forward_; }
  size_t nodes_read_ahead() const { return nodes_read_ahead_; }
  size_t expanded() const { return expanded_; }
  const std::vector<AnswerNode>& answer() const { return answer_; }
  const std::string& truncated_reason() const { return truncated_reason_; }
  bool InAnswer(Symbol node) const { return node < states_.size() && states_[node].in_answer; }
  // Edges followed, in the order followed.
  const std::vector<FollowedEdge>& followed() const { return followed_; }
  // Forward: the holder rows of the objects expanded (of an object expanded twice, twice).
  const std::vector<HolderRow>& holders() const { return holders_; }
  // Forward: reads the holder rows of `object`, a node of the answer, if its expansion did not
  // get to them (a limit cut it short).
  Status ReadHoldersNotRead(Symbol object) {
    if (object < states_.size() && states_[object].holders_read) return Status::Ok();
    Status parsed;
    size_t holders = 0;
    TL_RETURN_IF_ERROR(genealogy_.Scan(
        HoldersPrefix(symbols_[object]), [&](std::string_view row_key, std::string_view value) {
          Result<OutEdgeKeyParts> key = PartsOf(row_key, object);
          parsed = key.ok() ? ReadHolder(*key, value, object) : key.status();
          return parsed.ok() && ++holders < kMaxHoldingsPerQuery;
        }));
    return parsed;
  }

 private:
  struct Order {
    bool forward;
    const Symbols* symbols;
    // True if `a` comes after `b` (std::priority_queue pops the greatest): by time, then depth,
    // node id and mode.
    bool operator()(const QueueItem& a, const QueueItem& b) const {
      if (a.time != b.time) return forward ? a.time > b.time : a.time < b.time;
      if (a.depth != b.depth) return a.depth > b.depth;
      if (a.node != b.node) return (*symbols)[a.node] > (*symbols)[b.node];
      return a.mode > b.mode;
    }
  };

  bool Better(int64_t a, int64_t b) const { return forward_ ? a < b : a > b; }

  NodeState& State(Symbol node) {
    if (node >= states_.size()) states_.resize(symbols_.size());
    return states_[node];
  }

  void Relax(Symbol node, v1::NodeKind kind, Mode mode, int64_t time, uint32_t depth) {
    NodeState& state = State(node);
    if (!state.known) {
      state.known = true;
      state.kind = kind;
    }
    Label& label = state.labels[mode];
    if (label.settled) return;
    if (label.set && !Better(time, label.time) && !(time == label.time && depth < label.depth)) {
      return;
    }
    label.time = time;
    label.depth = depth;
    label.set = true;
    queue_.push(QueueItem{time, depth, node, mode});
    if (state.kind == v1::NODE_KIND_OBJECT && state.prefetched == nullptr && Prefetching()) {
      state.prefetched = prefetcher_->Request(OutEdgePrefix(symbols_[node]));
    }
  }

  // Whether a forward walk reads ahead (RowPrefetcher): from its prefetch_after_nodes-th
  // expansion on, if its scanner can have a sibling.
  bool Prefetching() {
    if (prefetcher_ != nullptr) return true;
    if (!forward_ || prefetch_tried_ || expanded_ < limits_.prefetch_after_nodes) return false;
    prefetch_tried_ = true;
    std::unique_ptr<ViewScanner> sibling = genealogy_.Sibling();
    if (sibling == nullptr) return false;
    prefetcher_ = std::make_unique<RowPrefetcher>(std::move(sibling),
                                                  limits_.wait_for_read_ahead);
    return true;
  }

  // Follows the edge of out-edge row `key` (with `edge_` parsed from its value) from `node`,
  // the node being expanded, to its `to` or `from` end, of `kind`, reached at `time`, and keeps
  // what the answer needs of it.
  void Follow(const OutEdgeKeyParts& key, Symbol node, Toward toward, v1::NodeKind kind,
              Mode mode, int64_t time, uint32_t depth) {
    const Symbol other = symbols_.Intern(toward == Toward::kTo ? key.to : key.from, &recent_.other);
    const FollowedEdge& followed = followed_.emplace_back(FollowedEdge{
        key.time_unix_micros, key.sequence, edge_.quantity,
        symbols_.Intern(key.kind, &recent_.kind), toward == Toward::kTo ? node : other,
        toward == Toward::kTo ? other : node, symbols_.Intern(edge_.uom, &recent_.uom),
        symbols_.Intern(IsToParty(key.kind) ? key.to : edge_.party, &recent_.party),
        symbols_.Intern(edge_.location, &recent_.location), toward});
    if (depth > limits_.max_depth) {
      if (!InAnswer(followed.target())) truncated_reason_ = "max_depth";
    } else {
      Relax(followed.target(), kind, mode, time, depth);
    }
  }

  bool CountEdge() {
    if (++*edges_scanned_ > limits_.max_edges_scanned) {
      truncated_reason_ = "max_edges_scanned";
      return false;
    }
    return true;
  }

  // The value of an out-edge row into edge_ (the fields its key does not say).
  Status ParseEdge(std::string_view value, Symbol node) {
    if (ParseOutEdgeValue(value, &edge_)) return Status::Ok();
    return Status::DataLoss("genealogy edge of " + std::string(symbols_[node]) +
                            " does not decode");
  }

  // The parts of out-edge row key `key` of `node`'s edges; DataLoss if it is malformed.
  Result<OutEdgeKeyParts> PartsOf(std::string_view key, Symbol node) {
    std::optional<OutEdgeKeyParts> parts = ParseOutEdgeKey(key);
    if (parts.has_value()) return *parts;
    return Status::DataLoss("genealogy edge key of " + std::string(symbols_[node]) +
                            " is malformed");
  }

  Status ExpandForward(const QueueItem& from) {
    const int64_t reached = from.time;
    const uint32_t depth = from.depth + 1;
    Status parsed;
    size_t holders = 0;
    const auto visit = [&](std::string_view row_key, std::string_view value) {
      Result<OutEdgeKeyParts> key = PartsOf(row_key, from.node);
      if (!key.ok()) {
        parsed = key.status();
        return false;
      }
      // The holder rows come last, and are no edges.
      if (IsHolderRow(*key)) {
        parsed = ReadHolder(*key, value, from.node);
        return parsed.ok() && ++holders < kMaxHoldingsPerQuery;
      }
      if (!CountEdge()) return false;
      // The key says the edge's time and kind: edges that are not followed need no decoding.
      const std::string_view kind = key->kind;
      const int64_t time = key->time_unix_micros;
      const bool containment = kind == kEdgeContains || kind == kEdgeContainedBy;
      const bool down = kind == kEdgeContainedBy;
      if (down && from.mode != kDescent) return true;
      if (!containment && time < reached) return true;  // before it got here
      if (!containment && kind != kEdgeTransform && !IsCustody(kind)) return true;
      parsed = ParseEdge(value, from.node);
      if (!parsed.ok()) return false;
      if (kind == kEdgeTransform) {
        Follow(*key, from.node, Toward::kTo, v1::NODE_KIND_OBJECT, kFree, time, depth);
      } else if (containment) {
        // Inside during [packed, removed): still inside when the child was reached?
        if (edge_.removed && edge_.removed_time_unix_micros < reached) return true;
        Follow(*key, from.node, Toward::kTo, v1::NODE_KIND_OBJECT, down ? kDescent : kFree,
               std::max(time, reached), depth);
      } else {
        Follow(*key, from.node, Toward::kTo, edge_.to_kind, kFree, time, depth);
      }
      return truncated_reason_.empty();
    };
    bool stopped = false;  // by the visitor, before the end of the rows
    const RowVisitor scan = [&](std::string_view key, std::string_view value) {
      stopped = !visit(key, value);
      return !stopped;
    };
    RowPrefetcher::Slot* ahead = states_[from.node].prefetched;
    if (ahead != nullptr && prefetcher_ != nullptr && prefetcher_->Visit(ahead, scan)) {
      ++nodes_read_ahead_;
    } else {
      TL_RETURN_IF_ERROR(genealogy_.Scan(OutEdgePrefix(symbols_[from.node]), scan));
    }
    if (parsed.ok() && (!stopped || holders == kMaxHoldingsPerQuery)) {
      states_[from.node].holders_read = true;
    }
    return parsed;
  }

  // Keeps holder row `key` of `object` if it holds a positive quantity.
  Status ReadHolder(const OutEdgeKeyParts& key, std::string_view value, Symbol object) {
    HolderValueView holding;
    if (!ParseHolderValue(value, &holding)) {
      return Status::DataLoss("holder row of " + std::string(symbols_[object]) +
                              " does not decode as traceledger.v1.Holding");
    }
    if (holding.quantity >= kZeroQuantity) {
      holders_.push_back(HolderRow{symbols_.Intern(key.to, &recent_.holder), object,
                                   holding.quantity, symbols_.Intern(holding.uom, &recent_.uom),
                                   symbols_.Intern(holding.location, &recent_.location)});
    }
    return Status::Ok();
  }

  Status ExpandBackward(const QueueItem& at) {
    const int64_t asked = at.time;
    const uint32_t depth = at.depth + 1;
    Status parsed;
    // Into the node: the inputs it was made from. The in-edge rows are keyed by time after the
    // prefix, up to the first one later than `asked`; each holds the edge's value (followed in
    // the visitor: edge_ points into it). Its contents as a container are its contained_by
    // out-edges, below.
    TL_RETURN_IF_ERROR(genealogy_.Scan(
        InEdgePrefix(symbols_[at.node]), [&](std::string_view row_key, std::string_view value) {
          const std::optional<OutEdgeKeyParts> key = ParseInEdgeKey(row_key);
          if (!key.has_value()) {
            parsed = Status::DataLoss("genealogy in-edge key of " +
                                      std::string(symbols_[at.node]) + " is malformed");
            return false;
          }
          if (key->time_unix_micros > asked) return false;
          if (!CountEdge()) return false;
          // Only the kinds that have in-edge rows are followed into a node (an older layout
          // had others too).
          if (!HasInEdgeRow(key->kind)) return true;
          parsed = ParseEdge(value, at.node);
          if (!parsed.ok()) return false;
          Follow(*key, at.node, Toward::kFrom, v1::NODE_KIND_OBJECT, kFree,
                 key->time_unix_micros, depth);
          return truncated_reason_.empty();
        }));
    TL_RETURN_IF_ERROR(parsed);
    if (!truncated_reason_.empty()) return Status::Ok();
    // Out of the node up to then: the parties that had it, and what was inside it (each
    // contained_by row is the contains edge from the child, turned around; the child is asked
    // about until it was taken out, if it was before `asked`).
    const std::string out_prefix = OutEdgePrefix(symbols_[at.node]);
    TL_RETURN_IF_ERROR(genealogy_.Scan(out_prefix, [&](std::string_view row_key,
                                                       std::string_view value) {
      Result<OutEdgeKeyParts> key = PartsOf(row_key, at.node);
      if (!key.ok()) {
        parsed = key.status();
        return false;
      }
      if (key->time_unix_micros > asked || IsHolderRow(*key)) return false;
      if (!CountEdge()) return false;
      // Only custody and contained_by edges are followed, and the key says the kind: the
      // others (a long-lived lot's transforms into every product) need no decoding.
      const bool contents = key->kind == kEdgeContainedBy;
      if (!contents && !IsCustody(key->kind)) return true;
      parsed = ParseEdge(value, at.node);
      if (!parsed.ok()) return false;
      if (contents) {
        const int64_t until =
            edge_.removed ? std::min(asked, edge_.removed_time_unix_micros) : asked;
        Follow(ContainsEdgeOf(*key), at.node, Toward::kFrom, v1::NODE_KIND_OBJECT, kFree,
               until, depth);
      } else {
        Follow(*key, at.node, Toward::kTo, edge_.to_kind, kFree, key->time_unix_micros, depth);
      }
      return truncated_reason_.empty();
    }));
    return parsed;
  }

  ViewScanner& genealogy_;
  Symbols& symbols_;
  const bool forward_;
  const TraceLimits& limits_;
  const size_t max_nodes_;
  size_t* edges_scanned_;
  std::priority_queue<QueueItem, std::vector<QueueItem>, Order> queue_;
  std::vector<NodeState> states_;  // by Symbol; grown as nodes are met
  std::vector<AnswerNode> answer_;
  std::vector<FollowedEdge> followed_;
  std::vector<HolderRow> holders_;
  OutEdgeValueView edge_;  // the value of the row being read (its strings point into it)
  struct {
    Symbol kind = kNoSymbol;
    Symbol other = kNoSymbol;  // the end of the edge that is not the node being expanded
    Symbol uom = kNoSymbol;
    Symbol party = kNoSymbol;
    Symbol location = kNoSymbol;
    Symbol holder = kNoSymbol;
  } recent_;  // what Follow and ReadHolder interned last, field by field
  std::string truncated_reason_;
  size_t expanded_ = 0;  // nodes expanded so far
  size_t nodes_read_ahead_ = 0;  // expansions that visited rows read ahead
  bool prefetch_tried_ = false;
  std::unique_ptr<RowPrefetcher> prefetcher_;  // forward, from prefetch_after_nodes on
};

// What a holder of the answer holds now, or sold.
struct Held {
  double quantity = 0;
  Symbol uom = 0;
  Symbol location = 0;
};

// A line of the answer's holders: a party, an object, what it holds or sold.
struct HolderLine {
  Symbol party;
  Symbol object;
  Held held;
};

// Sorts `lines` by the texts of (party, object), a key's lines kept in the order given, and
// folds each key's lines into its first, in that order: merge(first, next). A sorted vector,
// not a std::map by texts (a node allocated per line): with it the largest forward traces
// list their nodes and holders in 3.8-4.3 ms instead of 5.9-6.5 (docs/BENCHMARKS.md,
// "session 28").
template <typename Merge>
void SortAndMerge(const Symbols& symbols, std::vector<HolderLine>& lines, Merge merge) {
  const auto before = [&](const HolderLine& a, const HolderLine& b) {
    if (a.party != b.party) return symbols[a.party] < symbols[b.party];
    return a.object != b.object && symbols[a.object] < symbols[b.object];
  };
  std::stable_sort(lines.begin(), lines.end(), before);
  size_t kept = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (kept > 0 && lines[kept - 1].party == lines[i].party &&
        lines[kept - 1].object == lines[i].object) {
      merge(lines[kept - 1].held, lines[i].held);
    } else {
      lines[kept++] = lines[i];
    }
  }
  lines.resize(kept);
}

enum class Holds : uint8_t { kNow, kSoldToConsumers };

void AddHolders(const Symbols& symbols, const std::vector<HolderLine>& lines, Holds holds,
                v1::TraceResult& result) {
  for (const HolderLine& line : lines) {
    v1::TraceHolder* holder = result.add_holders();
    holder->set_party(std::string(symbols[line.party]));
    holder->set_object_id(std::string(symbols[line.object]));
    holder->set_quantity(line.held.quantity);
    holder->set_uom(std::string(symbols[line.held.uom]));
    holder->set_location(std::string(symbols[line.held.location]));
    holder->set_sold_to_consumers(holds == Holds::kSoldToConsumers);
  }
}

// An edge's identity in the answer: edges with the same key are the same row (read through one
// scanner, so which copy is kept is moot).
std::tuple<int64_t, uint64_t, Symbol, Symbol, Symbol> KeyOf(const FollowedEdge& edge) {
  return std::make_tuple(edge.time, edge.sequence, edge.kind, edge.from, edge.to);
}

// The answer's holders, forward walks only: who holds the forward set now (the last holder
// row read of each party and object), then each seller of the forward set (every sale the walk
// followed counted once, quantities added up in the order followed).
void ListHolders(const Symbols& symbols, const Walk& forward, Symbol sold_kind,
                 v1::TraceResult& result) {
  std::vector<HolderLine> holding;
  holding.reserve(forward.holders().size());
  for (const HolderRow& row : forward.holders()) {
    holding.push_back(HolderLine{row.party, row.object, Held{row.quantity, row.uom, row.location}});
  }
  SortAndMerge(symbols, holding, [](Held& first, const Held& next) { first = next; });

  // A node reached in both modes follows its sales twice: only the first of each counts.
  std::vector<const FollowedEdge*> sales;
  for (const FollowedEdge& edge : forward.followed()) {
    if (edge.kind == sold_kind && forward.InAnswer(edge.target())) sales.push_back(&edge);
  }
  std::vector<uint32_t> by_key(sales.size());
  for (uint32_t i = 0; i < by_key.size(); ++i) by_key[i] = i;
  std::stable_sort(by_key.begin(), by_key.end(), [&](uint32_t a, uint32_t b) {
    return KeyOf(*sales[a]) < KeyOf(*sales[b]);
  });
  std::vector<bool> repeated(sales.size());
  for (size_t i = 1; i < by_key.size(); ++i) {
    repeated[by_key[i]] = KeyOf(*sales[by_key[i]]) == KeyOf(*sales[by_key[i - 1]]);
  }
  std::vector<HolderLine> sold;
  for (size_t i = 0; i < sales.size(); ++i) {
    if (repeated[i]) continue;
    const FollowedEdge& sale = *sales[i];
    // 0 + quantity: each seller's sum starts from zero, as it did in a map (-0.0 becomes 0).
    sold.push_back(HolderLine{sale.party, sale.from, Held{0 + sale.quantity, sale.uom,
                                                          sale.location}});
  }
  SortAndMerge(symbols, sold, [](Held& first, const Held& next) {
    first.quantity += next.quantity;
    first.uom = next.uom;
    first.location = next.location;
  });

  result.mutable_holders()->Reserve(static_cast<int>(holding.size() + sold.size()));
  AddHolders(symbols, holding, Holds::kNow, result);
  AddHolders(symbols, sold, Holds::kSoldToConsumers, result);
}

// Lists the answer's edges: every edge the walks followed between nodes of the answer, once
// each, by (time, sequence, kind, from, to). Sort first, on one thread; then any number of
// threads List (waiting for the sort), each making the TraceEdge messages of the chunks it
// takes; then Take hands them over in order. Reads `symbols` and the walks only.
//
// Why shared: making ~32,000 messages (three heap strings each) was the longest part of the
// largest forward answers after their walks, on one thread while the other listed the
// nodes and holders in less time (docs/BENCHMARKS.md, "session 28").
class EdgeLister {
 public:
  EdgeLister(const Symbols& symbols, const std::vector<std::unique_ptr<Walk>>& walks)
      : symbols_(symbols), walks_(walks) {}

  void Sort() {
    // Sorted by the time and sequence kept beside each edge (most edges differ in them), not
    // through pointers to the edges: tens of thousands of them are apart in memory.
    for (const auto& walk : walks_) {
      for (const FollowedEdge& edge : walk->followed()) {
        if (walk->InAnswer(edge.target())) {
          edges_.push_back(Sorted{edge.time, edge.sequence, &edge});
        }
      }
    }
    std::sort(edges_.begin(), edges_.end(), [&](const Sorted& a, const Sorted& b) {
      if (a.time != b.time) return a.time < b.time;
      if (a.sequence != b.sequence) return a.sequence < b.sequence;
      for (const auto& [x, y] : {std::pair{a.edge->kind, b.edge->kind},
                                 std::pair{a.edge->from, b.edge->from},
                                 std::pair{a.edge->to, b.edge->to}}) {
        if (x != y) return symbols_[x] < symbols_[y];
      }
      return false;
    });
    edges_.erase(std::unique(edges_.begin(), edges_.end(),
                             [](const Sorted& a, const Sorted& b) {
                               return KeyOf(*a.edge) == KeyOf(*b.edge);
                             }),
                 edges_.end());
    listed_.resize(edges_.size());
    {
      std::lock_guard<std::mutex> lock(sorted_mu_);
      sorted_ = true;
    }
    sorted_cv_.notify_all();
  }

  // Makes the messages of chunks no other thread has taken, until none is left. Waits for Sort
  // (on another thread, or called before on this one).
  void List() {
    {
      std::unique_lock<std::mutex> lock(sorted_mu_);
      sorted_cv_.wait(lock, [&] { return sorted_; });
    }
    for (;;) {
      const size_t begin = next_.fetch_add(kChunk, std::memory_order_relaxed);
      if (begin >= edges_.size()) return;
      const size_t end = std::min(edges_.size(), begin + kChunk);
      for (size_t i = begin; i < end; ++i) {
        const FollowedEdge& edge = *edges_[i].edge;
        auto listed = std::make_unique<v1::TraceEdge>();
        listed->set_from(std::string(symbols_[edge.from]));
        listed->set_to(std::string(symbols_[edge.to]));
        listed->set_kind(std::string(symbols_[edge.kind]));
        listed->set_sequence(edge.sequence);
        listed->set_time_unix_micros(edge.time);
        listed->set_quantity(edge.quantity);
        listed->set_uom(std::string(symbols_[edge.uom]));
        listed->set_party(std::string(symbols_[edge.party]));
        listed_[i] = std::move(listed);
      }
    }
  }

  // The messages, in order, into `out`. After every List has returned.
  void Take(google::protobuf::RepeatedPtrField<v1::TraceEdge>* out) {
    out->Reserve(static_cast<int>(listed_.size()));
    for (std::unique_ptr<v1::TraceEdge>& listed : listed_) out->AddAllocated(listed.release());
  }

 private:
  static constexpr size_t kChunk = 512;  // edges a thread takes at a time

  struct Sorted {
    int64_t time;
    uint64_t sequence;
    const FollowedEdge* edge;
  };

  const Symbols& symbols_;
  const std::vector<std::unique_ptr<Walk>>& walks_;
  std::vector<Sorted> edges_;                            // sorted, once each
  std::vector<std::unique_ptr<v1::TraceEdge>> listed_;  // by position in edges_
  std::atomic<size_t> next_{0};                          // the first edge of the next chunk
  std::mutex sorted_mu_;
  std::condition_variable sorted_cv_;  // sorted_ set
  bool sorted_ = false;                // Sort is done; under sorted_mu_
};

// Microseconds of steady time since `start`.
double MicrosSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
      .count();
}

}  // namespace

std::string_view TraceDirectionName(TraceDirection direction) {
  switch (direction) {
    case TraceDirection::kBackward: return "backward";
    case TraceDirection::kForward: return "forward";
    case TraceDirection::kBoth: return "both";
  }
  return "both";
}

Result<TraceDirection> ParseTraceDirection(std::string_view name) {
  if (name == "backward") return TraceDirection::kBackward;
  if (name == "forward") return TraceDirection::kForward;
  if (name == "both") return TraceDirection::kBoth;
  return Status::InvalidArgument("trace direction \"" + std::string(name) +
                                 "\": want backward, forward or both");
}

Result<v1::TraceResult> Trace(const ViewReader& genealogy, std::string_view root_id,
                              TraceDirection direction, const TraceLimits& limits,
                              TraceStats* stats) {
  if (root_id.empty()) return Status::InvalidArgument("trace root id is empty");
  if (limits.max_nodes == 0) return Status::InvalidArgument("trace max_nodes is 0");
  const auto walk_start = std::chrono::steady_clock::now();
  v1::TraceResult result;
  result.set_root_id(std::string(root_id));
  size_t edges_scanned = 0;

  Symbols symbols;
  // A snapshot for the read-ahead's scanner only where a forward walk may read ahead.
  const bool may_read_ahead = direction != TraceDirection::kBackward &&
                              limits.prefetch_after_nodes != std::numeric_limits<size_t>::max();
  ViewScanner genealogy_scanner(genealogy, may_read_ahead ? ViewScanner::Siblings::kAllowed
                                                          : ViewScanner::Siblings::kNone);
  std::vector<std::unique_ptr<Walk>> walks;
  size_t followed = 0;  // edges, all walks
  size_t nodes_left = limits.max_nodes;
  for (bool forward : {false, true}) {
    if (forward && direction == TraceDirection::kBackward) continue;
    if (!forward && direction == TraceDirection::kForward) continue;
    // kBoth: the root is shared, so the forward walk may list what the backward one left + 1.
    const size_t max_nodes = walks.empty() ? nodes_left : nodes_left + 1;
    auto walk = std::make_unique<Walk>(genealogy_scanner, symbols, forward, limits, max_nodes,
                                       &edges_scanned);
    TL_RETURN_IF_ERROR(walk->Run(root_id));
    nodes_left = max_nodes - walk->answer().size();
    if (!walk->truncated_reason().empty() && !result.truncated()) {
      result.set_truncated(true);
      result.set_truncated_reason(walk->truncated_reason());
    }
    followed += walk->followed().size();
    if (stats != nullptr) {
      stats->nodes_read_ahead += walk->nodes_read_ahead();
      stats->nodes_expanded += walk->expanded();
    }
    walks.push_back(std::move(walk));
  }
  if (stats != nullptr) {
    stats->edges_scanned += edges_scanned;
    stats->edges_followed += followed;
  }

  // Forward: the holder rows of the objects whose expansion a limit cut short, read now (the
  // walk read the others' with their edges). Before the answer is built, since reading interns
  // strings, and the edges may be built on another thread that reads `symbols`.
  Walk* forward = direction == TraceDirection::kBackward ? nullptr : walks.back().get();
  if (forward != nullptr) {
    for (const AnswerNode& node : forward->answer()) {
      if (node.kind != v1::NODE_KIND_OBJECT) continue;
      TL_RETURN_IF_ERROR(forward->ReadHoldersNotRead(node.node));
    }
  }
  const Symbol sold_kind = symbols.Intern(kEdgeSold);
  const auto answer_start = std::chrono::steady_clock::now();
  if (stats != nullptr) stats->walk_micros += MicrosSince(walk_start);

  // Edges, sorted on a thread of their own when there are many while this one lists the nodes
  // and the holders, then listed by both: the two are apart (the symbols are only read from
  // here on), and each was a fifth of the largest forward traces' time (docs/BENCHMARKS.md,
  // "session 27").
  EdgeLister edges(symbols, walks);
  std::thread edge_thread;
  struct JoinOnExit {
    std::thread& thread;
    ~JoinOnExit() {
      if (thread.joinable()) thread.join();
    }
  } join_on_exit{edge_thread};
  if (followed >= limits.edges_for_a_thread) {
    try {
      edge_thread = std::thread([&] {
        edges.Sort();
        edges.List();
      });
    } catch (const std::system_error&) {  // no thread to be had: all done below, on this one
    }
  }

  // Nodes: the root once, then each walk's in the order reached.
  size_t nodes = 0;
  for (const auto& walk : walks) nodes += walk->answer().size();
  result.mutable_nodes()->Reserve(static_cast<int>(nodes));
  for (const auto& walk : walks) {
    for (const AnswerNode& reached : walk->answer()) {
      if (reached.depth == 0 && result.nodes_size() > 0) continue;
      v1::TraceNode* node = result.add_nodes();
      node->set_id(std::string(symbols[reached.node]));
      node->set_kind(reached.kind);
      node->set_time_unix_micros(reached.time);
      node->set_depth(reached.depth);
      node->set_direction(reached.depth == 0 ? "root" : walk->forward() ? "forward" : "backward");
    }
  }

  if (forward != nullptr) ListHolders(symbols, *forward, sold_kind, result);
  if (stats != nullptr) stats->nodes_and_holders_micros += MicrosSince(answer_start);

  if (!edge_thread.joinable()) edges.Sort();
  edges.List();
  if (edge_thread.joinable()) edge_thread.join();
  edges.Take(result.mutable_edges());
  if (stats != nullptr) stats->answer_micros += MicrosSince(answer_start);
  return result;
}

}  // namespace traceledger::projections
