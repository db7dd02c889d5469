// Smoke test of the ctest "kafka" fixture broker and of ingest/testing/kafka_test_client.h:
// produce, read back, count, and see a consumer group's commit, against a real broker.
#include "ingest/testing/kafka_test_client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ingest/kafka_client.h"
#include "ingest/testing/event_stream.h"

namespace traceledger::ingest::testing {
namespace {

constexpr std::chrono::milliseconds kConsumeTimeout{60000};

std::unique_ptr<KafkaTestClient> ConnectToFixture() {
  const Result<std::string> bootstrap = FixtureBootstrap();
  EXPECT_TRUE(bootstrap.ok()) << bootstrap.status().ToString();
  if (!bootstrap.ok()) return nullptr;
  Result<std::unique_ptr<KafkaTestClient>> client = KafkaTestClient::Connect(*bootstrap);
  EXPECT_TRUE(client.ok()) << client.status().ToString();
  if (!client.ok()) return nullptr;
  return std::move(client).value();
}

// What the broker says `topic` holds, to tell a message the broker lacks from one the
// reader missed when a count differs.
std::string HeldBy(KafkaTestClient& client, const std::string& topic) {
  const Result<std::map<int32_t, int64_t>> high = client.HighWatermarks(topic);
  if (!high.ok()) return "high watermarks unknown: " + high.status().ToString();
  std::string out = "high watermarks now:";
  for (const auto& [partition, offset] : *high) {
    out += " " + std::to_string(partition) + "=" + std::to_string(offset);
  }
  return out;
}

TEST(KafkaTestClientTest, ReadsBackExactlyWhatWasProduced) {
  std::unique_ptr<KafkaTestClient> client = ConnectToFixture();
  ASSERT_NE(client, nullptr);
  const std::string topic = UniqueName("round-trip");
  ASSERT_TRUE(client->CreateTopic(topic, 4).ok());

  constexpr int kMessages = 2000;
  constexpr int kKeys = 37;
  std::vector<ProducedMessage> produced;
  for (int i = 0; i < kMessages; ++i) {
    produced.push_back({"key-" + std::to_string(i % kKeys), "value-" + std::to_string(i),
                        {{"seq", std::to_string(i)}, {"tl-test", "smoke"}}});
  }
  const Status status = client->Produce(topic, produced);
  ASSERT_TRUE(status.ok()) << status.ToString();

  const Result<std::vector<ConsumedMessage>> consumed = client->ConsumeAll(topic, kConsumeTimeout);
  ASSERT_TRUE(consumed.ok()) << consumed.status().ToString();
  ASSERT_EQ(consumed->size(), static_cast<size_t>(kMessages)) << HeldBy(*client, topic);

  // Each message once, intact, on its key's partition; each key's messages in produce order;
  // offsets dense from 0 in each partition (idempotent producer, no transactions).
  std::map<std::string, int> last_seq_by_key;
  std::map<int32_t, int64_t> next_offset;
  std::vector<bool> seen(kMessages, false);
  for (const ConsumedMessage& m : *consumed) {
    const std::optional<std::string> seq_header = KafkaHeader(m.headers, "seq");
    ASSERT_TRUE(seq_header.has_value());
    const int seq = std::stoi(*seq_header);
    ASSERT_GE(seq, 0);
    ASSERT_LT(seq, kMessages);
    EXPECT_FALSE(seen[seq]) << "message " << seq << " read twice";
    seen[seq] = true;
    EXPECT_EQ(m.key, produced[seq].key);
    EXPECT_EQ(m.value, produced[seq].value);
    EXPECT_EQ(m.headers, produced[seq].headers);
    EXPECT_EQ(m.partition, KafkaPartitionFor(m.key, 4)) << m.key;
    EXPECT_EQ(m.offset, next_offset[m.partition]++) << "partition " << m.partition;
    const auto last = last_seq_by_key.find(m.key);
    if (last != last_seq_by_key.end()) {
      EXPECT_LT(last->second, seq) << "key " << m.key << " out of order";
    }
    last_seq_by_key[m.key] = seq;
  }
  EXPECT_EQ(last_seq_by_key.size(), static_cast<size_t>(kKeys));

  const Result<int64_t> count = client->MessageCount(topic);
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_EQ(*count, kMessages);

  const Result<std::map<int32_t, int64_t>> high = client->HighWatermarks(topic);
  ASSERT_TRUE(high.ok()) << high.status().ToString();
  ASSERT_EQ(high->size(), 4u);
  int64_t sum = 0;
  for (const auto& [partition, offset] : *high) {
    EXPECT_EQ(offset, next_offset[partition]) << "partition " << partition;
    sum += offset;
  }
  EXPECT_EQ(sum, kMessages);
}

TEST(KafkaTestClientTest, CarriesASyntheticEventStreamUnchanged) {
  std::unique_ptr<KafkaTestClient> client = ConnectToFixture();
  ASSERT_NE(client, nullptr);
  const std::string topic = UniqueName("events");
  ASSERT_TRUE(client->CreateTopic(topic, 3).ok());
  StreamOptions options;
  options.messages = 1500;
  options.seed = 5;
  options.now_unix_micros = 1795651200LL * 1000000;
  const std::vector<StreamMessage> stream = GenerateStream(options);
  std::vector<ProducedMessage> produced;
  std::map<std::string, std::vector<std::string>> payloads_by_key;
  for (const StreamMessage& m : stream) {
    produced.push_back({m.key, m.payload, {}});
    payloads_by_key[m.key].push_back(m.payload);
  }
  ASSERT_TRUE(client->Produce(topic, produced).ok());
  const Result<std::vector<ConsumedMessage>> consumed = client->ConsumeAll(topic, kConsumeTimeout);
  ASSERT_TRUE(consumed.ok()) << consumed.status().ToString();
  ASSERT_EQ(consumed->size(), stream.size()) << HeldBy(*client, topic);
  std::map<std::string, std::vector<std::string>> consumed_by_key;
  for (const ConsumedMessage& m : *consumed) {
    EXPECT_TRUE(m.headers.empty());
    consumed_by_key[m.key].push_back(m.value);
  }
  EXPECT_EQ(consumed_by_key, payloads_by_key);
}

TEST(KafkaTestClientTest, CreateTopicIsIdempotentAndANewTopicIsEmpty) {
  std::unique_ptr<KafkaTestClient> client = ConnectToFixture();
  ASSERT_NE(client, nullptr);
  const std::string topic = UniqueName("empty");
  ASSERT_TRUE(client->CreateTopic(topic, 2).ok());
  const Status again = client->CreateTopic(topic, 2);
  EXPECT_TRUE(again.ok()) << again.ToString();
  const Result<int64_t> count = client->MessageCount(topic);
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_EQ(*count, 0);
  const Result<std::vector<ConsumedMessage>> consumed =
      client->ConsumeAll(topic, std::chrono::seconds(5));
  ASSERT_TRUE(consumed.ok()) << consumed.status().ToString();
  EXPECT_TRUE(consumed->empty());
}

TEST(KafkaTestClientTest, UnknownTopicIsNotFound) {
  std::unique_ptr<KafkaTestClient> client = ConnectToFixture();
  ASSERT_NE(client, nullptr);
  const std::string topic = UniqueName("never-created");
  const Result<int64_t> count = client->MessageCount(topic);
  ASSERT_FALSE(count.ok());
  EXPECT_EQ(count.status().code(), StatusCode::kNotFound) << count.status().ToString();
  // And asking did not create it.
  EXPECT_EQ(client->HighWatermarks(topic).status().code(), StatusCode::kNotFound);
}

// Commits `offsets` for `group` the way an ingest worker does after a batch: a consumer of the
// group, the partitions assigned, a synchronous commit. Retries while the coordinator loads.
Status CommitAsGroup(const std::string& bootstrap, const std::string& group,
                     const std::string& topic, const std::map<int32_t, int64_t>& offsets) {
  TL_ASSIGN_OR_RETURN(KafkaHandle consumer,
                      NewKafkaClient(RD_KAFKA_CONSUMER, {{"bootstrap.servers", bootstrap},
                                                         {"group.id", group},
                                                         {"enable.auto.commit", "false"}}));
  PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const auto& [partition, offset] : offsets) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset = offset;
  }
  TL_RETURN_IF_ERROR(KafkaStatus(rd_kafka_assign(consumer.get(), list.get()), "assign"));
  Status status;
  for (int attempt = 0; attempt < 50; ++attempt) {
    status = KafkaStatus(rd_kafka_commit(consumer.get(), list.get(), /*async=*/0), "commit");
    if (status.code() != StatusCode::kUnavailable) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  rd_kafka_consumer_close(consumer.get());
  return status;
}

TEST(KafkaTestClientTest, CommittedOffsetsShowAGroupsCommit) {
  std::unique_ptr<KafkaTestClient> client = ConnectToFixture();
  ASSERT_NE(client, nullptr);
  const std::string topic = UniqueName("commits");
  ASSERT_TRUE(client->CreateTopic(topic, 4).ok());
  std::vector<ProducedMessage> produced;
  for (int i = 0; i < 400; ++i) produced.push_back({"k" + std::to_string(i), "v", {}});
  ASSERT_TRUE(client->Produce(topic, produced).ok());
  const std::string group = UniqueName("group");

  const Result<std::map<int32_t, int64_t>> before = client->CommittedOffsets(group, topic);
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_TRUE(before->empty());

  const std::map<int32_t, int64_t> committed = {{0, 5}, {2, 17}};
  const Status commit = CommitAsGroup(client->bootstrap(), group, topic, committed);
  ASSERT_TRUE(commit.ok()) << commit.ToString();

  const Result<std::map<int32_t, int64_t>> after = client->CommittedOffsets(group, topic);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(*after, committed);
  // Another group sees nothing.
  const Result<std::map<int32_t, int64_t>> other =
      client->CommittedOffsets(UniqueName("other-group"), topic);
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_TRUE(other->empty());
}

TEST(UniqueNameTest, IsUniqueAndAValidTopicName) {
  const std::string a = UniqueName("x");
  const std::string b = UniqueName("x");
  EXPECT_NE(a, b);
  EXPECT_EQ(UniqueName("a/b c:d").find_first_of("/ :"), std::string::npos);
  EXPECT_LE(UniqueName(std::string(400, 'z')).size(), 249u);
}

}  // namespace
}  // namespace traceledger::ingest::testing
