// The chain views over a generated supply chain of more than 100,000 events: every trace
// answer equals the one of a slow reference written here, over all events in memory with its
// own edge list, its own holdings and a label-correcting walk (a FIFO worklist that
// re-expands a node whenever its time improves) instead of the views' settled-order walk.
// Also: an incremental build in small batches is byte-identical to a rebuild, and the apply
// rate and trace latency are printed.
#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <deque>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "projections/chain/genealogy.h"
#include "projections/chain/holdings.h"
#include "projections/chain/testing/chain_events.h"
#include "projections/chain/trace.h"

namespace traceledger::projections {
namespace {

using testing::At;
using testing::ChainFixture;
using testing::Item;

// ---------------------------------------------------------------------------------------------
// A compact deterministic supply chain: farms commission lots and ship them to plants; plants
// feed lots into a long-running tank lot and draw products from it, or transform lots
// directly, pack products and serialized cases on pallets and ship them to distributors;
// distributors unpack (all or one child), repack (pallets inside pallets) and ship to
// retailers or other plants; retailers sell, destroy, remove for recalls, and sometimes sell
// what they never received. A few shipments are never received.

class SplitMix {
 public:
  explicit SplitMix(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t n) { return Next() % n; }
  bool Chance(int percent) { return Below(100) < static_cast<uint64_t>(percent); }

 private:
  uint64_t state_;
};

class ChainGenerator {
 public:
  ChainGenerator(uint64_t seed, size_t events) : rng_(seed), target_(events) {}

  std::vector<v1::Event> Run() {
    int64_t now = At(0);
    while (events_.size() < target_) {
      now += static_cast<int64_t>(1 + rng_.Below(90)) * 1000000;
      Deliver(now);
      const uint64_t r = rng_.Below(100);
      if (r < 12) {
        FarmCommission(now);
      } else if (r < 22) {
        FarmShip(now);
      } else if (r < 40) {
        PlantTransform(now);
      } else if (r < 52) {
        PlantPackAndShip(now);
      } else if (r < 66) {
        DistributorShip(now);
      } else if (r < 82) {
        RetailSell(now);
      } else if (r < 86) {
        Destroy(now);
      } else if (r < 89) {
        Removal(now);
      } else if (r < 92) {
        Sampling(now);
      } else if (r < 96) {
        UnpackOne(now);
      } else {
        Oversell(now);
      }
    }
    events_.resize(target_);
    return std::move(events_);
  }

  // Object ids the chain made, in creation order.
  const std::vector<std::string>& objects() const { return objects_; }
  const std::vector<std::string>& tanks() const { return tanks_; }

 private:
  static constexpr int kFarms = 40, kPlants = 8, kDistributors = 16, kRetailers = 80;
  enum Kind { kFarm = 1, kPlant = 2, kDistributor = 3, kRetailer = 4 };

  struct Stock {
    std::string id;
    int64_t quantity = 1;
    std::string uom;
    bool container = false;
  };
  struct Shipment {
    std::string receiver, sender;
    std::vector<Stock> items;
  };

  static std::string Party(Kind kind, int i) {
    return std::to_string(9520000000000LL + kind * 100000000LL + i * 10LL + 7);
  }
  static std::string Pad(uint64_t n, int width) {
    std::string s = std::to_string(n);
    return std::string(width > static_cast<int>(s.size()) ? width - s.size() : 0, '0') + s;
  }
  std::string EventId() {
    std::string id = "urn:uuid:7c1e0000-0000-4000-8000-";
    id.append(Pad(events_.size() + 1, 12));
    return id;
  }
  std::string NewId(std::string prefix) {
    prefix.append(Pad(++serial_, 8));
    objects_.push_back(prefix);
    return prefix;
  }
  std::vector<Stock>& StockOf(const std::string& party) { return stock_[party]; }
  Item AsItem(const Stock& s, int64_t quantity) const {
    if (s.container || s.id.find(":class:") == std::string::npos) return Item(s.id);
    return Item(s.id, static_cast<double>(quantity), s.uom);
  }
  // Takes up to `most` of a random stock entry (all of it if it is a unit); empty if none.
  std::optional<std::pair<Stock, int64_t>> Take(const std::string& party, int64_t most,
                                                bool containers) {
    std::vector<Stock>& stock = StockOf(party);
    for (int attempt = 0; attempt < 4 && !stock.empty(); ++attempt) {
      const size_t i = rng_.Below(stock.size());
      if (stock[i].container && !containers) continue;
      if (stock[i].id.find("TANK") != std::string::npos) continue;
      Stock taken = stock[i];
      const bool unit = taken.container || taken.id.find(":class:") == std::string::npos;
      const int64_t q = unit ? 1 : std::min<int64_t>(taken.quantity, 1 + rng_.Below(most));
      stock[i].quantity -= q;
      if (stock[i].quantity <= 0) {
        stock[i] = stock.back();
        stock.pop_back();
      }
      return std::make_pair(taken, q);
    }
    return std::nullopt;
  }
  void Add(const std::string& party, const Stock& s) { StockOf(party).push_back(s); }
  void Emit(v1::Event event) { events_.push_back(std::move(event)); }

  void SendLater(int64_t now, const std::string& from, const std::string& to,
                 std::vector<Stock> items) {
    if (rng_.Chance(3)) return;  // never received
    const int64_t due = now + static_cast<int64_t>(3600 + rng_.Below(30 * 3600)) * 1000000;
    pending_.emplace(due, Shipment{to, from, std::move(items)});
  }
  std::vector<Item> Items(const std::vector<Stock>& stock) const {
    std::vector<Item> items;
    for (const Stock& s : stock) items.push_back(AsItem(s, s.quantity));
    return items;
  }

  void Deliver(int64_t now) {
    while (!pending_.empty() && pending_.begin()->first <= now) {
      const int64_t due = pending_.begin()->first;
      Shipment shipment = std::move(pending_.begin()->second);
      pending_.erase(pending_.begin());
      Emit(testing::Receive(EventId(), shipment.receiver, due, Items(shipment.items),
                            shipment.sender));
      for (const Stock& s : shipment.items) {
        if (s.container && rng_.Chance(60)) {
          Emit(testing::Aggregate(EventId(), shipment.receiver, due + 300000000,
                                  v1::ACTION_DELETE, s.id, {}));
          for (const Stock& inside : contents_[s.id]) Add(shipment.receiver, inside);
          contents_.erase(s.id);
        } else {
          Add(shipment.receiver, s);
        }
      }
    }
  }

  void FarmCommission(int64_t now) {
    const std::string farm = Party(kFarm, static_cast<int>(rng_.Below(kFarms)));
    Stock lot{NewId("urn:epc:class:lgtin:9521001.000010.F"),
              static_cast<int64_t>(200 + rng_.Below(1800)), "KGM", false};
    Emit(testing::Commission(EventId(), farm, now, {AsItem(lot, lot.quantity)}));
    Add(farm, lot);
  }

  void FarmShip(int64_t now) {
    const std::string farm = Party(kFarm, static_cast<int>(rng_.Below(kFarms)));
    auto taken = Take(farm, 1 << 30, false);
    if (!taken) return;
    const std::string plant = Party(kPlant, static_cast<int>(rng_.Below(kPlants)));
    Stock moved = taken->first;
    moved.quantity = taken->second;
    Emit(testing::Ship(EventId(), farm, now, {AsItem(moved, moved.quantity)}, plant));
    SendLater(now, farm, plant, {moved});
  }

  void PlantTransform(int64_t now) {
    const int p = static_cast<int>(rng_.Below(kPlants));
    const std::string plant = Party(kPlant, p);
    if (tanks_.size() < kPlants) {
      for (int i = 0; i < kPlants; ++i) tanks_.push_back(NewId("urn:epc:class:lgtin:9522002.000099.TANK"));
    }
    const std::string& tank = tanks_[p];
    const uint64_t mode = rng_.Below(3);
    if (mode == 1) {  // draw a product from the tank
      if (tank_level_[p] <= 0) return;
      const int64_t kg = std::min<int64_t>(tank_level_[p], 20 + rng_.Below(180));
      tank_level_[p] -= kg;
      Stock product{NewId("urn:epc:class:lgtin:9522002.010001.P"),
                    static_cast<int64_t>(50 + rng_.Below(450)), "", false};
      Emit(testing::Transform(EventId(), plant, now, {Item(tank, static_cast<double>(kg), "KGM")},
                              {AsItem(product, product.quantity)}));
      Add(plant, product);
      return;
    }
    std::vector<Item> inputs;
    std::set<std::string> seen;
    int64_t kg = 0;
    const int count = 1 + static_cast<int>(rng_.Below(mode == 0 ? 2 : 3));
    for (int i = 0; i < count; ++i) {
      auto taken = Take(plant, 500, false);
      if (!taken || !seen.insert(taken->first.id).second) continue;
      inputs.push_back(AsItem(taken->first, taken->second));
      kg += taken->second;
    }
    if (inputs.empty()) return;
    if (mode == 0) {  // feed the tank
      tank_level_[p] += kg;
      Emit(testing::Transform(EventId(), plant, now, inputs,
                              {Item(tank, static_cast<double>(kg), "KGM")}));
      return;
    }
    Stock product{NewId("urn:epc:class:lgtin:9522002.010001.P"),
                  static_cast<int64_t>(50 + rng_.Below(450)), "", false};
    Emit(testing::Transform(EventId(), plant, now, inputs, {AsItem(product, product.quantity)}));
    Add(plant, product);
  }

  // Packs up to three stock entries of `party` (and new cases if `cases`) on a new pallet.
  std::optional<Stock> PackPallet(int64_t now, const std::string& party, bool cases,
                                  bool and_ship_to, const std::string& to) {
    std::vector<Stock> inside;
    std::set<std::string> seen;
    const int count = 1 + static_cast<int>(rng_.Below(3));
    for (int i = 0; i < count; ++i) {
      auto taken = Take(party, 200, true);
      if (!taken || !seen.insert(taken->first.id).second) continue;
      Stock s = taken->first;
      s.quantity = taken->second;
      inside.push_back(s);
    }
    if (cases) {
      std::vector<Item> commissioned;
      for (uint64_t i = rng_.Below(4); i > 0; --i) {
        Stock c{NewId("urn:epc:id:sgtin:9522002.010001."), 1, "", false};
        commissioned.push_back(Item(c.id));
        inside.push_back(c);
      }
      if (!commissioned.empty()) Emit(testing::Commission(EventId(), party, now, commissioned));
    }
    if (inside.empty()) return std::nullopt;
    Stock pallet{NewId("urn:epc:id:sscc:9522002."), 1, "", true};
    Emit(testing::Aggregate(EventId(), party, now + 60000000, v1::ACTION_ADD, pallet.id,
                            Items(inside), and_ship_to ? "shipping" : "",
                            and_ship_to ? to : ""));
    contents_[pallet.id] = std::move(inside);
    return pallet;
  }

  void PlantPackAndShip(int64_t now) {
    const std::string plant = Party(kPlant, static_cast<int>(rng_.Below(kPlants)));
    const std::string distributor = Party(kDistributor, static_cast<int>(rng_.Below(kDistributors)));
    const bool in_one_event = rng_.Chance(30);
    auto pallet = PackPallet(now, plant, true, in_one_event, distributor);
    if (!pallet) return;
    if (!in_one_event) {
      Emit(testing::Ship(EventId(), plant, now + 600000000, {Item(pallet->id)}, distributor));
    }
    SendLater(now, plant, distributor, {*pallet});
  }

  void DistributorShip(int64_t now) {
    const std::string distributor = Party(kDistributor, static_cast<int>(rng_.Below(kDistributors)));
    const std::string to = rng_.Chance(10)
                               ? Party(kPlant, static_cast<int>(rng_.Below(kPlants)))
                               : Party(kRetailer, static_cast<int>(rng_.Below(kRetailers)));
    if (rng_.Chance(40)) {  // repack (pallets may go inside the new one) and ship
      auto pallet = PackPallet(now, distributor, false, false, "");
      if (!pallet) return;
      Emit(testing::Ship(EventId(), distributor, now + 120000000, {Item(pallet->id)}, to));
      SendLater(now, distributor, to, {*pallet});
      return;
    }
    std::vector<Stock> moved;
    std::set<std::string> seen;
    for (int i = 0, n = 1 + static_cast<int>(rng_.Below(3)); i < n; ++i) {
      auto taken = Take(distributor, 100, true);
      if (!taken || !seen.insert(taken->first.id).second) continue;
      Stock s = taken->first;
      s.quantity = taken->second;
      moved.push_back(s);
    }
    if (moved.empty()) return;
    Emit(testing::Ship(EventId(), distributor, now, Items(moved), to));
    SendLater(now, distributor, to, moved);
  }

  void RetailSell(int64_t now) {
    const std::string shop = Party(kRetailer, static_cast<int>(rng_.Below(kRetailers)));
    auto taken = Take(shop, 20, true);
    if (!taken) return;
    if (taken->first.container) {  // open it instead
      Emit(testing::Aggregate(EventId(), shop, now, v1::ACTION_DELETE, taken->first.id, {}));
      for (const Stock& inside : contents_[taken->first.id]) Add(shop, inside);
      contents_.erase(taken->first.id);
      return;
    }
    Emit(testing::Sell(EventId(), shop, now, {AsItem(taken->first, taken->second)}));
  }

  void Destroy(int64_t now) {
    const std::string party = rng_.Chance(50)
                                  ? Party(kDistributor, static_cast<int>(rng_.Below(kDistributors)))
                                  : Party(kRetailer, static_cast<int>(rng_.Below(kRetailers)));
    auto taken = Take(party, 30, true);
    if (!taken) return;
    Emit(testing::Destroy(EventId(), party, now, {AsItem(taken->first, taken->second)}));
  }

  void Removal(int64_t now) {
    const std::string shop = Party(kRetailer, static_cast<int>(rng_.Below(kRetailers)));
    auto taken = Take(shop, 10, false);
    if (!taken) return;
    Emit(testing::Removal(EventId(), shop, now, "urn:uuid:recall-7",
                          Item(taken->first.id, static_cast<double>(taken->second),
                               taken->first.uom)));
  }

  void Sampling(int64_t now) {
    if (objects_.empty()) return;
    v1::Event event = testing::Envelope(EventId(), "91110108MA01000017");
    v1::SamplingResult* sampling = event.mutable_sampling_result();
    sampling->set_sample_id("S-" + std::to_string(events_.size()));
    sampling->add_object_ids(objects_[rng_.Below(objects_.size())]);
    testing::SetTime(now, sampling->mutable_sampled_at());
    Emit(std::move(event));
  }

  void UnpackOne(int64_t now) {
    const std::string distributor = Party(kDistributor, static_cast<int>(rng_.Below(kDistributors)));
    for (const Stock& s : StockOf(distributor)) {
      auto it = contents_.find(s.id);
      if (!s.container || it == contents_.end() || it->second.empty()) continue;
      const Stock child = it->second.back();
      it->second.pop_back();
      Emit(testing::Aggregate(EventId(), distributor, now, v1::ACTION_DELETE, s.id,
                              {AsItem(child, child.quantity)}));
      Add(distributor, child);
      return;
    }
  }

  void Oversell(int64_t now) {
    if (objects_.empty()) return;
    const std::string& id = objects_[rng_.Below(objects_.size())];
    if (id.find(":class:") == std::string::npos || id.find("TANK") != std::string::npos) return;
    const std::string shop = Party(kRetailer, static_cast<int>(rng_.Below(kRetailers)));
    Emit(testing::Sell(EventId(), shop, now, {Item(id, 5)}));
  }

  SplitMix rng_;
  size_t target_;
  uint64_t serial_ = 0;
  std::vector<v1::Event> events_;
  std::vector<std::string> objects_;
  std::vector<std::string> tanks_;
  std::map<int, int64_t> tank_level_;
  std::map<std::string, std::vector<Stock>> stock_;
  std::map<std::string, std::vector<Stock>> contents_;  // the generator's idea of each pallet
  std::multimap<int64_t, Shipment> pending_;
};

// ---------------------------------------------------------------------------------------------
// The reference: every event's facts in memory, edges in one vector, and straightforward walks.

struct Answer {
  std::map<std::string, int64_t> nodes;
  std::set<std::tuple<std::string, std::string, std::string, uint64_t>> edges;
  std::map<std::tuple<std::string, std::string, bool>, double> holders;  // party, object, sold
};

class Reference {
 public:
  void Apply(uint64_t sequence, const v1::Event& event) {
    const EventFacts f = FactsOf(event);
    std::map<std::tuple<std::string, std::string, std::string>, size_t> made;  // merge repeats
    auto edge = [&](const std::string& kind, const std::string& from, const std::string& to,
                    bool to_object, double quantity) -> size_t {
      auto [it, inserted] = made.try_emplace({from, kind, to}, edges_.size());
      if (!inserted) {
        edges_[it->second].quantity += quantity;
        return it->second;
      }
      edges_.push_back(Edge{from, to, kind, to_object, f.time_micros, sequence, quantity, f.party});
      out_[from].push_back(it->second);
      in_[to].push_back(it->second);
      return it->second;
    };
    const v1::Action action = event.has_aggregation_event() ? event.aggregation_event().action()
                                                            : v1::ACTION_UNSPECIFIED;
    std::vector<ObjectQuantity> children;
    for (const ObjectQuantity& q : f.objects) {
      if (q.object_id != f.parent) children.push_back(q);
    }
    if (action == v1::ACTION_ADD && !f.parent.empty()) {
      for (const ObjectQuantity& child : children) {
        Inside& inside = inside_[f.parent][child.object_id];
        inside.quantity += child.quantity;
        inside.uom = child.uom;
        inside.open.push_back(edge("contains", child.object_id, f.parent, true, child.quantity));
        inside.open.push_back(edge("contained_by", f.parent, child.object_id, true, child.quantity));
      }
    }
    std::string party = f.party;
    if (event.has_recall_removal()) party = event.recall_removal().holder_id();
    auto hold = [&](const std::string& object, double delta) {
      holdings_[object][party] += delta;
    };
    const bool custody = f.movement == Movement::kShip || f.movement == Movement::kReceive ||
                         f.movement == Movement::kSell || f.movement == Movement::kDestroy;
    if (custody) {
      std::string to = f.party;
      bool to_known = !to.empty();
      std::string kind = "received";
      if (f.movement == Movement::kShip) {
        kind = "shipped";
        to = !f.counterparty.empty() ? f.counterparty : f.location;
        to_known = !to.empty();
      } else if (f.movement == Movement::kSell) {
        kind = "sold";
        to = "consumer@" + f.party;
      } else if (f.movement == Movement::kDestroy) {
        kind = "destroyed";
      }
      const double sign = f.movement == Movement::kReceive ? 1 : -1;
      std::set<std::string> moved;
      std::vector<ObjectQuantity> listed;
      for (const ObjectQuantity& q : f.objects) {
        if (moved.insert(q.object_id).second) listed.push_back(q);
      }
      for (const ObjectQuantity& q : listed) {
        if (to_known) edge(kind, q.object_id, to, false, q.quantity);
        hold(q.object_id, sign * q.quantity);
        for (const auto& [id, quantity] : Contents(q.object_id)) {
          if (!moved.insert(id).second) continue;
          if (to_known) edge(kind, id, to, false, quantity);
          hold(id, sign * quantity);
        }
      }
    }
    if (f.movement == Movement::kCommission) {
      for (const ObjectQuantity& q : f.objects) hold(q.object_id, q.quantity);
    }
    if (f.movement == Movement::kRemoval) {
      for (const ObjectQuantity& q : f.objects) hold(q.object_id, -q.quantity);
    }
    if (f.movement == Movement::kTransform) {
      for (const ObjectQuantity& in : f.inputs) hold(in.object_id, -in.quantity);
      for (const ObjectQuantity& out : f.outputs) hold(out.object_id, out.quantity);
      for (const ObjectQuantity& in : f.inputs) {
        for (const ObjectQuantity& out : f.outputs) {
          if (in.object_id != out.object_id) edge("transform", in.object_id, out.object_id, true, in.quantity);
        }
      }
    }
    if (action == v1::ACTION_DELETE && !f.parent.empty()) {
      auto parent = inside_.find(f.parent);
      if (parent != inside_.end()) {
        std::vector<std::string> gone;
        for (const auto& [child, inside] : parent->second) {
          bool listed = children.empty();
          for (const ObjectQuantity& q : children) listed = listed || q.object_id == child;
          if (listed) gone.push_back(child);
        }
        for (const std::string& child : gone) {
          for (size_t index : parent->second[child].open) {
            edges_[index].removed = true;
            edges_[index].removed_time = f.time_micros;
          }
          parent->second.erase(child);
        }
      }
    }
  }

  Answer Forward(const std::string& root) const {
    std::map<std::pair<std::string, int>, int64_t> best;
    std::set<std::string> leaves;
    std::deque<std::pair<std::string, int>> work;
    best[{root, 1}] = std::numeric_limits<int64_t>::min();
    work.push_back({root, 1});
    // The time and mode `e` offers from a node reached at `t` in mode `m`, if it is followed.
    auto offer = [](const Edge& e, int64_t t, int m) -> std::optional<std::pair<int64_t, int>> {
      if (e.kind == "contains" || e.kind == "contained_by") {
        const int mode = e.kind == "contained_by" ? 1 : 0;
        if (mode == 1 && m != 1) return std::nullopt;
        if (e.removed && e.removed_time < t) return std::nullopt;
        return std::make_pair(std::max(e.time, t), mode);
      }
      if (e.time < t) return std::nullopt;
      return std::make_pair(e.time, 0);
    };
    while (!work.empty()) {
      const auto [u, m] = work.front();
      work.pop_front();
      if (leaves.count(u)) continue;
      const int64_t t = best.at({u, m});
      auto it = out_.find(u);
      if (it == out_.end()) continue;
      for (size_t index : it->second) {
        const Edge& e = edges_[index];
        auto o = offer(e, t, m);
        if (!o) continue;
        if (!e.to_object) leaves.insert(e.to);
        auto [b, inserted] = best.try_emplace({e.to, o->second}, o->first);
        if (inserted || o->first < b->second) {
          b->second = o->first;
          work.push_back({e.to, o->second});
        }
      }
    }
    Answer answer;
    for (const auto& [state, t] : best) {
      auto [n, inserted] = answer.nodes.try_emplace(state.first, t);
      if (!inserted) n->second = std::min(n->second, t);
      if (leaves.count(state.first)) continue;
      auto it = out_.find(state.first);
      if (it == out_.end()) continue;
      for (size_t index : it->second) {
        const Edge& e = edges_[index];
        if (offer(e, t, state.second)) answer.edges.insert({e.from, e.to, e.kind, e.sequence});
      }
    }
    for (const auto& [id, t] : answer.nodes) {
      if (leaves.count(id)) continue;
      auto h = holdings_.find(id);
      if (h == holdings_.end()) continue;
      for (const auto& [party, quantity] : h->second) {
        if (quantity > 1e-9) answer.holders[{party, id, false}] = quantity;
      }
    }
    for (const Edge& e : edges_) {
      if (e.kind == "sold" && answer.edges.count({e.from, e.to, e.kind, e.sequence})) {
        answer.holders[{e.party, e.from, true}] += e.quantity;
      }
    }
    return answer;
  }

  Answer Backward(const std::string& root) const {
    std::map<std::string, int64_t> best;
    std::set<std::string> leaves;
    std::deque<std::string> work;
    best[root] = std::numeric_limits<int64_t>::max();
    work.push_back(root);
    auto relax = [&](const std::string& id, int64_t t) {
      auto [b, inserted] = best.try_emplace(id, t);
      if (inserted || t > b->second) {
        b->second = t;
        work.push_back(id);
      }
    };
    // Calls visit(edge, target, time) for each edge followed backward from `u` asked at `t`.
    auto follow = [&](const std::string& u, int64_t t, const auto& visit) {
      if (auto it = in_.find(u); it != in_.end()) {
        for (size_t index : it->second) {
          const Edge& e = edges_[index];
          if (e.time > t) continue;
          if (e.kind == "transform") visit(e, e.from, e.time);
          if (e.kind == "contains") visit(e, e.from, e.removed ? std::min(t, e.removed_time) : t);
        }
      }
      if (auto it = out_.find(u); it != out_.end()) {
        for (size_t index : it->second) {
          const Edge& e = edges_[index];
          if (e.time > t || e.to_object) continue;
          visit(e, e.to, e.time);
        }
      }
    };
    while (!work.empty()) {
      const std::string u = work.front();
      work.pop_front();
      if (leaves.count(u)) continue;
      follow(u, best.at(u), [&](const Edge& e, const std::string& target, int64_t time) {
        if (!e.to_object && target == e.to) leaves.insert(target);
        relax(target, time);
      });
    }
    Answer answer;
    answer.nodes = best;
    for (const auto& [u, t] : best) {
      if (leaves.count(u)) continue;
      follow(u, t, [&](const Edge& e, const std::string&, int64_t) {
        answer.edges.insert({e.from, e.to, e.kind, e.sequence});
      });
    }
    return answer;
  }

  const std::map<std::string, std::map<std::string, double>>& holdings() const {
    return holdings_;
  }

 private:
  struct Edge {
    std::string from, to, kind;
    bool to_object;
    int64_t time;
    uint64_t sequence;
    double quantity;
    std::string party;
    bool removed = false;
    int64_t removed_time = 0;
  };
  struct Inside {
    double quantity = 0;
    std::string uom;
    std::vector<size_t> open;  // edges of packings not yet ended
  };

  // Everything inside `container` now: breadth first, children by id, 8 levels at most.
  std::vector<std::pair<std::string, double>> Contents(const std::string& container) const {
    std::vector<std::pair<std::string, double>> out;
    std::set<std::string> seen = {container};
    std::vector<std::string> level = {container};
    for (int depth = 0; depth < kMaxContainmentDepth && !level.empty(); ++depth) {
      std::vector<std::string> next;
      for (const std::string& parent : level) {
        auto it = inside_.find(parent);
        if (it == inside_.end()) continue;
        for (const auto& [child, inside] : it->second) {
          if (!seen.insert(child).second) continue;
          out.emplace_back(child, inside.quantity);
          next.push_back(child);
        }
      }
      level = std::move(next);
    }
    return out;
  }

  std::vector<Edge> edges_;
  std::unordered_map<std::string, std::vector<size_t>> out_, in_;
  std::map<std::string, std::map<std::string, Inside>> inside_;
  std::map<std::string, std::map<std::string, double>> holdings_;  // object -> party -> q
};

Answer FromView(const v1::TraceResult& result) {
  Answer answer;
  for (const v1::TraceNode& node : result.nodes()) answer.nodes[node.id()] = node.time_unix_micros();
  for (const v1::TraceEdge& e : result.edges()) {
    answer.edges.insert({e.from(), e.to(), e.kind(), e.sequence()});
  }
  for (const v1::TraceHolder& h : result.holders()) {
    answer.holders[{h.party(), h.object_id(), h.sold_to_consumers()}] = h.quantity();
  }
  return answer;
}

void ExpectSame(const Answer& view, const Answer& reference, const std::string& what) {
  EXPECT_EQ(view.nodes, reference.nodes) << what;
  EXPECT_EQ(view.edges, reference.edges) << what;
  ASSERT_EQ(view.holders.size(), reference.holders.size()) << what;
  for (const auto& [key, quantity] : reference.holders) {
    auto it = view.holders.find(key);
    ASSERT_NE(it, view.holders.end()) << what << ": holder " << std::get<0>(key) << " of "
                                      << std::get<1>(key);
    EXPECT_NEAR(it->second, quantity, 1e-6) << what;
  }
}

std::map<std::string, std::string> Dump(const ViewStore& store, std::string_view view) {
  std::map<std::string, std::string> rows;
  EXPECT_TRUE(store
                  .ForEach(view,
                           [&](std::string_view k, std::string_view v) {
                             rows.emplace(k, v);
                             return true;
                           })
                  .ok());
  return rows;
}

double ThreadCpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// Decodes and computes facts only: the runner's own cost, to separate it from the views'.
class NoOpProjection final : public Projection {
 public:
  std::string_view name() const override { return "noop"; }
  uint32_t version() const override { return 1; }
  Status Apply(const AppliedEntry&, ViewRows&) override { return Status::Ok(); }
};

class GeneratedChainTest : public ChainFixture {};

TEST_F(GeneratedChainTest, TracesOfAHundredThousandEventsEqualTheReference) {
  constexpr uint64_t kSeed = 20260101;
  constexpr size_t kEvents = 120000;
  std::printf("seed %llu, %zu events\n", static_cast<unsigned long long>(kSeed), kEvents);
  ChainGenerator generator(kSeed, kEvents);
  const std::vector<v1::Event> events = generator.Run();
  ASSERT_EQ(events.size(), kEvents);
  Append(events);

  auto start = std::chrono::steady_clock::now();
  ProjectionRunner& runner = CatchUp();
  const double apply_seconds = Seconds(start);
  ASSERT_EQ(runner.NextSequence(kGenealogyView), kEvents);
  {
    std::vector<std::unique_ptr<Projection>> noop;
    noop.push_back(std::make_unique<NoOpProjection>());
    auto decode_only = *ProjectionRunner::Open((dir_ / "noop").string(), std::move(noop), {});
    start = std::chrono::steady_clock::now();
    ASSERT_TRUE(decode_only->CatchUp(*source_).ok());
    const double decode_seconds = Seconds(start);
    std::printf("apply: %zu events through history+genealogy (with holdings) in %.2f s = %.0f "
                "events/s (JSON decoding and facts alone: %.2f s; views alone: %.0f events/s)\n",
                kEvents, apply_seconds, kEvents / apply_seconds, decode_seconds,
                kEvents / std::max(1e-9, apply_seconds - decode_seconds));
  }

  Reference reference;
  for (size_t i = 0; i < events.size(); ++i) reference.Apply(i, events[i]);

  // Holdings, every row both ways.
  for (const auto& [object, parties] : reference.holdings()) {
    size_t expected = 0;
    for (const auto& [party, quantity] : parties) expected += std::fabs(quantity) >= kZeroQuantity;
    auto rows = HoldingsOf(Reader(kGenealogyView), object);
    ASSERT_TRUE(rows.ok());
    ASSERT_EQ(rows->size(), expected) << object;
    for (const v1::Holding& row : *rows) {
      EXPECT_NEAR(row.quantity(), parties.at(row.party()), 1e-6) << object << " at " << row.party();
    }
  }

  // Roots: random objects, plus every tank (long-lived lots with the largest answers).
  SplitMix rng(kSeed);
  std::vector<std::string> roots = generator.tanks();
  while (roots.size() < 50) roots.push_back(generator.objects()[rng.Below(generator.objects().size())]);
  TraceLimits unlimited;
  unlimited.max_depth = 1u << 30;
  unlimited.max_nodes = size_t{1} << 40;
  unlimited.max_edges_scanned = size_t{1} << 40;
  std::vector<double> latencies_ms;
  std::vector<double> cpu_ms;  // this thread's CPU time: what a loaded machine does not inflate
  size_t largest = 0;
  size_t nodes_read_ahead = 0;  // of the forward walks told to read ahead from the first node
  for (const std::string& root : roots) {
    for (TraceDirection direction : {TraceDirection::kBackward, TraceDirection::kForward}) {
      start = std::chrono::steady_clock::now();
      const double cpu_start = ThreadCpuSeconds();
      auto result = Trace(Reader(kGenealogyView), root, direction, unlimited);
      latencies_ms.push_back(Seconds(start) * 1000);
      cpu_ms.push_back((ThreadCpuSeconds() - cpu_start) * 1000);
      ASSERT_TRUE(result.ok()) << result.status().ToString();
      ASSERT_FALSE(result->truncated());
      largest = std::max<size_t>(largest, result->nodes_size());
      const Answer expected = direction == TraceDirection::kForward ? reference.Forward(root)
                                                                    : reference.Backward(root);
      ExpectSame(FromView(*result), expected,
                 root + " " + std::string(TraceDirectionName(direction)));
      if (::testing::Test::HasFailure()) return;
      if (direction != TraceDirection::kForward) continue;
      // Read ahead from the first node (the walk taking back what the other thread has not
      // started, or waiting for all of it), or all on one thread: the same answer, byte for
      // byte.
      for (const size_t after : {size_t{0}, std::numeric_limits<size_t>::max()}) {
        for (const bool wait : {false, true}) {
          if (wait && after != 0) continue;
          TraceLimits limits = unlimited;
          limits.prefetch_after_nodes = after;
          limits.wait_for_read_ahead = wait;
          // Never reading ahead: all on one thread, the answer's edges too.
          if (after != 0) limits.edges_for_a_thread = std::numeric_limits<size_t>::max();
          TraceStats stats;
          auto again = Trace(Reader(kGenealogyView), root, direction, limits, &stats);
          ASSERT_TRUE(again.ok()) << again.status().ToString();
          ASSERT_EQ(again->SerializeAsString(), result->SerializeAsString())
              << root << " forward, read ahead after " << after << " nodes, waiting " << wait;
          if (after != 0) {
            EXPECT_EQ(stats.nodes_read_ahead, 0u) << root << ": read ahead when told not to";
          } else if (wait) {
            // Every expansion (no node of this chain has more rows than are read ahead).
            EXPECT_EQ(stats.nodes_read_ahead, stats.nodes_expanded) << root;
          } else {
            nodes_read_ahead += stats.nodes_read_ahead;
          }
        }
      }
    }
  }
  // The tanks' forward walks have thousands of nodes: the read-ahead was there to compare (its
  // copies were visited), not only started. How many depends on the threads' timing.
  EXPECT_GT(nodes_read_ahead, 0u);
  std::printf("forward walks read ahead from the first node: %zu nodes visited from the copy\n",
              nodes_read_ahead);
  // kBoth is the union of the two.
  for (size_t i = 0; i < 10; ++i) {
    auto both = Trace(Reader(kGenealogyView), roots[i], TraceDirection::kBoth, unlimited);
    ASSERT_TRUE(both.ok());
    Answer expected = reference.Backward(roots[i]);
    const Answer forward = reference.Forward(roots[i]);
    expected.edges.insert(forward.edges.begin(), forward.edges.end());
    expected.holders = forward.holders;
    std::set<std::string> ids;
    for (const v1::TraceNode& node : both->nodes()) ids.insert(node.id());
    std::set<std::string> expected_ids;
    for (const auto& [id, t] : expected.nodes) expected_ids.insert(id);
    for (const auto& [id, t] : forward.nodes) expected_ids.insert(id);
    EXPECT_EQ(ids, expected_ids);
    const Answer view_both = FromView(*both);
    EXPECT_EQ(view_both.edges, expected.edges);
    ASSERT_EQ(view_both.holders.size(), expected.holders.size()) << roots[i] << " both";
    for (const auto& [key, quantity] : expected.holders) {
      auto it = view_both.holders.find(key);
      ASSERT_NE(it, view_both.holders.end()) << roots[i] << " both: holder " << std::get<0>(key);
      EXPECT_NEAR(it->second, quantity, 1e-6) << roots[i] << " both";
    }
  }
  std::sort(latencies_ms.begin(), latencies_ms.end());
  std::sort(cpu_ms.begin(), cpu_ms.end());
  std::printf("trace CPU time: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", cpu_ms[cpu_ms.size() / 2],
              cpu_ms[cpu_ms.size() * 99 / 100], cpu_ms.back());
  std::printf("trace: %zu traces, largest answer %zu nodes; latency p50 %.2f ms, p99 %.2f ms, "
              "max %.2f ms\n",
              latencies_ms.size(), largest, latencies_ms[latencies_ms.size() / 2],
              latencies_ms[latencies_ms.size() * 99 / 100], latencies_ms.back());

  // TL_TRACE_ROUNDS=n: the tanks' traces (the largest answers) n more times, for a profiler and
  // for steadier figures on a shared machine (their answers were checked above). A trace's best
  // CPU time of the rounds is what load does not inflate: compare those.
  if (std::getenv("TL_TRACE_ROUNDS") == nullptr) return;
  // The rounds run once the compaction the runner started after the catch-up is done (the
  // views as a server's settle: RunnerOptions::settle_after_entries); with
  // TL_TRACE_COMPACTED=1, after a full compaction too (the last level rewritten as well).
  ASSERT_TRUE(runners_.at("views")->WaitUntilSettled().ok());
  if (std::getenv("TL_TRACE_COMPACTED") != nullptr) {
    const ViewStore& store = runners_.at("views")->store();
    rocksdb::CompactRangeOptions compact;
    compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
    for (const std::string& name : runners_.at("views")->names()) {
      ASSERT_TRUE(store.db()->Flush(rocksdb::FlushOptions(), store.family(name)).ok());
      ASSERT_TRUE(store.db()->CompactRange(compact, store.family(name), nullptr, nullptr).ok());
    }
  }
  const size_t rounds = std::strtoul(std::getenv("TL_TRACE_ROUNDS"), nullptr, 10);
  if (rounds == 0) return;
  std::vector<double> tank_ms;
  std::vector<double> tank_cpu_ms;
  std::map<std::pair<std::string, TraceDirection>, double> best_cpu_ms;
  std::map<std::pair<std::string, TraceDirection>, double> best_ms;
  std::vector<double> forward_ms;  // latencies of the forward traces
  // The forward traces' phases (TraceStats): walk, answer, of which nodes and holders.
  std::array<std::vector<double>, 3> forward_phase_ms;
  const auto keep_best = [](auto& best, const auto& key, double ms) {
    auto [it, first] = best.try_emplace(key, ms);
    if (!first) it->second = std::min(it->second, ms);
  };
  // TL_TRACE_ONE_THREAD=1: the forward walks without reading ahead (TraceLimits::
  // prefetch_after_nodes), to compare in another run of the same binary. Not alternated within
  // a run: a walk after one read ahead finds the rows in the other core's cache.
  if (std::getenv("TL_TRACE_ONE_THREAD") != nullptr) {
    unlimited.prefetch_after_nodes = std::numeric_limits<size_t>::max();
  }
  for (size_t round = 0; round < rounds; ++round) {
    for (const std::string& tank : generator.tanks()) {
      for (TraceDirection direction : {TraceDirection::kBackward, TraceDirection::kForward}) {
        start = std::chrono::steady_clock::now();
        const double cpu_start = ThreadCpuSeconds();
        TraceStats stats;
        auto result = Trace(Reader(kGenealogyView), tank, direction, unlimited, &stats);
        tank_ms.push_back(Seconds(start) * 1000);
        if (round == 0) {
          std::printf("%s %s: %d nodes, %zu expanded, %zu edge rows read, %zu followed\n",
                      tank.c_str(), std::string(TraceDirectionName(direction)).c_str(),
                      result.ok() ? result->nodes_size() : -1, stats.nodes_expanded,
                      stats.edges_scanned, stats.edges_followed);
        }
        tank_cpu_ms.push_back((ThreadCpuSeconds() - cpu_start) * 1000);
        ASSERT_TRUE(result.ok()) << result.status().ToString();
        keep_best(best_cpu_ms, std::pair{tank, direction}, tank_cpu_ms.back());
        keep_best(best_ms, std::pair{tank, direction}, tank_ms.back());
        if (direction == TraceDirection::kForward) {
          forward_ms.push_back(tank_ms.back());
          forward_phase_ms[0].push_back(stats.walk_micros / 1000);
          forward_phase_ms[1].push_back(stats.answer_micros / 1000);
          forward_phase_ms[2].push_back(stats.nodes_and_holders_micros / 1000);
        }
      }
    }
  }
  std::sort(tank_ms.begin(), tank_ms.end());
  std::sort(tank_cpu_ms.begin(), tank_cpu_ms.end());
  double best_sum = 0;
  double best_max = 0;
  std::map<TraceDirection, double> best_max_by_direction;
  for (const auto& [trace, ms] : best_cpu_ms) {
    best_sum += ms;
    best_max = std::max(best_max, ms);
    best_max_by_direction[trace.second] = std::max(best_max_by_direction[trace.second], ms);
  }
  std::printf("tank traces: %zu; CPU p50 %.2f ms, p99 %.2f ms, max %.2f ms; latency p50 %.2f ms, "
              "p99 %.2f ms, max %.2f ms; best CPU of %zu rounds: slowest trace %.2f ms "
              "(backward %.2f, forward %.2f), all %zu %.2f ms\n",
              tank_ms.size(), tank_cpu_ms[tank_cpu_ms.size() / 2],
              tank_cpu_ms[tank_cpu_ms.size() * 99 / 100], tank_cpu_ms.back(),
              tank_ms[tank_ms.size() / 2], tank_ms[tank_ms.size() * 99 / 100], tank_ms.back(),
              rounds, best_max, best_max_by_direction[TraceDirection::kBackward],
              best_max_by_direction[TraceDirection::kForward], best_cpu_ms.size(), best_sum);
  // Latency (what a regulator waits for) of the forward traces: with read-ahead, the walk's
  // thread is not all of a trace's CPU time.
  double forward_best_max = 0;
  for (const auto& [trace, ms] : best_ms) {
    if (trace.second == TraceDirection::kForward) forward_best_max = std::max(forward_best_max, ms);
  }
  std::sort(forward_ms.begin(), forward_ms.end());
  std::printf("tank forward traces (%s): latency p50 %.2f ms, p99 %.2f ms, max %.2f ms; best of "
              "%zu rounds: slowest trace %.2f ms\n",
              unlimited.prefetch_after_nodes == std::numeric_limits<size_t>::max()
                  ? "one thread"
                  : "read ahead",
              forward_ms[forward_ms.size() / 2], forward_ms[forward_ms.size() * 99 / 100],
              forward_ms.back(), rounds, forward_best_max);
  std::printf("tank forward traces, phases p50 / p99:");
  const char* const phase_names[] = {"walk", "answer", "of which nodes and holders"};
  for (size_t phase = 0; phase < forward_phase_ms.size(); ++phase) {
    std::vector<double>& ms = forward_phase_ms[phase];
    std::sort(ms.begin(), ms.end());
    std::printf("%s %s %.2f / %.2f ms", phase == 0 ? "" : ";", phase_names[phase],
                ms[ms.size() / 2], ms[ms.size() * 99 / 100]);
  }
  std::printf("\n");
}

TEST_F(GeneratedChainTest, SmallIncrementalBatchesAndARebuildGiveIdenticalRows) {
  ChainGenerator generator(7, 6000);
  const std::vector<v1::Event> events = generator.Run();
  for (size_t start = 0; start < events.size(); start += 750) {
    Append(std::vector<v1::Event>(events.begin() + static_cast<std::ptrdiff_t>(start),
                                  events.begin() + static_cast<std::ptrdiff_t>(
                                                       std::min(events.size(), start + 750))));
    CatchUp("incremental", /*batch_entries=*/7);
  }
  ProjectionRunner& rebuilt = CatchUp("rebuilt");
  ProjectionRunner& incremental = *runners_.at("incremental");
  for (std::string_view view : {kHistoryView, kGenealogyView}) {
    const auto a = Dump(incremental.store(), view);
    const auto b = Dump(rebuilt.store(), view);
    EXPECT_GT(a.size(), 1000u) << view;
    EXPECT_TRUE(a == b) << view << ": " << a.size() << " rows vs " << b.size();
  }
  // Rebuilding genealogy (with its holdings) from 0 gives the same bytes; history is left as
  // it was.
  ASSERT_TRUE(incremental.Rebuild(kGenealogyView).ok());
  EXPECT_EQ(incremental.NextSequence(kGenealogyView), 0u);
  EXPECT_EQ(incremental.NextSequence(kHistoryView), events.size());
  CatchUp("incremental", 13);
  EXPECT_TRUE(Dump(incremental.store(), kGenealogyView) == Dump(rebuilt.store(), kGenealogyView));
}


TEST_F(GeneratedChainTest, ProfileApply) {
  if (std::getenv("TL_CHAIN_PROFILE") == nullptr) GTEST_SKIP();
  const size_t n = std::stoul(std::getenv("TL_CHAIN_PROFILE"));
  ChainGenerator generator(3, n);
  const std::vector<v1::Event> events = generator.Run();
  const bool proto = std::getenv("TL_CHAIN_PROTO") != nullptr;
  Append(events, proto ? v1::EVENT_ENCODING_PROTOBUF : v1::EVENT_ENCODING_JSON);
  for (std::string which : {"noop", "history", "genealogy", "all"}) {
    std::vector<std::unique_ptr<Projection>> views;
    if (which == "noop") views.push_back(std::make_unique<NoOpProjection>());
    if (which == "history" || which == "all") views.push_back(NewHistoryProjection());
    if (which != "noop" && which != "history") views.push_back(NewGenealogyProjection());
    auto runner = *ProjectionRunner::Open((dir_ / which).string(), std::move(views), {});
    auto start = std::chrono::steady_clock::now();
    ASSERT_TRUE(runner->CatchUp(*source_).ok());
    const double s = Seconds(start);
    size_t rows = 0;
    for (const std::string& name : runner->names()) rows += Dump(runner->store(), name).size();
    std::printf("%-20s %.2f s  %.0f events/s  %zu rows (%.1f per event)\n", which.c_str(), s,
                n / s, rows, double(rows) / n);
  }
}

}  // namespace
}  // namespace traceledger::projections
