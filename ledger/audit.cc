#include "ledger/audit.h"

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <thread>

#include "ledger/base/encoding.h"
#include "ledger/checkpoint.h"
#include "ledger/merkle/hasher.h"
#include "ledger/merkle/proof.h"
#include "ledger/merkle/tile.h"

namespace traceledger::ledger {
namespace {

using merkle::kTileHeight;
using merkle::kTileWidth;
using merkle::Tile;
using merkle::TileId;

constexpr uint64_t kProgressEvery = 1 << 14;

std::string Short(const Sha256Digest& d) { return HexEncode(d).substr(0, 16) + ".."; }
std::string Seq(uint64_t n) { return std::to_string(n); }
std::string TileName(TileId id) {
  return "tile " + std::to_string(id.level) + "/" + std::to_string(id.index);
}

// The first 8 bytes of an event-id index key, as a number (0 means "no entry").
uint64_t Fingerprint(std::string_view index_key) {
  return DecodeFixed64BigEndian(index_key) | 1;
}

// Collects findings from all threads, keeping the lowest sequences.
class Findings {
 public:
  void Add(std::optional<uint64_t> sequence, std::string problem) {
    std::lock_guard<std::mutex> lock(mu_);
    findings_.push_back({sequence, std::move(problem)});
    if (findings_.size() > 4 * kMaxAuditFindings) Trim();
  }
  std::vector<AuditFinding> Take() {
    std::lock_guard<std::mutex> lock(mu_);
    Trim();
    return std::move(findings_);
  }

 private:
  void Trim() {
    std::stable_sort(findings_.begin(), findings_.end(),
                     [](const AuditFinding& a, const AuditFinding& b) {
                       if (a.sequence.has_value() != b.sequence.has_value()) {
                         return a.sequence.has_value();
                       }
                       return a.sequence.value_or(0) < b.sequence.value_or(0);
                     });
    if (findings_.size() > kMaxAuditFindings) findings_.resize(kMaxAuditFindings);
  }
  std::mutex mu_;
  std::vector<AuditFinding> findings_;  // guarded by mu_
};

// Compares a tile recomputed from the entries with the stored one. A mismatch is reported only
// where it starts: a leaf, or a node whose children both match (a node above a mismatch is
// only its consequence), and a bottom node of a higher tile whose subtree below was sound.
// Returns true if every node matched and no bottom node was suspect.
bool CompareTile(const LogStore& store, TileId id, const Tile& computed,
                 const std::vector<bool>* suspect_bottom, Findings& findings,
                 std::atomic<uint64_t>& tiles_checked) {
  const uint64_t first_leaf_of_tile = id.index << (kTileHeight * (id.level + 1));
  auto stored = store.GetTile(id);
  if (!stored.ok()) {
    findings.Add(first_leaf_of_tile, TileName(id) + ": " + stored.status().message());
    return false;
  }
  tiles_checked.fetch_add(1, std::memory_order_relaxed);
  if (!stored->has_value()) {
    findings.Add(first_leaf_of_tile, TileName(id) + " is missing");
    return false;
  }
  const Tile& tile = **stored;
  if (tile.count() != computed.count()) {
    findings.Add(first_leaf_of_tile, TileName(id) + " holds " + std::to_string(tile.count()) +
                                         " nodes, want " + std::to_string(computed.count()));
    return false;
  }
  bool sound = true;
  std::vector<bool> below;  // mismatches of the row below
  for (uint32_t row = 0; row < kTileHeight; ++row) {
    std::vector<bool> here(computed.RowWidth(row), false);
    for (uint32_t pos = 0; pos < here.size(); ++pos) {
      const bool suspect = row == 0 ? suspect_bottom != nullptr && (*suspect_bottom)[pos]
                                    : below[2 * pos] || below[2 * pos + 1];
      here[pos] = suspect || tile.Node(row, pos) != computed.Node(row, pos);
      if (!here[pos]) continue;
      sound = false;
      if (suspect) continue;
      const uint32_t level = kTileHeight * id.level + row;
      const uint64_t index = (id.index * (kTileWidth >> row)) + pos;
      const std::string what = level == 0 ? "leaf hash of entry " + Seq(index)
                                          : "tree node " + std::to_string(level) + "/" + Seq(index);
      findings.Add(index << level, what + " (" + TileName(id) + "): stored " +
                                       Short(tile.Node(row, pos)) + ", recomputed " +
                                       Short(computed.Node(row, pos)));
    }
    below = std::move(here);
  }
  return sound;
}

// NodeSource over stored tiles, for checkpoint roots once the tiles have been verified.
class StoreNodes : public merkle::NodeSource {
 public:
  explicit StoreNodes(const LogStore& store) : store_(store) {}
  Result<Sha256Digest> GetNode(uint32_t level, uint64_t index) override {
    const merkle::NodeLocation loc = merkle::LocateNode(level, index);
    if (!tile_.has_value() || id_ != loc.tile) {
      TL_ASSIGN_OR_RETURN(tile_, store_.GetTile(loc.tile));
      id_ = loc.tile;
    }
    if (!tile_.has_value() || !tile_->HasNode(loc.row, loc.position)) {
      return Status::DataLoss(TileName(loc.tile) + " lacks node " + std::to_string(level) + "/" +
                              Seq(index));
    }
    return tile_->Node(loc.row, loc.position);
  }

 private:
  const LogStore& store_;
  TileId id_;
  std::optional<Tile> tile_;
};

struct EntryScan {
  uint64_t begin = 0;
  uint64_t end = 0;
  // Roots of the complete level-0 tiles of this range, indexed from begin / 256, and whether
  // the tile under each was unsound (its stored nodes or entries did not check out).
  std::vector<Sha256Digest> tile_roots;
  std::vector<bool> root_suspect;
  Status status;  // I/O failure that stopped the scan
};

// Checks entries [scan.begin, scan.end): decoding, sequence, chain, and level-0 tiles.
void ScanEntries(const LogStore& store, EntryScan& scan, std::vector<uint64_t>& fingerprints,
                 Findings& findings, std::atomic<uint64_t>& checked,
                 std::atomic<uint64_t>& tiles_checked, const AuditOptions& options,
                 uint64_t total) {
  Sha256Digest previous{};
  if (scan.begin > 0) {
    auto bytes = store.GetEntry(scan.begin - 1);
    if (!bytes.ok()) {
      scan.status = bytes.status();
      return;
    }
    // A missing previous entry is reported by the scan that owns it; chain from zeros here.
    if (bytes->has_value()) previous = merkle::HashLeaf(**bytes);
  }
  std::unique_ptr<rocksdb::Iterator> it = store.NewIterator(Family::kEntries, false);
  v1::LedgerEntry entry;
  Tile tile;
  uint64_t expected = scan.begin;
  uint64_t since_progress = 0;
  auto finish_tile = [&](uint64_t tile_index) {
    if (tile.count() == 0) return;
    CompareTile(store, TileId{0, tile_index}, tile, nullptr, findings, tiles_checked);
    tile = Tile();
  };
  for (it->Seek(EntryKey(scan.begin)); it->Valid(); it->Next()) {
    const auto key = DecodeSequenceKey(it->key().ToStringView());
    if (!key.ok()) {
      findings.Add(expected, "entries key of " + std::to_string(it->key().size()) +
                                 " bytes is not a sequence number");
      continue;
    }
    const uint64_t sequence = *key;
    if (sequence >= scan.end) break;
    if (sequence != expected) {
      findings.Add(expected, "entries " + Seq(expected) + " to " + Seq(sequence - 1) +
                                 " are missing");
      // The tree cannot be checked across the hole; resume at the next tile.
      return;
    }
    const std::string_view bytes = it->value().ToStringView();
    const Sha256Digest leaf = merkle::HashLeaf(bytes);
    if (!entry.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      findings.Add(sequence, "entry " + Seq(sequence) + " does not decode as a LedgerEntry");
    } else {
      if (entry.sequence() != sequence) {
        findings.Add(sequence, "entry " + Seq(sequence) + ": sequence field got " +
                                   Seq(entry.sequence()) + ", want " + Seq(sequence));
      }
      if (entry.format_version() != 1) {
        findings.Add(sequence, "entry " + Seq(sequence) + ": format_version got " +
                                   std::to_string(entry.format_version()) + ", want 1");
      }
      if (entry.previous_hash() != AsBytes(previous)) {
        findings.Add(sequence, "entry " + Seq(sequence) + ": previous_hash got " +
                                   HexEncode(entry.previous_hash()).substr(0, 16) +
                                   ".., want " + Short(previous));
      }
      if (entry.event_id().empty()) {
        findings.Add(sequence, "entry " + Seq(sequence) + ": event_id is empty");
      } else {
        fingerprints[sequence] = Fingerprint(EventIdKey(entry.event_id()));
      }
    }
    previous = leaf;
    std::optional<Sha256Digest> root = tile.Append(leaf);
    if (root.has_value()) {
      const uint64_t tile_index = sequence / kTileWidth;
      const size_t slot = tile_index - scan.begin / kTileWidth;
      scan.tile_roots[slot] = *root;
      scan.root_suspect[slot] =
          !CompareTile(store, TileId{0, tile_index}, tile, nullptr, findings, tiles_checked);
      tile = Tile();
    }
    ++expected;
    if (++since_progress == kProgressEvery) {
      const uint64_t done = checked.fetch_add(since_progress) + since_progress;
      since_progress = 0;
      if (options.progress) options.progress(done, total);
    }
  }
  checked.fetch_add(since_progress);
  if (Status s = LogStore::IteratorStatus(*it, "scanning entries"); !s.ok()) {
    scan.status = s;
    return;
  }
  if (expected < scan.end) {
    findings.Add(expected, "entries " + Seq(expected) + " to " + Seq(scan.end - 1) +
                               " are missing");
    return;
  }
  finish_tile(scan.end / kTileWidth);
}

}  // namespace

std::optional<uint64_t> AuditReport::first_bad_sequence() const {
  if (findings.empty()) return std::nullopt;
  return findings.front().sequence;
}

Result<AuditReport> AuditLog(const LogStore& store, const AuditOptions& options) {
  AuditReport report;
  Findings findings;
  TL_ASSIGN_OR_RETURN(std::optional<std::string> metadata_bytes, store.GetMetadata());
  v1::LogMetadata metadata;
  if (!metadata_bytes.has_value() || !metadata.ParseFromString(*metadata_bytes)) {
    findings.Add(std::nullopt, "log metadata is missing or does not decode");
    report.findings = findings.Take();
    return report;
  }
  auto verifier = NoteVerifier::FromVerifierKeyText(metadata.verifier_key());
  if (!verifier.ok()) {
    findings.Add(std::nullopt, "log metadata verifier key: " + verifier.status().message());
    report.findings = findings.Take();
    return report;
  }
  TL_ASSIGN_OR_RETURN(const uint64_t size, store.CountEntries());

  // 1. Entries and level-0 tiles, in parallel over tile-aligned ranges; the event-id index is
  //    scanned alongside.
  unsigned threads = options.threads != 0 ? options.threads : std::thread::hardware_concurrency();
  threads = std::max(1u, threads);
  const uint64_t tiles0 = (size + kTileWidth - 1) / kTileWidth;
  const uint64_t tiles_per_scan = std::max<uint64_t>(1, (tiles0 + threads - 1) / threads);
  std::vector<EntryScan> scans;
  for (uint64_t t = 0; t < tiles0; t += tiles_per_scan) {
    EntryScan scan;
    scan.begin = t * kTileWidth;
    scan.end = std::min(size, (t + tiles_per_scan) * kTileWidth);
    scan.tile_roots.resize(tiles_per_scan);
    scan.root_suspect.assign(tiles_per_scan, true);  // until the scan completes the tile
    scans.push_back(std::move(scan));
  }
  std::vector<uint64_t> entry_fingerprints(size, 0);
  std::vector<uint64_t> index_fingerprints(size, 0);
  std::atomic<uint64_t> checked{0};
  std::atomic<uint64_t> tiles_checked{0};
  std::atomic<uint64_t> index_records{0};
  Status index_status;
  {
    std::vector<std::thread> workers;
    for (EntryScan& scan : scans) {
      workers.emplace_back([&, &scan = scan] {
        ScanEntries(store, scan, entry_fingerprints, findings, checked, tiles_checked, options,
                    size);
      });
    }
    workers.emplace_back([&] {
      std::unique_ptr<rocksdb::Iterator> it = store.NewIterator(Family::kEventIds, false);
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        index_records.fetch_add(1, std::memory_order_relaxed);
        const std::string_view key = it->key().ToStringView();
        if (key.size() != kEventIdKeyBytes || it->value().size() != 8) {
          findings.Add(std::nullopt, "event id index record " + HexEncode(key) + " has a " +
                                         std::to_string(key.size()) + "-byte key and a " +
                                         std::to_string(it->value().size()) +
                                         "-byte value, want 16 and 8");
          continue;
        }
        const uint64_t sequence = DecodeFixed64BigEndian(it->value().ToStringView());
        if (sequence >= size) {
          findings.Add(std::nullopt, "event id index maps key " + HexEncode(key) + " to entry " +
                                         Seq(sequence) + ", beyond the log");
          continue;
        }
        if (index_fingerprints[sequence] != 0) {
          findings.Add(sequence, "event id index maps two ids to entry " + Seq(sequence));
        }
        index_fingerprints[sequence] = Fingerprint(key);
      }
      index_status = LogStore::IteratorStatus(*it, "scanning the event id index");
    });
    for (std::thread& worker : workers) worker.join();
  }
  for (const EntryScan& scan : scans) TL_RETURN_IF_ERROR(scan.status);
  TL_RETURN_IF_ERROR(index_status);
  report.entries_checked = checked.load();
  report.index_records_checked = index_records.load();
  for (uint64_t sequence = 0; sequence < size; ++sequence) {
    if (entry_fingerprints[sequence] == 0) continue;  // entry itself already reported
    if (index_fingerprints[sequence] != entry_fingerprints[sequence]) {
      findings.Add(sequence, index_fingerprints[sequence] == 0
                                 ? "event id of entry " + Seq(sequence) + " is not in the index"
                                 : "event id index maps another id to entry " + Seq(sequence));
    }
  }

  // 2. Higher tile levels, from the verified roots of the level below.
  std::vector<Sha256Digest> bottom;
  std::vector<bool> suspect;
  for (const EntryScan& scan : scans) {
    const auto complete =
        static_cast<ptrdiff_t>((scan.end / kTileWidth) - (scan.begin / kTileWidth));
    bottom.insert(bottom.end(), scan.tile_roots.begin(), scan.tile_roots.begin() + complete);
    suspect.insert(suspect.end(), scan.root_suspect.begin(), scan.root_suspect.begin() + complete);
  }
  for (uint32_t level = 1; !bottom.empty(); ++level) {
    std::vector<Sha256Digest> next;
    std::vector<bool> next_suspect;
    Tile tile;
    for (uint64_t i = 0; i < bottom.size(); i += kTileWidth) {
      const uint64_t end = std::min<uint64_t>(bottom.size(), i + kTileWidth);
      const std::vector<bool> tile_suspect(suspect.begin() + static_cast<ptrdiff_t>(i),
                                           suspect.begin() + static_cast<ptrdiff_t>(end));
      std::optional<Sha256Digest> root;
      for (uint64_t j = i; j < end; ++j) root = tile.Append(bottom[j]);
      const bool sound = CompareTile(store, TileId{level, i / kTileWidth}, tile, &tile_suspect,
                                     findings, tiles_checked);
      if (root.has_value()) {
        next.push_back(*root);
        next_suspect.push_back(!sound);
      }
      tile = Tile();
    }
    bottom = std::move(next);
    suspect = std::move(next_suspect);
  }
  // No tile may lie beyond the tree.
  {
    std::unique_ptr<rocksdb::Iterator> it = store.NewIterator(Family::kTiles, false);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      auto id = DecodeTileKey(it->key().ToStringView());
      if (!id.ok()) {
        findings.Add(std::nullopt, "tiles: " + id.status().message());
        continue;
      }
      const uint64_t nodes = id->level < merkle::kMaxTileLevels
                                 ? size >> (kTileHeight * id->level)
                                 : 0;
      const uint64_t tiles_at_level = (nodes + kTileWidth - 1) / kTileWidth;
      if (id->index >= tiles_at_level) {
        findings.Add(std::nullopt, TileName(*id) + " lies beyond the tree of size " + Seq(size));
      }
    }
    TL_RETURN_IF_ERROR(LogStore::IteratorStatus(*it, "scanning tiles"));
  }
  report.tiles_checked = tiles_checked.load();

  // 3. Checkpoints: signature, origin, and root against the verified tree.
  {
    StoreNodes nodes(store);
    std::unique_ptr<rocksdb::Iterator> it = store.NewIterator(Family::kCheckpoints, false);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      ++report.checkpoints_checked;
      auto key = DecodeSequenceKey(it->key().ToStringView());
      if (!key.ok()) {
        findings.Add(std::nullopt, "checkpoints: " + key.status().message());
        continue;
      }
      const std::string name = "checkpoint at size " + Seq(*key);
      auto checkpoint = OpenCheckpoint(it->value().ToStringView(), *verifier, metadata.origin());
      if (!checkpoint.ok()) {
        findings.Add(std::nullopt, name + ": " + checkpoint.status().message());
        continue;
      }
      if (checkpoint->tree_size != *key) {
        findings.Add(std::nullopt, name + " says tree size " + Seq(checkpoint->tree_size));
        continue;
      }
      if (*key > size) {
        findings.Add(std::nullopt, name + " covers more than the log's " + Seq(size) +
                                       " entries: entries were lost");
        continue;
      }
      auto root = merkle::RootHash(nodes, *key);
      if (!root.ok()) {
        findings.Add(std::nullopt, name + ": cannot compute the tree root: " +
                                       root.status().message());
        continue;
      }
      if (*root != checkpoint->root_hash) {
        findings.Add(std::nullopt, name + ": signed root " + Short(checkpoint->root_hash) +
                                       " differs from the log's root " + Short(*root));
      }
    }
    TL_RETURN_IF_ERROR(LogStore::IteratorStatus(*it, "scanning checkpoints"));
  }
  report.findings = findings.Take();
  return report;
}

}  // namespace traceledger::ledger
