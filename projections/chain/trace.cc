#include "projections/chain/trace.h"

#include <algorithm>
#include <array>
#include <limits>
#include <map>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "projections/chain/genealogy.h"
#include "projections/chain/holdings.h"
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

struct Label {
  int64_t time = 0;
  uint32_t depth = 0;
  bool set = false;
  bool settled = false;
};

struct NodeState {
  v1::NodeKind kind = v1::NODE_KIND_OBJECT;
  std::array<Label, 2> labels;
  bool in_answer = false;
};

struct QueueItem {
  int64_t time;
  uint32_t depth;
  std::string id;
  Mode mode;
};

// One direction of a trace: a label-setting (Dijkstra) walk over time, which is sound because
// following an edge never makes the time better (forward: never earlier; backward: never
// later).
class Walk {
 public:
  Walk(ViewScanner& genealogy, bool forward, const TraceLimits& limits, size_t max_nodes,
       size_t* edges_scanned)
      : genealogy_(genealogy),
        forward_(forward),
        limits_(limits),
        max_nodes_(max_nodes),
        edges_scanned_(edges_scanned),
        queue_(Order{forward}) {}

  Status Run(const std::string& root) {
    Relax(root, v1::NODE_KIND_OBJECT, forward_ ? kDescent : kFree, forward_ ? kEarliest : kLatest,
          0);
    while (!queue_.empty() && truncated_reason_.empty()) {
      QueueItem item = queue_.top();
      queue_.pop();
      NodeState& state = states_.at(item.id);
      Label& label = state.labels[item.mode];
      if (label.settled || label.time != item.time || label.depth != item.depth) continue;
      label.settled = true;
      if (!state.in_answer) {
        if (answer_.size() >= max_nodes_) {
          truncated_reason_ = "max_nodes";
          break;
        }
        state.in_answer = true;
        v1::TraceNode& node = answer_.emplace_back();
        node.set_id(item.id);
        node.set_kind(state.kind);
        node.set_time_unix_micros(item.time);
        node.set_depth(item.depth);
        node.set_direction(item.depth == 0 ? "root" : forward_ ? "forward" : "backward");
      }
      if (state.kind != v1::NODE_KIND_OBJECT) continue;  // parties and places are leaves
      TL_RETURN_IF_ERROR(forward_ ? ExpandForward(item) : ExpandBackward(item));
    }
    return Status::Ok();
  }

  bool forward() const { return forward_; }
  const std::vector<v1::TraceNode>& answer() const { return answer_; }
  const std::string& truncated_reason() const { return truncated_reason_; }
  bool InAnswer(const std::string& id) const {
    auto it = states_.find(id);
    return it != states_.end() && it->second.in_answer;
  }
  // Edges followed, each with the node it led to.
  const std::vector<std::pair<v1::GenealogyEdge, bool>>& followed() const { return followed_; }

 private:
  struct Order {
    bool forward;
    // True if `a` comes after `b` (std::priority_queue pops the greatest).
    bool operator()(const QueueItem& a, const QueueItem& b) const {
      if (a.time != b.time) return forward ? a.time > b.time : a.time < b.time;
      return std::tie(a.depth, a.id, a.mode) > std::tie(b.depth, b.id, b.mode);
    }
  };

  bool Better(int64_t a, int64_t b) const { return forward_ ? a < b : a > b; }

  void Relax(const std::string& id, v1::NodeKind kind, Mode mode, int64_t time, uint32_t depth) {
    auto [it, inserted] = states_.try_emplace(id);
    if (inserted) it->second.kind = kind;
    Label& label = it->second.labels[mode];
    if (label.settled) return;
    if (label.set && !Better(time, label.time) && !(time == label.time && depth < label.depth)) {
      return;
    }
    label.time = time;
    label.depth = depth;
    label.set = true;
    queue_.push(QueueItem{time, depth, id, mode});
  }

  // Follows `edge` from the node being expanded to `target` (a field of `edge`), reached at
  // `time`. Takes the edge's contents (`edge` is left to be parsed into again).
  void Follow(v1::GenealogyEdge& edge, const std::string& target, v1::NodeKind kind, Mode mode,
              int64_t time, uint32_t depth, bool target_is_to) {
    if (depth > limits_.max_depth) {
      if (!InAnswer(target)) truncated_reason_ = "max_depth";
    } else {
      Relax(target, kind, mode, time, depth);
    }
    followed_.emplace_back(v1::GenealogyEdge(), target_is_to);
    followed_.back().first.Swap(&edge);
  }

  bool CountEdge() {
    if (++*edges_scanned_ > limits_.max_edges_scanned) {
      truncated_reason_ = "max_edges_scanned";
      return false;
    }
    return true;
  }

  Status ExpandForward(const QueueItem& from) {
    const int64_t reached = from.time;
    const uint32_t depth = from.depth + 1;
    Status parsed;
    v1::GenealogyEdge edge;
    const std::string prefix = OutEdgePrefix(from.id);
    TL_RETURN_IF_ERROR(
        genealogy_.Scan(prefix, [&](std::string_view key, std::string_view value) {
          if (!CountEdge()) return false;
          // The key says the edge's time and kind (time, sequence, kind, 0x00, to): most edges
          // that are not followed need no decoding.
          if (key.size() > prefix.size() + 16) {
            const int64_t key_time = DecodeTime(key.substr(prefix.size(), 8));
            std::string_view key_kind = key.substr(prefix.size() + 16);
            key_kind = key_kind.substr(0, key_kind.find('\0'));
            const bool containment = key_kind == kEdgeContains || key_kind == kEdgeContainedBy;
            if (key_kind == kEdgeContainedBy && from.mode != kDescent) return true;
            if (!containment && key_time < reached) return true;  // before it got here
          }
          if (!edge.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
            parsed = Status::DataLoss("genealogy edge of " + from.id + " does not decode");
            return false;
          }
          const std::string_view kind = edge.kind();
          const int64_t time = edge.time_unix_micros();
          if (kind == kEdgeTransform) {
            if (time >= reached) Follow(edge, edge.to(), v1::NODE_KIND_OBJECT, kFree, time, depth, true);
          } else if (kind == kEdgeContains || kind == kEdgeContainedBy) {
            const bool down = kind == kEdgeContainedBy;
            if (down && from.mode != kDescent) return true;
            // Inside during [packed, removed): still inside when the child was reached?
            if (edge.removed() && edge.removed_time_unix_micros() < reached) return true;
            Follow(edge, edge.to(), v1::NODE_KIND_OBJECT, down ? kDescent : kFree,
                   std::max(time, reached), depth, true);
          } else if (IsCustody(kind)) {
            if (time >= reached) Follow(edge, edge.to(), edge.to_kind(), kFree, time, depth, true);
          }
          return truncated_reason_.empty();
        }));
    return parsed;
  }

  Status ExpandBackward(const QueueItem& at) {
    const int64_t asked = at.time;
    const uint32_t depth = at.depth + 1;
    Status parsed;
    v1::GenealogyEdge edge;
    // Into the node: the inputs it was made from, and the contents of it as a container. The
    // in-edge rows are keys only, keyed by time after the prefix: take the keys up to the first
    // one later than `asked`, then read the out-edge row of the kinds followed, through the same
    // iterator (so every row as of one moment).
    const std::string in_prefix = InEdgePrefix(at.id);
    const size_t budget = limits_.max_edges_scanned - std::min(limits_.max_edges_scanned,
                                                                *edges_scanned_);
    std::vector<std::string> in_keys;
    TL_RETURN_IF_ERROR(genealogy_.Scan(in_prefix, [&](std::string_view key, std::string_view) {
      if (key.size() < in_prefix.size() + 8) {
        parsed = Status::DataLoss("genealogy key of " + at.id + " is too short");
        return false;
      }
      if (DecodeTime(key.substr(in_prefix.size(), 8)) > asked) return false;
      in_keys.emplace_back(key);
      return in_keys.size() <= budget;  // one more than the budget: CountEdge says truncated
    }));
    TL_RETURN_IF_ERROR(parsed);
    for (const std::string& key : in_keys) {
      if (!CountEdge()) break;
      const std::optional<std::string> target = InEdgeTarget(key, in_prefix.size());
      if (!target.has_value()) {
        return Status::DataLoss("genealogy in-edge key of " + at.id + " is malformed");
      }
      // The target key: "o" from 0x00 | time | sequence | kind 0x00 | to 0x00.
      std::string_view kind = std::string_view(*target).substr(target->find('\0') + 17);
      kind = kind.substr(0, kind.find('\0'));
      if (kind != kEdgeTransform && kind != kEdgeContains) continue;
      bool found = false;
      TL_RETURN_IF_ERROR(
          genealogy_.Scan(*target, [&](std::string_view row_key, std::string_view value) {
            found = row_key.size() == target->size();
            if (found && !edge.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
              parsed = Status::DataLoss("genealogy edge of " + at.id + " does not decode");
            }
            return false;
          }));
      TL_RETURN_IF_ERROR(parsed);
      if (!found) {
        return Status::DataLoss("genealogy in-edge of " + at.id + " without its out-edge row");
      }
      if (edge.kind() == kEdgeTransform) {
        Follow(edge, edge.from(), v1::NODE_KIND_OBJECT, kFree, edge.time_unix_micros(), depth,
               false);
      } else {
        const int64_t until = edge.removed() ? std::min(asked, edge.removed_time_unix_micros())
                                             : asked;
        Follow(edge, edge.from(), v1::NODE_KIND_OBJECT, kFree, until, depth, false);
      }
      if (!truncated_reason_.empty()) break;
    }
    if (!truncated_reason_.empty()) return Status::Ok();
    // Out of the node up to then: the parties that had it.
    const std::string out_prefix = OutEdgePrefix(at.id);
    TL_RETURN_IF_ERROR(genealogy_.Scan(out_prefix, [&](std::string_view key,
                                                       std::string_view value) {
      if (key.size() < out_prefix.size() + 8) {
        parsed = Status::DataLoss("genealogy key of " + at.id + " is too short");
        return false;
      }
      if (DecodeTime(key.substr(out_prefix.size(), 8)) > asked) return false;
      if (!CountEdge()) return false;
      if (!edge.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
        parsed = Status::DataLoss("genealogy edge of " + at.id + " does not decode");
        return false;
      }
      if (IsCustody(edge.kind())) {
        Follow(edge, edge.to(), edge.to_kind(), kFree, edge.time_unix_micros(), depth, true);
      }
      return truncated_reason_.empty();
    }));
    return parsed;
  }

  ViewScanner& genealogy_;
  const bool forward_;
  const TraceLimits& limits_;
  const size_t max_nodes_;
  size_t* edges_scanned_;
  std::priority_queue<QueueItem, std::vector<QueueItem>, Order> queue_;
  std::unordered_map<std::string, NodeState> states_;
  std::vector<v1::TraceNode> answer_;
  std::vector<std::pair<v1::GenealogyEdge, bool>> followed_;  // bool: the target is edge.to
  std::string truncated_reason_;
};

v1::TraceEdge AnswerEdge(const v1::GenealogyEdge& edge) {
  v1::TraceEdge out;
  out.set_from(edge.from());
  out.set_to(edge.to());
  out.set_kind(edge.kind());
  out.set_sequence(edge.sequence());
  out.set_time_unix_micros(edge.time_unix_micros());
  out.set_quantity(edge.quantity());
  out.set_uom(edge.uom());
  out.set_party(edge.party());
  return out;
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

Result<v1::TraceResult> Trace(const ViewReader& genealogy, const ViewReader& holdings,
                              std::string_view root_id, TraceDirection direction,
                              const TraceLimits& limits) {
  if (root_id.empty()) return Status::InvalidArgument("trace root id is empty");
  if (limits.max_nodes == 0) return Status::InvalidArgument("trace max_nodes is 0");
  const std::string root(root_id);
  v1::TraceResult result;
  result.set_root_id(root);
  size_t edges_scanned = 0;

  ViewScanner genealogy_scanner(genealogy);
  std::vector<std::unique_ptr<Walk>> walks;
  size_t nodes_left = limits.max_nodes;
  for (bool forward : {false, true}) {
    if (forward && direction == TraceDirection::kBackward) continue;
    if (!forward && direction == TraceDirection::kForward) continue;
    // kBoth: the root is shared, so the forward walk may list what the backward one left + 1.
    const size_t max_nodes = walks.empty() ? nodes_left : nodes_left + 1;
    auto walk =
        std::make_unique<Walk>(genealogy_scanner, forward, limits, max_nodes, &edges_scanned);
    TL_RETURN_IF_ERROR(walk->Run(root));
    nodes_left = max_nodes - walk->answer().size();
    if (!walk->truncated_reason().empty() && !result.truncated()) {
      result.set_truncated(true);
      result.set_truncated_reason(walk->truncated_reason());
    }
    walks.push_back(std::move(walk));
  }

  // Nodes: the root once, then each walk's in the order reached.
  for (const auto& walk : walks) {
    for (const v1::TraceNode& node : walk->answer()) {
      if (node.depth() == 0 && result.nodes_size() > 0) continue;
      *result.add_nodes() = node;
    }
  }
  // Edges between nodes of the answer, once each.
  std::map<std::tuple<int64_t, uint64_t, std::string, std::string, std::string>, v1::TraceEdge>
      edges;
  std::map<std::pair<std::string, std::string>, v1::TraceHolder> sold;
  // Why a set of its own: in kBoth the backward walk may already have listed a sale that the
  // forward walk also follows; the sale still counts for the forward holders, once.
  std::set<std::tuple<int64_t, uint64_t, std::string, std::string, std::string>> sales_counted;
  for (const auto& walk : walks) {
    const bool forward = walk->forward();
    for (const auto& [edge, target_is_to] : walk->followed()) {
      if (!walk->InAnswer(target_is_to ? edge.to() : edge.from())) continue;
      const auto key = std::make_tuple(edge.time_unix_micros(), edge.sequence(), edge.kind(),
                                       edge.from(), edge.to());
      edges.try_emplace(key, AnswerEdge(edge));
      if (!forward || edge.kind() != kEdgeSold || !sales_counted.insert(key).second) continue;
      v1::TraceHolder& holder = sold[{edge.party(), edge.from()}];
      holder.set_party(edge.party());
      holder.set_object_id(edge.from());
      holder.set_quantity(holder.quantity() + edge.quantity());
      holder.set_uom(edge.uom());
      holder.set_location(edge.location());
      holder.set_sold_to_consumers(true);
    }
  }
  for (auto& [key, edge] : edges) *result.add_edges() = std::move(edge);

  // Holders: who holds the forward set now, then who sold it.
  if (direction != TraceDirection::kBackward) {
    std::map<std::pair<std::string, std::string>, v1::TraceHolder> holding;
    ViewScanner holdings_scanner(holdings);
    v1::Holding parsed_row;
    for (const v1::TraceNode& node : walks.back()->answer()) {
      if (node.kind() != v1::NODE_KIND_OBJECT) continue;
      // HoldingsOf(holdings, node.id()), through one iterator for every node.
      Status decoded;
      size_t count = 0;
      std::vector<v1::Holding> rows;
      TL_RETURN_IF_ERROR(holdings_scanner.Scan(
          HoldingsByObjectPrefix(node.id()), [&](std::string_view, std::string_view value) {
            if (!parsed_row.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
              decoded = Status::DataLoss("holdings row does not decode as traceledger.v1.Holding");
              return false;
            }
            if (parsed_row.quantity() >= kZeroQuantity) rows.push_back(parsed_row);
            return ++count < kMaxHoldingsPerQuery;
          }));
      TL_RETURN_IF_ERROR(decoded);
      for (const v1::Holding& row : rows) {
        v1::TraceHolder& holder = holding[{row.party(), row.object_id()}];
        holder.set_party(row.party());
        holder.set_object_id(row.object_id());
        holder.set_quantity(row.quantity());
        holder.set_uom(row.uom());
        holder.set_location(row.location());
      }
    }
    for (auto& [key, holder] : holding) *result.add_holders() = std::move(holder);
    for (auto& [key, holder] : sold) *result.add_holders() = std::move(holder);
  }
  return result;
}

}  // namespace traceledger::projections
