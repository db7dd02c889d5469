// File: projections/projection.h
//
// A projection is a named, versioned, deterministic fold over ledger entries in sequence order
// (DESIGN.md invariant 6). Each keeps its rows in its own column family of the views database,
// with its cursor (the next sequence to apply) written in the same atomic write as the rows
// (ViewStore::Write), so a crash never applies an entry twice or skips one. Changing version()
// rebuilds it from 0.
//
// Apply() must be a pure function of the entries applied so far: read only through `rows`,
// never the clock or anything else, so that a rebuilt view is byte-identical to the one built
// incrementally (tested). Messages must be written with DeterministicBytes().
#ifndef TRACELEDGER_PROJECTIONS_PROJECTION_H_
#define TRACELEDGER_PROJECTIONS_PROJECTION_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/message.h>

#include "ledger/base/status.h"
#include "projections/event_facts.h"
#include "tl/v1/events.pb.h"
#include "tl/v1/ledger.pb.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class Iterator;
class Snapshot;
}  // namespace rocksdb

namespace traceledger::projections {

class PendingRows;  // projections/internal/pending_rows.h: one batch's rows of one view
class KeyFilter;    // projections/internal/key_filter.h: keys a view may hold

// The protobuf encoding of `message` with map entries in key order, so equal messages have
// equal bytes.
std::string DeterministicBytes(const google::protobuf::Message& message);

// Reads of a view as of the entries applied so far, including the batch being applied.
class ViewReader {
 public:
  // Reads `family` of `db`, under the rows `pending` in the batch being applied (null: the
  // database only). `db`, `family` and `pending` must outlive the reader.
  ViewReader(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family, PendingRows* pending = nullptr)
      : db_(db), family_(family), pending_(pending) {}
  Result<std::optional<std::string>> Get(std::string_view key) const;
  // Whether the row exists: Get without copying its value out.
  Result<bool> Contains(std::string_view key) const;
  // Calls visit(key, value) for keys starting with `prefix`, in order, until it returns false.
  Status Scan(std::string_view prefix,
              const std::function<bool(std::string_view, std::string_view)>& visit) const;
  template <typename M>
  Result<std::optional<M>> GetMessage(std::string_view key) const {
    std::optional<M> message(std::in_place);
    TL_ASSIGN_OR_RETURN(const bool found, ReadMessage(key, &*message));
    if (!found) return std::optional<M>();
    return message;
  }
  // Reads the row by a hand-written codec (projections/internal/wire.h) of a row too hot for
  // protobuf's: calls decode(bytes) if the row exists, and returns whether it does. DataLoss
  // naming `what` if decode returns false.
  template <typename Decode>
  Result<bool> ReadDecoded(std::string_view key, std::string_view what, Decode&& decode) const {
    std::string storage;
    TL_ASSIGN_OR_RETURN(std::optional<std::string_view> bytes, Find(key, &storage));
    if (!bytes.has_value()) return false;
    if (!decode(*bytes)) {
      return Status::DataLoss("view row does not decode as " + std::string(what));
    }
    return true;
  }
  // GetMessage into `*message`, which is cleared first: true if the row exists (else
  // `*message` stays cleared). A message read into again and again keeps its strings' memory
  // (not its sub-messages': proto3's Clear frees them; the hottest rows have codecs of their
  // own for that, ReadDecoded), so a fold that reads one row per object allocates little.
  template <typename M>
  Result<bool> ReadMessage(std::string_view key, M* message) const {
    // Parsing clears the message first.
    TL_ASSIGN_OR_RETURN(const bool found,
                        ReadDecoded(key, M::descriptor()->full_name(), [&](std::string_view b) {
                          return message->ParseFromArray(b.data(), static_cast<int>(b.size()));
                        }));
    if (!found) message->Clear();
    return found;
  }

 protected:
  friend class ViewScanner;
  friend class ProjectionRunner;
  // Get without a copy: the value where it is (a row of the runner's, valid until that row is
  // written again or the batch is; or `*storage`, which the database's value is read into).
  Result<std::optional<std::string_view>> Find(std::string_view key, std::string* storage) const;

  // One database iterator for the prefix scans of a batch being applied (the runner's readers
  // only): the view's stored rows do not change until the batch is written, so reseeking it
  // reads what a new iterator would, without building one per scan.
  struct BatchScan;
  void ReuseIteratorInBatch();

  // What the runner knows of the database's rows from the batch before this one (the runner's
  // readers only). Point reads look here before the database: an object's rows are mostly read
  // again soon after they were last read or written (shipped, then received, then sold), and a
  // read of the database, found or not, looks at every level-0 file's filter. Get then records
  // what it found in `reading` (so such a reader, like the runner's, is used by one thread).
  // Likewise for prefix scans that found no row in the database (keys: the prefixes).
  struct KnownRows {
    const PendingRows* written = nullptr;  // the batch before's rows, now in the database
    const PendingRows* read = nullptr;     // what it read (a row without a value: none there)
    PendingRows* reading = nullptr;        // what this batch reads, kept for the next one
    const PendingRows* read_empty = nullptr;  // prefixes the batch before found no row under
    PendingRows* reading_empty = nullptr;     // prefixes this batch found none under
    // Set when the runner saw the view empty and has added every key written since (a
    // superset of the database's keys and of their first components): a key or prefix they do
    // not hold is in neither the database nor the batch before's rows, and is not looked for.
    const KeyFilter* stored_keys = nullptr;
    const KeyFilter* stored_prefixes = nullptr;
  };
  void ReadKnownRowsFirst(const KnownRows& known) { known_ = known; }

  rocksdb::DB* db_;
  rocksdb::ColumnFamilyHandle* family_;
  PendingRows* pending_;  // null: reads the database only
  KnownRows known_;  // all null: none
  std::shared_ptr<BatchScan> batch_scan_;  // null: an iterator per scan
};

// Many prefix scans of one view through one database iterator (a trace makes thousands): the
// rows ViewReader::Scan visits, without opening an iterator per scan. Reads the database as it
// was when the scanner was made (and the reader's pending rows as they are). Not thread-safe;
// `reader` and its database must outlive the scanner (and its siblings).
class ViewScanner {
 public:
  // Whether the scanner may have siblings (Sibling): then it reads a snapshot, taken when it is
  // made. Alone, it pays for none.
  enum class Siblings { kNone, kAllowed };
  explicit ViewScanner(const ViewReader& reader, Siblings siblings = Siblings::kNone);
  ~ViewScanner();
  ViewScanner(const ViewScanner&) = delete;
  ViewScanner& operator=(const ViewScanner&) = delete;
  Status Scan(std::string_view prefix,
              const std::function<bool(std::string_view, std::string_view)>& visit);

  // Another scanner that reads exactly what this one reads (the database as of one snapshot,
  // taken when this scanner was made), for another thread to scan ahead of this one. Null if
  // this scanner was made with Siblings::kNone, the reader has pending rows (a runner's, which
  // change as it applies) or the database gave no snapshot.
  std::unique_ptr<ViewScanner> Sibling() const;

 private:
  using Snapshot = std::shared_ptr<const rocksdb::Snapshot>;
  ViewScanner(const ViewReader& reader, Snapshot snapshot);

  const ViewReader& reader_;
  Snapshot snapshot_;  // null: none (no siblings); released with the last scanner using it
  std::unique_ptr<rocksdb::Iterator> iterator_;  // prefix mode; made on first use
};

// A projection's rows while it applies entries: reads see its own pending writes.
class ViewRows : public ViewReader {
 public:
  using ViewReader::ViewReader;
  void Put(std::string_view key, std::string_view value);
  // Put(key, DeterministicBytes(message)), serialized straight into the pending row.
  void PutMessage(std::string_view key, const google::protobuf::Message& message);
  void Delete(std::string_view key);
  // Read access to a view this projection declared in dependencies(), as of the same entry.
  // Requires `name` to be declared.
  const ViewReader& Dependency(std::string_view name) const;

 private:
  friend class ProjectionRunner;
  // The batch's rows, once `key` is checked to be a row key (not the cursor's).
  PendingRows& RowsToPut(std::string_view key);

  std::vector<std::pair<std::string, ViewReader>> dependencies_;
};

// One ledger entry as projections see it.
struct AppliedEntry {
  uint64_t sequence = 0;
  const v1::LedgerEntry* entry = nullptr;  // decoded entry record
  const v1::Event* event = nullptr;        // null if the event could not be decoded
  const EventFacts* facts = nullptr;       // null when event is null
};

class Projection {
 public:
  virtual ~Projection() = default;
  // A stable name: the column family of its rows.
  virtual std::string_view name() const = 0;
  // Bump when the rows' meaning or layout changes: the view is rebuilt from sequence 0.
  virtual uint32_t version() const = 0;
  // Views this one reads while applying (applied before it, rebuilt with it).
  virtual std::vector<std::string> dependencies() const { return {}; }
  // Folds entry `entry` into the rows. A non-OK status stops the runner without writing the
  // batch (so nothing is half applied).
  virtual Status Apply(const AppliedEntry& entry, ViewRows& rows) = 0;
};

}  // namespace traceledger::projections

#endif  // TRACELEDGER_PROJECTIONS_PROJECTION_H_
