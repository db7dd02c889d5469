// Unit tests (no broker) of ingest/kafka_client.h and of the synthetic event streams in
// ingest/testing/event_stream.h.
#include "ingest/kafka_client.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "ingest/event_validator.h"
#include "ingest/gs1.h"
#include "ingest/testing/event_stream.h"

namespace traceledger::ingest {
namespace {

namespace v1 = traceledger::v1;
using testing::ExpectedRule;
using testing::GenerateStream;
using testing::kAllMalformations;
using testing::KnownSubmitters;
using testing::Malformation;
using testing::MalformationName;
using testing::MakeValidEvent;
using testing::StreamMessage;
using testing::StreamOptions;

// 2026-11-26T00:00:00Z.
constexpr int64_t kNowUnixMicros = 1795651200LL * 1000000;

// ----- murmur2 and partitioning -----------------------------------------------------------------

TEST(KafkaMurmur2Test, MatchesKafkaPublishedVectors) {
  // org.apache.kafka.common.utils.Utils.murmur2, as signed Java ints.
  EXPECT_EQ(static_cast<int32_t>(KafkaMurmur2("1")), -1993445489);
  EXPECT_EQ(static_cast<int32_t>(KafkaMurmur2("12")), 126087238);
  EXPECT_EQ(static_cast<int32_t>(KafkaMurmur2("123")), -267702483);
  EXPECT_EQ(static_cast<int32_t>(KafkaMurmur2("1234")), -1614185708);
  EXPECT_EQ(static_cast<int32_t>(KafkaMurmur2("12345")), -1188365604);
}

TEST(KafkaMurmur2Test, MatchesLibrdkafkaUnitTestVectors) {
  // librdkafka's rdmurmur2.c unit test (its values come from the Java client).
  EXPECT_EQ(KafkaMurmur2("kafka"), 0xd067cf64u);
  EXPECT_EQ(KafkaMurmur2("giberish123456789"), 0x8f552b0cu);
  EXPECT_EQ(KafkaMurmur2("1234"), 0x9fc97b14u);
  EXPECT_EQ(KafkaMurmur2("234"), 0xe7c009cau);
  EXPECT_EQ(KafkaMurmur2("34"), 0x873930dau);
  EXPECT_EQ(KafkaMurmur2("4"), 0x5a4b5ca1u);
  EXPECT_EQ(KafkaMurmur2("PreAmbleWillBeRemoved,ThePrePartThatIs"), 0x78424f1cu);
  EXPECT_EQ(KafkaMurmur2("reAmbleWillBeRemoved,ThePrePartThatIs"), 0x4a62b377u);
  EXPECT_EQ(KafkaMurmur2("eAmbleWillBeRemoved,ThePrePartThatIs"), 0xe0e4e09eu);
  EXPECT_EQ(KafkaMurmur2("AmbleWillBeRemoved,ThePrePartThatIs"), 0x62b8b43fu);
  EXPECT_EQ(KafkaMurmur2(""), 0x106e08d9u);
}

std::vector<std::string> PartitionTestKeys() {
  std::vector<std::string> keys = {"", "a", "urn:epc:id:sgtin:9521234.012345.1001",
                                   "https://id.gs1.org/01/09521234543213/21/ABC",
                                   std::string("\0\xff\x80\x7f", 4)};
  uint64_t state = 12345;
  for (int i = 0; i < 2000; ++i) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    std::string key(static_cast<size_t>(state >> 58), '\0');  // 0..63 bytes
    for (char& c : key) {
      state = state * 6364136223846793005ULL + 1442695040888963407ULL;
      c = static_cast<char>(state >> 56);
    }
    keys.push_back(std::move(key));
  }
  return keys;
}

TEST(KafkaPartitionForTest, AgreesWithLibrdkafkaMurmur2Partitioners) {
  // librdkafka's murmur2 partitioners do not touch the topic handle for a non-null key, so
  // they can be called directly (verified: a null rkt works).
  const std::vector<int32_t> partition_counts = {1, 2, 3, 4, 7, 12, 16, 64, 100, 1000, 65536};
  static const char kEmpty[1] = {0};
  for (const std::string& key : PartitionTestKeys()) {
    const void* data = key.empty() ? kEmpty : key.data();
    for (int32_t partitions : partition_counts) {
      const int32_t ours = KafkaPartitionFor(key, partitions);
      ASSERT_EQ(ours, rd_kafka_msg_partitioner_murmur2(nullptr, data, key.size(), partitions,
                                                       nullptr, nullptr))
          << "key of " << key.size() << " bytes, " << partitions << " partitions";
      ASSERT_EQ(ours, rd_kafka_msg_partitioner_murmur2_random(nullptr, data, key.size(),
                                                              partitions, nullptr, nullptr));
      ASSERT_GE(ours, 0);
      ASSERT_LT(ours, partitions);
    }
  }
}

TEST(KafkaPartitionForTest, SpreadsKeysOverAllPartitions) {
  std::map<int32_t, int> counts;
  for (int i = 0; i < 4000; ++i) ++counts[KafkaPartitionFor("key-" + std::to_string(i), 4)];
  ASSERT_EQ(counts.size(), 4u);
  for (const auto& [partition, count] : counts) {
    EXPECT_GT(count, 800) << "partition " << partition;
  }
}

// ----- headers ----------------------------------------------------------------------------------

// Produces one message with `headers` to a producer that has no broker, purges it, and returns
// the headers its delivery report carries (KafkaHeadersOf on a real rd_kafka_message_t).
KafkaHeaders RoundTripHeaders(const KafkaHeaders& headers) {
  KafkaHeaders reported;
  bool got_report = false;
  struct Capture {
    KafkaHeaders* headers;
    bool* got_report;
  } capture{&reported, &got_report};
  Result<KafkaHandle> producer = NewKafkaClient(
      RD_KAFKA_PRODUCER, {{"bootstrap.servers", "127.0.0.1:1"}, {"log_level", "0"}},
      [&capture](rd_kafka_conf_t* conf) {
        rd_kafka_conf_set_opaque(conf, &capture);
        rd_kafka_conf_set_dr_msg_cb(
            conf, [](rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
              auto* c = static_cast<Capture*>(opaque);
              *c->headers = KafkaHeadersOf(message);
              *c->got_report = true;
            });
      });
  EXPECT_TRUE(producer.ok()) << producer.status().ToString();
  if (!producer.ok()) return {};
  rd_kafka_headers_t* native = NewKafkaHeaders(headers);
  const rd_kafka_resp_err_t err = rd_kafka_producev(
      producer->get(), RD_KAFKA_V_TOPIC("headers-test"), RD_KAFKA_V_KEY("k", 1),
      RD_KAFKA_V_VALUE(const_cast<char*>("v"), 1), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_HEADERS(native), RD_KAFKA_V_END);
  EXPECT_EQ(err, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(err);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_headers_destroy(native);
    return {};
  }
  EXPECT_EQ(rd_kafka_purge(producer->get(), RD_KAFKA_PURGE_F_QUEUE), RD_KAFKA_RESP_ERR_NO_ERROR);
  for (int i = 0; i < 100 && !got_report; ++i) rd_kafka_poll(producer->get(), 50);
  EXPECT_TRUE(got_report);
  return reported;
}

TEST(KafkaHeadersTest, RoundTripKeepsOrderDuplicatesAndBinaryValues) {
  const KafkaHeaders headers = {{"tl-encoding", "protobuf"},
                                {"tl-submitter", "9521234000006"},
                                {"empty", ""},
                                {"binary", std::string("\0\x01\xff", 3)},
                                {"tl-encoding", "second"}};
  EXPECT_EQ(RoundTripHeaders(headers), headers);
}

TEST(KafkaHeadersTest, NoHeadersGiveAnEmptyList) { EXPECT_TRUE(RoundTripHeaders({}).empty()); }

TEST(KafkaHeadersTest, KafkaHeaderFindsTheFirstByName) {
  const KafkaHeaders headers = {{"a", "1"}, {"b", "2"}, {"a", "3"}};
  EXPECT_EQ(KafkaHeader(headers, "a"), "1");
  EXPECT_EQ(KafkaHeader(headers, "b"), "2");
  EXPECT_EQ(KafkaHeader(headers, "c"), std::nullopt);
}

// ----- KafkaStatus and NewKafkaClient -----------------------------------------------------------

TEST(KafkaStatusTest, NoErrorIsOk) {
  EXPECT_TRUE(KafkaStatus(RD_KAFKA_RESP_ERR_NO_ERROR, "anything").ok());
}

TEST(KafkaStatusTest, MapsErrorKindsToCodes) {
  const std::vector<std::pair<rd_kafka_resp_err_t, StatusCode>> cases = {
      {RD_KAFKA_RESP_ERR__TRANSPORT, StatusCode::kUnavailable},
      {RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, StatusCode::kUnavailable},
      {RD_KAFKA_RESP_ERR__TIMED_OUT, StatusCode::kUnavailable},
      {RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, StatusCode::kUnavailable},
      {RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS, StatusCode::kUnavailable},
      {RD_KAFKA_RESP_ERR__INVALID_ARG, StatusCode::kInvalidArgument},
      {RD_KAFKA_RESP_ERR_INVALID_CONFIG, StatusCode::kInvalidArgument},
      {RD_KAFKA_RESP_ERR_INVALID_PARTITIONS, StatusCode::kInvalidArgument},
      {RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, StatusCode::kNotFound},
      {RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, StatusCode::kNotFound},
      {RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION, StatusCode::kNotFound},
      {RD_KAFKA_RESP_ERR__FATAL, StatusCode::kInternal},
      {RD_KAFKA_RESP_ERR__FENCED, StatusCode::kInternal},
      {RD_KAFKA_RESP_ERR__QUEUE_FULL, StatusCode::kResourceExhausted},
  };
  for (const auto& [err, code] : cases) {
    const Status status = KafkaStatus(err, "fetching t/3");
    EXPECT_EQ(status.code(), code) << rd_kafka_err2name(err) << ": " << status.ToString();
  }
}

TEST(KafkaStatusTest, MessageNamesWhatAndTheError) {
  const Status status = KafkaStatus(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, "metadata of orders");
  EXPECT_EQ(status.message().rfind("metadata of orders: ", 0), 0u) << status.message();
  EXPECT_NE(status.message().find(rd_kafka_err2name(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)),
            std::string::npos)
      << status.message();
}

TEST(NewKafkaClientTest, RejectsAnUnknownSettingNamingIt) {
  const Result<KafkaHandle> client =
      NewKafkaClient(RD_KAFKA_PRODUCER, {{"bootstrap.servers", "127.0.0.1:1"},
                                         {"no.such.setting", "1"}});
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(client.status().message().find("no.such.setting"), std::string::npos)
      << client.status().message();
}

TEST(NewKafkaClientTest, RejectsABadValueNamingTheSetting) {
  const Result<KafkaHandle> client = NewKafkaClient(RD_KAFKA_CONSUMER, {{"acks", "banana"}});
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(client.status().message().find("acks"), std::string::npos)
      << client.status().message();
}

TEST(NewKafkaClientTest, AppliesSettingsAndCallsConfigure) {
  bool configured = false;
  const Result<KafkaHandle> client = NewKafkaClient(
      RD_KAFKA_PRODUCER,
      {{"bootstrap.servers", "127.0.0.1:1"}, {"client.id", "unit-test"}, {"log_level", "0"}},
      [&configured](rd_kafka_conf_t*) { configured = true; });
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  EXPECT_TRUE(configured);
  EXPECT_EQ(rd_kafka_type(client->get()), RD_KAFKA_PRODUCER);
  EXPECT_EQ(std::string(rd_kafka_name(client->get())).rfind("unit-test", 0), 0u);
}

// ----- Synthetic event streams ------------------------------------------------------------------

ValidationContext StreamContext() {
  ValidationContext ctx;
  ctx.now_unix_micros = kNowUnixMicros;
  ctx.is_known_submitter = [](std::string_view id) {
    for (const std::string& known : KnownSubmitters()) {
      if (known == id) return true;
    }
    return false;
  };
  return ctx;
}

StreamOptions SmallStream(uint64_t seed) {
  StreamOptions options;
  options.messages = 20000;
  options.seed = seed;
  options.now_unix_micros = kNowUnixMicros;
  return options;
}

bool SameMessage(const StreamMessage& a, const StreamMessage& b) {
  return a.event_id == b.event_id && a.key == b.key && a.payload == b.payload &&
         a.malformation == b.malformation && a.duplicate == b.duplicate;
}

TEST(EventStreamTest, IsDeterministicForASeed) {
  const std::vector<StreamMessage> first = GenerateStream(SmallStream(7));
  const std::vector<StreamMessage> second = GenerateStream(SmallStream(7));
  ASSERT_EQ(first.size(), second.size());
  for (size_t i = 0; i < first.size(); ++i) {
    ASSERT_TRUE(SameMessage(first[i], second[i])) << "message " << i;
  }
}

TEST(EventStreamTest, OtherSeedsGiveOtherStreams) {
  const std::vector<StreamMessage> a = GenerateStream(SmallStream(7));
  const std::vector<StreamMessage> b = GenerateStream(SmallStream(8));
  size_t same = 0;
  for (size_t i = 0; i < a.size(); ++i) same += SameMessage(a[i], b[i]) ? 1 : 0;
  EXPECT_EQ(same, 0u);
}

TEST(EventStreamTest, HasTheRequestedShares) {
  const StreamOptions options = SmallStream(3);
  const std::vector<StreamMessage> stream = GenerateStream(options);
  ASSERT_EQ(stream.size(), options.messages);
  std::map<Malformation, int> kinds;
  int duplicates = 0;
  for (const StreamMessage& m : stream) {
    EXPECT_FALSE(m.duplicate && m.malformation.has_value());
    if (m.duplicate) ++duplicates;
    if (m.malformation) ++kinds[*m.malformation];
  }
  int malformed = 0;
  for (const auto& [kind, count] : kinds) malformed += count;
  EXPECT_EQ(duplicates, 2000);  // 10% of 20000
  EXPECT_EQ(malformed, 200);    // 1%
  ASSERT_EQ(kinds.size(), kAllMalformations.size());
  for (const auto& [kind, count] : kinds) {
    EXPECT_GE(count, 200 / 7) << MalformationName(kind);
    EXPECT_LE(count, 200 / 7 + 1) << MalformationName(kind);
  }
}

TEST(EventStreamTest, EveryKindAppearsEvenForATinyMalformedRatio) {
  StreamOptions options = SmallStream(4);
  options.messages = 100;
  options.malformed_ratio = 0.0001;
  std::set<Malformation> kinds;
  for (const StreamMessage& m : GenerateStream(options)) {
    if (m.malformation) kinds.insert(*m.malformation);
  }
  EXPECT_EQ(kinds.size(), kAllMalformations.size());
}

TEST(EventStreamTest, ZeroRatiosGiveOnlyNewValidEvents) {
  StreamOptions options = SmallStream(5);
  options.messages = 500;
  options.duplicate_ratio = 0;
  options.malformed_ratio = 0;
  std::set<std::string> ids;
  for (const StreamMessage& m : GenerateStream(options)) {
    EXPECT_FALSE(m.duplicate);
    EXPECT_FALSE(m.malformation.has_value());
    ids.insert(m.event_id);
  }
  EXPECT_EQ(ids.size(), 500u);
}

TEST(EventStreamTest, DuplicatesAndMalformedAreSpreadOverTheStream) {
  const std::vector<StreamMessage> stream = GenerateStream(SmallStream(9));
  const size_t quarter = stream.size() / 4;
  for (size_t q = 0; q < 4; ++q) {
    int duplicates = 0;
    int malformed = 0;
    for (size_t i = q * quarter; i < (q + 1) * quarter; ++i) {
      duplicates += stream[i].duplicate ? 1 : 0;
      malformed += stream[i].malformation ? 1 : 0;
    }
    EXPECT_NEAR(duplicates, 500, 100) << "quarter " << q;
    EXPECT_NEAR(malformed, 50, 25) << "quarter " << q;
  }
}

TEST(EventStreamTest, DuplicatesRepeatAnEarlierValidMessageExactly) {
  const std::vector<StreamMessage> stream = GenerateStream(SmallStream(11));
  std::map<std::string, size_t> first_valid_by_id;
  std::set<size_t> originals;
  for (size_t i = 0; i < stream.size(); ++i) {
    const StreamMessage& m = stream[i];
    if (m.malformation) continue;
    if (!m.duplicate) {
      EXPECT_TRUE(first_valid_by_id.emplace(m.event_id, i).second)
          << "event id " << m.event_id << " repeats in a non-duplicate at " << i;
      continue;
    }
    const auto original = first_valid_by_id.find(m.event_id);
    ASSERT_NE(original, first_valid_by_id.end()) << "duplicate " << i << " has no original";
    EXPECT_LT(original->second, i);
    EXPECT_EQ(stream[original->second].payload, m.payload);
    EXPECT_EQ(stream[original->second].key, m.key);
    originals.insert(original->second);
  }
  // Uniformly chosen originals: 2000 draws from ~17800 valid messages hit many distinct ones.
  EXPECT_GT(originals.size(), 1500u);
}

TEST(EventStreamTest, EveryValidMessageValidatesAndIsKeyedByItsPrimaryObject) {
  const ValidationContext ctx = StreamContext();
  for (const StreamMessage& m : GenerateStream(SmallStream(13))) {
    if (m.malformation) continue;
    auto result = DecodeAndValidate(m.payload, v1::EVENT_ENCODING_PROTOBUF, ctx);
    const Violation* violation = std::get_if<Violation>(&result);
    ASSERT_EQ(violation, nullptr) << m.event_id << ": " << ValidationRuleName(violation->rule)
                                  << " at " << violation->field << ": " << violation->message;
    const v1::Event& event = std::get<v1::Event>(result);
    EXPECT_EQ(event.event_id(), m.event_id);
    EXPECT_EQ(event.event_id().rfind("urn:uuid:", 0), 0u);
    const std::vector<std::string> ids = ObjectIdsOf(event);
    ASSERT_FALSE(ids.empty());
    EXPECT_EQ(m.key, ids[0]);
  }
}

TEST(EventStreamTest, EveryMalformedMessageFailsWithItsExpectedRule) {
  const ValidationContext ctx = StreamContext();
  std::map<Malformation, int> checked;
  for (const StreamMessage& m : GenerateStream(SmallStream(17))) {
    if (!m.malformation) continue;
    auto result = DecodeAndValidate(m.payload, v1::EVENT_ENCODING_PROTOBUF, ctx);
    const Violation* violation = std::get_if<Violation>(&result);
    ASSERT_NE(violation, nullptr) << MalformationName(*m.malformation) << " passed validation";
    EXPECT_EQ(ValidationRuleName(violation->rule), ExpectedRule(*m.malformation))
        << MalformationName(*m.malformation) << ": " << violation->field << ": "
        << violation->message;
    ++checked[*m.malformation];
    if (*m.malformation == Malformation::kUnparsable) {
      EXPECT_EQ(m.key, testing::kUnparsableKey);
      EXPECT_TRUE(m.event_id.empty());
    } else if (*m.malformation == Malformation::kMissingEventId) {
      EXPECT_TRUE(m.event_id.empty());
    } else {
      EXPECT_FALSE(m.event_id.empty());
    }
  }
  EXPECT_EQ(checked.size(), kAllMalformations.size());
}

TEST(EventStreamTest, MalformedMessagesBreakTheRuleAtTheExpectedField) {
  const ValidationContext ctx = StreamContext();
  const std::map<Malformation, std::string> field_prefix = {
      {Malformation::kMissingEventId, "/eventId"},
      {Malformation::kMissingBody, ""},
      {Malformation::kBadGtinCheckDigit, "/objectEvent/epcList/0"},
      {Malformation::kZeroQuantity, "/objectEvent/quantityList/0/quantity"},
      {Malformation::kUnknownSubmitter, "/submitterId"},
  };
  for (const StreamMessage& m : GenerateStream(SmallStream(19))) {
    if (!m.malformation) continue;
    const auto want = field_prefix.find(*m.malformation);
    if (want == field_prefix.end()) continue;
    auto result = DecodeAndValidate(m.payload, v1::EVENT_ENCODING_PROTOBUF, ctx);
    ASSERT_TRUE(std::holds_alternative<Violation>(result));
    EXPECT_EQ(std::get<Violation>(result).field, want->second)
        << MalformationName(*m.malformation);
  }
}

TEST(EventStreamTest, ValidPayloadsAreNearTheTargetSize) {
  for (size_t target : {300u, 1000u, 4096u}) {
    StreamOptions options = SmallStream(21);
    options.messages = 3000;
    options.target_payload_bytes = target;
    for (const StreamMessage& m : GenerateStream(options)) {
      if (m.malformation) continue;
      EXPECT_GE(m.payload.size(), target * 9 / 10) << "target " << target;
      EXPECT_LE(m.payload.size(), target * 11 / 10) << "target " << target;
    }
  }
}

TEST(EventStreamTest, EventsAreVariedAndKeysRepeat) {
  const ValidationContext ctx = StreamContext();
  std::map<std::string, int> forms;
  std::map<std::string, std::set<std::string>> events_by_key;
  for (const StreamMessage& m : GenerateStream(SmallStream(23))) {
    if (m.malformation || m.duplicate) continue;
    v1::Event event;
    ASSERT_TRUE(event.ParseFromString(m.payload));
    events_by_key[m.key].insert(m.event_id);
    if (event.has_aggregation_event()) {
      ++forms["aggregation"];
      EXPECT_EQ(event.aggregation_event().parent_id().rfind("urn:epc:id:sscc:952", 0), 0u);
      continue;
    }
    const v1::ObjectEvent& object = event.object_event();
    ++forms[object.common().biz_step()];
    for (const std::string& epc : object.epc_list()) {
      if (epc.rfind("urn:epc:id:sgtin:9521234.", 0) == 0) ++forms["sgtin"];
      if (epc.rfind("https://id.gs1.org/01/", 0) == 0) ++forms["digital_link"];
    }
    for (const v1::QuantityElement& q : object.quantity_list()) {
      if (q.epc_class().rfind("urn:epc:class:lgtin:9521234.", 0) == 0) ++forms["lgtin"];
    }
  }
  for (const char* form : {"aggregation", "commissioning", "shipping", "receiving", "sgtin",
                           "digital_link", "lgtin"}) {
    EXPECT_GT(forms[form], 100) << form;
  }
  size_t repeated_keys = 0;
  for (const auto& [key, ids] : events_by_key) repeated_keys += ids.size() > 1 ? 1 : 0;
  EXPECT_GT(repeated_keys, 1000u);
}

TEST(EventStreamTest, KnownSubmittersAreValidGlns) {
  ASSERT_FALSE(KnownSubmitters().empty());
  for (const std::string& id : KnownSubmitters()) {
    EXPECT_EQ(id.size(), 13u);
    EXPECT_TRUE(CheckGln(id).ok()) << CheckGln(id).ToString();
  }
}

TEST(EventStreamTest, RuleAndKindNamesAreDistinctAndMatchTheValidator) {
  std::set<std::string_view> names;
  for (Malformation m : kAllMalformations) names.insert(MalformationName(m));
  EXPECT_EQ(names.size(), kAllMalformations.size());
  EXPECT_EQ(ExpectedRule(Malformation::kUnparsable),
            ValidationRuleName(ValidationRule::kUnparsable));
  EXPECT_EQ(ExpectedRule(Malformation::kMissingEventId), "missing_field");
  EXPECT_EQ(ExpectedRule(Malformation::kMissingBody), "missing_field");
  EXPECT_EQ(ExpectedRule(Malformation::kBadGtinCheckDigit), "bad_identifier");
  EXPECT_EQ(ExpectedRule(Malformation::kZeroQuantity), "bad_quantity");
  EXPECT_EQ(ExpectedRule(Malformation::kFutureEventTime), "event_time_in_future");
  EXPECT_EQ(ExpectedRule(Malformation::kUnknownSubmitter), "unknown_submitter");
}

TEST(MakeValidEventTest, ValidatesHasUniqueIdsAndHitsTheTarget) {
  const ValidationContext ctx = StreamContext();
  std::set<std::string> ids;
  for (uint64_t index = 0; index < 2000; ++index) {
    const v1::Event event = MakeValidEvent(index, kNowUnixMicros, 500);
    const std::optional<Violation> violation = ValidateEvent(event, ctx);
    ASSERT_FALSE(violation.has_value()) << index << ": " << violation->message;
    EXPECT_TRUE(ids.insert(event.event_id()).second);
    EXPECT_GE(event.ByteSizeLong(), 450u);
    EXPECT_LE(event.ByteSizeLong(), 550u);
  }
}

TEST(MakeValidEventTest, IsDeterministic) {
  EXPECT_EQ(MakeValidEvent(42, kNowUnixMicros, 300).SerializeAsString(),
            MakeValidEvent(42, kNowUnixMicros, 300).SerializeAsString());
}

}  // namespace
}  // namespace traceledger::ingest
