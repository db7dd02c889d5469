#include "projections/chain/trace.h"

#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <set>
#include <vector>

#include "projections/chain/testing/chain_events.h"

namespace traceledger::projections {
namespace {

using testing::At;
using testing::ChainFixture;

constexpr char kFarm1[] = "9521001000006";
constexpr char kFarm2[] = "9521011000003";
constexpr char kPlant[] = "9521002000003";
constexpr char kDepot[] = "9521003000000";
constexpr char kDepot2[] = "9521013000007";
constexpr char kDepot3[] = "9521023000004";
constexpr char kLotA[] = "urn:epc:class:lgtin:9521001.000010.A1";  // contaminated
constexpr char kLotB[] = "urn:epc:class:lgtin:9521011.000010.B1";
constexpr char kLotL2[] = "urn:epc:class:lgtin:9521011.000010.L2";
constexpr char kTank[] = "urn:epc:class:lgtin:9521002.000099.TANK7";
constexpr char kP0[] = "urn:epc:class:lgtin:9521002.010001.P0";
constexpr char kP1[] = "urn:epc:class:lgtin:9521002.010001.P1";
constexpr char kP2[] = "urn:epc:class:lgtin:9521002.010001.P2";
constexpr char kP3[] = "urn:epc:class:lgtin:9521002.010001.P3";
constexpr char kPallet[] = "urn:epc:id:sscc:9521002.0000000101";
constexpr char kTote[] = "urn:epc:id:grai:9521002.00001.77";

class TraceTest : public ChainFixture {
 protected:
  v1::TraceResult Run(std::string_view root, TraceDirection direction, TraceLimits limits = {}) {
    auto result = Trace(Reader(kGenealogyView), root, direction, limits);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? *result : v1::TraceResult();
  }
  static std::map<std::string, int64_t> Nodes(const v1::TraceResult& result) {
    std::map<std::string, int64_t> out;
    for (const v1::TraceNode& node : result.nodes()) out[node.id()] = node.time_unix_micros();
    return out;
  }
  static std::set<std::string> Ids(const v1::TraceResult& result) {
    std::set<std::string> out;
    for (const v1::TraceNode& node : result.nodes()) out.insert(node.id());
    return out;
  }
  static std::set<std::string> Holders(const v1::TraceResult& result) {
    std::set<std::string> out;
    for (const v1::TraceHolder& h : result.holders()) {
      std::ostringstream s;
      s << (h.sold_to_consumers() ? "sold " : "holds ") << h.party() << " " << h.object_id()
        << " " << h.quantity();
      out.insert(s.str());
    }
    return out;
  }
  static std::string Holder(std::string_view verb, std::string_view party,
                            std::string_view object, double quantity) {
    std::ostringstream s;
    s << verb << " " << party << " " << object << " " << quantity;
    return s.str();
  }

  // A plant feeds lots into a tank lot and draws products from it over time; products go out
  // on a pallet and on a returnable tote that had an earlier trip. Minutes are event times.
  void AppendTankChain() {
    Append({
        /*0*/ testing::Commission("t0", kFarm1, At(0), {{kLotA, 100, "KGM"}}),
        /*1*/ testing::Commission("t1", kFarm2, At(0), {{kLotB, 100, "KGM"}, {kLotL2, 100, "KGM"}}),
        /*2*/ testing::Ship("t2", kFarm2, At(10), {{kLotB, 100, "KGM"}}, kPlant),
        /*3*/ testing::Receive("t3", kPlant, At(15), {{kLotB, 100, "KGM"}}, kFarm2),
        /*4*/ testing::Transform("t4", kPlant, At(20), {{kLotB, 100, "KGM"}}, {{kTank, 100, "KGM"}}),
        /*5*/ testing::Transform("t5", kPlant, At(30), {{kTank, 40, "KGM"}}, {{kP2, 200}}),
        /*6*/ testing::Aggregate("t6", kPlant, At(35), v1::ACTION_ADD, kPallet, {{kP2, 200}}),
        /*7*/ testing::Ship("t7", kFarm1, At(40), {{kLotA, 100, "KGM"}}, kPlant),
        /*8*/ testing::Receive("t8", kPlant, At(45), {{kLotA, 100, "KGM"}}, kFarm1),
        // The contaminated lot goes into the tank at minute 50.
        /*9*/ testing::Transform("t9", kPlant, At(50), {{kLotA, 100, "KGM"}}, {{kTank, 100, "KGM"}}),
        /*10*/ testing::Transform("t10", kPlant, At(60), {{kTank, 60, "KGM"}}, {{kP1, 300}}),
        /*11*/ testing::Commission("t11", kPlant, At(55), {{kP0, 100}}),
        // The tote's first trip, before any contaminated product was in it.
        /*12*/ testing::Aggregate("t12", kPlant, At(61), v1::ACTION_ADD, kTote, {{kP0, 100}}),
        /*13*/ testing::Ship("t13", kPlant, At(62), {{kTote}}, kDepot2),
        /*14*/ testing::Receive("t14", kDepot2, At(63), {{kTote}}, kPlant),
        /*15*/ testing::Aggregate("t15", kDepot2, At(64), v1::ACTION_DELETE, kTote, {}),
        /*16*/ testing::Ship("t16", kDepot2, At(65), {{kTote}}, kPlant),
        /*17*/ testing::Receive("t17", kPlant, At(66), {{kTote}}, kDepot2),
        // Second trip, with P1.
        /*18*/ testing::Aggregate("t18", kPlant, At(67), v1::ACTION_ADD, kTote, {{kP1, 100}}),
        /*19*/ testing::Ship("t19", kPlant, At(68), {{kTote}}, kDepot3),
        // L2 arrives after the contaminated lot went in, and goes into the tank too.
        /*20*/ testing::Ship("t20", kFarm2, At(70), {{kLotL2, 100, "KGM"}}, kPlant),
        /*21*/ testing::Receive("t21", kPlant, At(75), {{kLotL2, 100, "KGM"}}, kFarm2),
        /*22*/ testing::Transform("t22", kPlant, At(80), {{kLotL2, 100, "KGM"}}, {{kTank, 100, "KGM"}}),
        /*23*/ testing::Transform("t23", kPlant, At(90), {{kTank, 50, "KGM"}}, {{kP3, 250}}),
        /*24*/ testing::Aggregate("t24", kPlant, At(100), v1::ACTION_ADD, kPallet, {{kP1, 200}}),
        /*25*/ testing::Ship("t25", kPlant, At(110), {{kPallet}}, kDepot),
        /*26*/ testing::Receive("t26", kDepot, At(120), {{kPallet}}, kPlant),
        /*27*/ testing::Sell("t27", kDepot, At(130), {{kP1, 10}}),
        /*28*/ testing::Receive("t28", kDepot3, At(69), {{kTote}}, kPlant),  // recorded late
    });
    CatchUp();
  }
};

TEST_F(TraceTest, ForwardReachesEachNodeAtTheEarliestTimeAndNoEarlier) {
  AppendTankChain();
  const v1::TraceResult result = Run(kLotA, TraceDirection::kForward);
  EXPECT_FALSE(result.truncated());
  EXPECT_EQ(Nodes(result), (std::map<std::string, int64_t>{
                               {kLotA, std::numeric_limits<int64_t>::min()},
                               {kPlant, At(40)},
                               {kTank, At(50)},
                               {kP1, At(60)},
                               {kP3, At(90)},
                               {kTote, At(67)},
                               {kDepot3, At(68)},
                               {kPallet, At(100)},
                               {kDepot, At(110)},
                               {ConsumerNode(kDepot), At(130)},
                           }));
  // Not in scope: P2 (drawn from the tank before A went in), P0 and Depot2 (the tote's trip
  // before P1 was put in it), L2 and B (inputs, not products), P2's pallet siblings.
  EXPECT_EQ(result.nodes(0).id(), kLotA);
  EXPECT_EQ(result.nodes(0).direction(), "root");
  EXPECT_EQ(result.nodes(0).kind(), v1::NODE_KIND_OBJECT);
  EXPECT_EQ(result.nodes(1).id(), kPlant);  // then in time order
  EXPECT_EQ(result.nodes(1).kind(), v1::NODE_KIND_PARTY);
  EXPECT_EQ(result.nodes(1).depth(), 1u);
  EXPECT_EQ(Holders(result), (std::set<std::string>{
                                 Holder("holds", kPlant, kTank, 150),
                                 Holder("holds", kPlant, kP3, 250),
                                 Holder("holds", kDepot, kP1, 190),
                                 Holder("holds", kDepot, kPallet, 1),
                                 Holder("holds", kDepot3, kP1, 100),
                                 Holder("holds", kDepot3, kTote, 1),
                                 Holder("sold", kDepot, kP1, 10),
                             }));
  // Each edge names the entry that proves it, and the party that made it (a receipt's is its
  // receiver, which its row leaves to the key).
  bool saw_tote_trip = false;
  bool saw_receipt = false;
  for (const v1::TraceEdge& edge : result.edges()) {
    EXPECT_NE(edge.to(), kP2);
    EXPECT_NE(edge.to(), kDepot2);
    if (edge.from() == kTote && edge.kind() == "shipped") {
      EXPECT_EQ(edge.sequence(), 19u);
      EXPECT_EQ(edge.time_unix_micros(), At(68));
      EXPECT_EQ(edge.party(), kPlant);
      saw_tote_trip = true;
    }
    if (edge.from() == kPallet && edge.kind() == "received") {
      EXPECT_EQ(edge.party(), kDepot);
      saw_receipt = true;
    }
  }
  EXPECT_TRUE(saw_tote_trip);
  EXPECT_TRUE(saw_receipt);
  EXPECT_EQ(result.edges_size(), 16);
}

TEST_F(TraceTest, BackwardIgnoresWhatArrivedAfterTheNodeWasMade) {
  AppendTankChain();
  // P2 was drawn at minute 30: only B was in the tank then; A (in at 50) and L2 (80) were not.
  const v1::TraceResult p2 = Run(kP2, TraceDirection::kBackward);
  EXPECT_EQ(Nodes(p2), (std::map<std::string, int64_t>{
                           {kP2, std::numeric_limits<int64_t>::max()},
                           {kTank, At(30)},
                           {kLotB, At(20)},
                           {kPlant, At(15)},
                           {kDepot, At(120)},
                       }));
  EXPECT_TRUE(p2.holders().empty());
  // P1 (minute 60) has A and B as sources but not L2, received at 75 and fed in at 80.
  const std::set<std::string> p1 = Ids(Run(kP1, TraceDirection::kBackward));
  EXPECT_TRUE(p1.count(kLotA));
  EXPECT_TRUE(p1.count(kLotB));
  EXPECT_FALSE(p1.count(kLotL2));
  // A pallet's sources are its contents' sources; a pallet is not a source of what is on it.
  const std::set<std::string> pallet = Ids(Run(kPallet, TraceDirection::kBackward));
  EXPECT_TRUE(pallet.count(kP1));
  EXPECT_TRUE(pallet.count(kP2));
  EXPECT_TRUE(pallet.count(kLotA));
  EXPECT_FALSE(Ids(Run(kP1, TraceDirection::kBackward)).count(kPallet));
}

TEST_F(TraceTest, BothIsBackwardPlusForwardWithTheRootOnce) {
  AppendTankChain();
  const v1::TraceResult both = Run(kTank, TraceDirection::kBoth);
  const v1::TraceResult backward = Run(kTank, TraceDirection::kBackward);
  const v1::TraceResult forward = Run(kTank, TraceDirection::kForward);
  std::set<std::string> expected = Ids(backward);
  for (const std::string& id : Ids(forward)) expected.insert(id);
  EXPECT_EQ(Ids(both), expected);
  EXPECT_TRUE(expected.count(kLotL2));  // backward from the tank now
  EXPECT_TRUE(expected.count(kP2));     // forward from the tank's beginning
  size_t roots = 0;
  for (const v1::TraceNode& node : both.nodes()) roots += node.direction() == "root";
  EXPECT_EQ(roots, 1u);
  EXPECT_EQ(both.nodes_size(), backward.nodes_size() + forward.nodes_size() - 1);
  EXPECT_EQ(Holders(both), Holders(forward));
}

TEST_F(TraceTest, DepthAndNodeLimitsCutTheAnswerAndSaySo) {
  // X0 -> X1 -> ... -> X6, one transformation a minute.
  std::vector<v1::Event> events;
  auto lot = [](int i) { return "urn:epc:class:lgtin:9521002.010009.X" + std::to_string(i); };
  for (int i = 0; i < 6; ++i) {
    events.push_back(testing::Transform(std::string("x").append(std::to_string(i)), kPlant, At(i + 1),
                                        {{lot(i), 10}}, {{lot(i + 1), 10}}));
  }
  Append(events);
  CatchUp();
  TraceLimits limits;
  limits.max_depth = 3;
  v1::TraceResult cut = Run(lot(0), TraceDirection::kForward, limits);
  EXPECT_EQ(Ids(cut), (std::set<std::string>{lot(0), lot(1), lot(2), lot(3)}));
  EXPECT_TRUE(cut.truncated());
  EXPECT_EQ(cut.truncated_reason(), "max_depth");
  EXPECT_EQ(cut.edges_size(), 3);
  limits.max_depth = 6;
  EXPECT_FALSE(Run(lot(0), TraceDirection::kForward, limits).truncated());

  limits = TraceLimits();
  limits.max_nodes = 4;
  cut = Run(lot(6), TraceDirection::kBackward, limits);
  EXPECT_EQ(Ids(cut), (std::set<std::string>{lot(6), lot(5), lot(4), lot(3)}));
  EXPECT_TRUE(cut.truncated());
  EXPECT_EQ(cut.truncated_reason(), "max_nodes");
  limits.max_nodes = 7;
  const v1::TraceResult whole = Run(lot(6), TraceDirection::kBackward, limits);
  EXPECT_FALSE(whole.truncated());
  EXPECT_EQ(whole.nodes_size(), 7);
  limits.max_nodes = 10;  // kBoth counts both directions
  cut = Run(lot(3), TraceDirection::kBoth, limits);
  EXPECT_FALSE(cut.truncated());
  limits.max_nodes = 6;
  cut = Run(lot(3), TraceDirection::kBoth, limits);
  EXPECT_TRUE(cut.truncated());
  EXPECT_EQ(cut.nodes_size(), 6);
}

// Holder rows are kept after an object's out-edges (holdings.h): the walk reads them in the
// same scan, they are not edges, and an expansion a limit cut short has them read anyway.
TEST_F(TraceTest, HoldersAreReadWithTheEdgesAndAreNoEdges) {
  AppendTankChain();
  // P3 has no out-edge, only its holder row: no edge was scanned, nothing was cut.
  TraceLimits limits;
  limits.max_edges_scanned = 0;
  v1::TraceResult p3 = Run(kP3, TraceDirection::kForward, limits);
  EXPECT_FALSE(p3.truncated()) << p3.truncated_reason();
  EXPECT_EQ(Holders(p3), (std::set<std::string>{Holder("holds", kPlant, kP3, 250)}));
  // P0's three edges (contains, shipped, received; each scanned) are followed by its holder
  // row (the depot it was unpacked at): three edges are enough backward, two are not. Forward,
  // the tote it was in is held too.
  limits.max_edges_scanned = 3;
  EXPECT_FALSE(Run(kP0, TraceDirection::kBackward, limits).truncated());
  EXPECT_EQ(Holders(Run(kP0, TraceDirection::kForward, {})),
            (std::set<std::string>{Holder("holds", kDepot2, kP0, 100),
                                   Holder("holds", kDepot3, kTote, 1)}));
  limits.max_edges_scanned = 2;
  EXPECT_TRUE(Run(kP0, TraceDirection::kBackward, limits).truncated());
  // The tank's scan stops at its second edge: the answer is the tank alone, with its holder.
  limits.max_edges_scanned = 1;
  const v1::TraceResult tank = Run(kTank, TraceDirection::kForward, limits);
  EXPECT_TRUE(tank.truncated());
  EXPECT_EQ(tank.truncated_reason(), "max_edges_scanned");
  EXPECT_EQ(Ids(tank), (std::set<std::string>{kTank}));
  EXPECT_EQ(Holders(tank), (std::set<std::string>{Holder("holds", kPlant, kTank, 150)}));
}

// A forward walk that reads ahead on a second thread (TraceLimits::prefetch_after_nodes) gives
// the answer of one that does not, byte for byte, limits included.
TEST_F(TraceTest, ReadingAheadGivesTheSameAnswers) {
  AppendTankChain();
  std::vector<TraceLimits> variants(5);
  variants[1].max_nodes = 3;
  variants[2].max_depth = 1;
  variants[3].max_edges_scanned = 4;
  variants[4].max_nodes = 2;
  variants[4].max_depth = 2;
  // Whether a walk this small finds any node read ahead depends on the threads' timing, unless
  // it waits for the read-ahead (wait_for_read_ahead): then, reading ahead from the first node,
  // every expansion of the forward walk visits rows the other thread read.
  for (const char* root : {kLotA, kLotB, kLotL2, kTank, kP0, kP1, kP2, kP3, kPallet, kTote}) {
    for (TraceDirection direction : {TraceDirection::kForward, TraceDirection::kBoth}) {
      for (TraceLimits limits : variants) {
        limits.prefetch_after_nodes = std::numeric_limits<size_t>::max();
        limits.edges_for_a_thread = std::numeric_limits<size_t>::max();
        TraceStats stats;
        auto one_thread = Trace(Reader(kGenealogyView), root, direction, limits, &stats);
        ASSERT_TRUE(one_thread.ok()) << one_thread.status().ToString();
        EXPECT_EQ(stats.nodes_read_ahead, 0u) << root << ": read ahead when told not to";
        for (const size_t after : {size_t{0}, size_t{1}, size_t{2}}) {
          limits.prefetch_after_nodes = after;
          EXPECT_EQ(Run(root, direction, limits).SerializeAsString(),
                    one_thread->SerializeAsString())
              << root << " " << TraceDirectionName(direction) << ", read ahead after " << after;
          TraceLimits waiting = limits;
          waiting.wait_for_read_ahead = true;
          TraceStats waited;
          auto read_ahead = Trace(Reader(kGenealogyView), root, direction, waiting, &waited);
          ASSERT_TRUE(read_ahead.ok()) << read_ahead.status().ToString();
          EXPECT_EQ(read_ahead->SerializeAsString(), one_thread->SerializeAsString())
              << root << " " << TraceDirectionName(direction) << ", waiting for the read-ahead";
          // The edges listed on a thread of their own, whatever their number: the same answer.
          waiting.edges_for_a_thread = 0;
          auto listed_apart = Trace(Reader(kGenealogyView), root, direction, waiting);
          ASSERT_TRUE(listed_apart.ok()) << listed_apart.status().ToString();
          EXPECT_EQ(listed_apart->SerializeAsString(), one_thread->SerializeAsString())
              << root << " " << TraceDirectionName(direction) << ", edges on another thread";
          if (after == 0 && direction == TraceDirection::kForward) {
            EXPECT_GT(waited.nodes_read_ahead, 0u) << root;
            EXPECT_EQ(waited.nodes_read_ahead, waited.nodes_expanded) << root;
          }
        }
      }
    }
  }
}

TEST_F(TraceTest, UnknownRootIsAloneAndBadArgumentsAreRefused) {
  CatchUp();
  const v1::TraceResult alone = Run("urn:epc:id:sgtin:9521002.010001.42", TraceDirection::kBoth);
  ASSERT_EQ(alone.nodes_size(), 1);
  EXPECT_TRUE(alone.edges().empty());
  EXPECT_FALSE(alone.truncated());
  EXPECT_EQ(Trace(Reader(kGenealogyView), "", TraceDirection::kForward, {})
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  TraceLimits none;
  none.max_nodes = 0;
  EXPECT_EQ(Trace(Reader(kGenealogyView), "x", TraceDirection::kForward, none)
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(*ParseTraceDirection("both"), TraceDirection::kBoth);
  EXPECT_FALSE(ParseTraceDirection("sideways").ok());
}

}  // namespace
}  // namespace traceledger::projections
