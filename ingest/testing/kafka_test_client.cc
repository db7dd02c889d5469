#include "ingest/testing/kafka_test_client.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>
#include <type_traits>
#include <utility>

namespace traceledger::ingest::testing {
namespace {

using Clock = std::chrono::steady_clock;

// Pause between retries of a request that failed transiently (leader not elected yet,
// coordinator loading).
constexpr std::chrono::milliseconds kRetryPause{100};
// One consumer poll.
constexpr std::chrono::milliseconds kPollInterval{100};
// How long a failed Produce waits for the purged messages' reports.
constexpr std::chrono::milliseconds kPurgeTimeout{10000};
// Serve delivery reports every this many produced messages.
constexpr size_t kPollEveryMessages = 1000;
// Kafka's limit on topic name length.
constexpr size_t kMaxTopicNameBytes = 249;

int TimeoutMs(std::chrono::milliseconds timeout) {
  return static_cast<int>(std::clamp<int64_t>(timeout.count(), 0, 1 << 30));
}

int RemainingMs(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return TimeoutMs(left);
}

// Repeats `request` (returning Status or Result) while it fails with Unavailable, until
// `deadline`; returns the last outcome.
template <typename Request>
auto RetryWhileUnavailable(Clock::time_point deadline, Request request) {
  auto outcome = request();
  for (int attempt = 0; !outcome.ok(); ++attempt) {
    const Status& status = [&]() -> const Status& {
      if constexpr (std::is_same_v<decltype(outcome), Status>) {
        return outcome;
      } else {
        return outcome.status();
      }
    }();
    if (status.code() != StatusCode::kUnavailable || Clock::now() + kRetryPause >= deadline) {
      break;
    }
    TL_ASSERT(attempt < 1000000);
    std::this_thread::sleep_for(kRetryPause);
    outcome = request();
  }
  return outcome;
}

// Errors that mean "try again" while a new topic's leaders are elected or a coordinator loads.
bool IsTransient(rd_kafka_resp_err_t err) {
  return KafkaStatus(err, "").code() == StatusCode::kUnavailable;
}

std::string ToBase36(uint64_t value) {
  std::string digits;
  do {
    digits.push_back("0123456789abcdefghijklmnopqrstuvwxyz"[value % 36]);
    value /= 36;
  } while (value != 0);
  std::reverse(digits.begin(), digits.end());
  return digits;
}

std::string Trim(std::string text) {
  const auto is_space = [](unsigned char c) { return std::isspace(c) != 0; };
  while (!text.empty() && is_space(static_cast<unsigned char>(text.back()))) text.pop_back();
  size_t start = 0;
  while (start < text.size() && is_space(static_cast<unsigned char>(text[start]))) ++start;
  return text.substr(start);
}

}  // namespace

KafkaTestClient::KafkaTestClient(std::string bootstrap, std::unique_ptr<DeliveryTally> tally,
                                 KafkaHandle producer)
    : bootstrap_(std::move(bootstrap)), tally_(std::move(tally)), producer_(std::move(producer)) {}

Result<std::unique_ptr<KafkaTestClient>> KafkaTestClient::Connect(const std::string& bootstrap) {
  auto tally = std::make_unique<DeliveryTally>();
  DeliveryTally* tally_ptr = tally.get();
  const KafkaConfig config = {
      {"bootstrap.servers", bootstrap},
      {"enable.idempotence", "true"},
      {"partitioner", "murmur2_random"},
      {"linger.ms", "5"},
      {"queue.buffering.max.messages", "1000000"},
      {"message.timeout.ms", std::to_string(kProduceTimeout.count())},
      // Tests create their topics: an unknown topic is an error, not a new topic.
      {"allow.auto.create.topics", "false"},
  };
  TL_ASSIGN_OR_RETURN(KafkaHandle producer,
                      NewKafkaClient(RD_KAFKA_PRODUCER, config, [tally_ptr](rd_kafka_conf_t* conf) {
                        rd_kafka_conf_set_opaque(conf, tally_ptr);
                        rd_kafka_conf_set_dr_msg_cb(
                            conf, [](rd_kafka_t*, const rd_kafka_message_t* message,
                                     void* opaque) {
                              auto* counts = static_cast<DeliveryTally*>(opaque);
                              if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                                ++counts->delivered;
                                return;
                              }
                              if (counts->failed++ == 0) counts->first_error = message->err;
                            });
                      }));
  // The broker must answer metadata before the client is handed out.
  const rd_kafka_metadata_t* metadata = nullptr;
  const rd_kafka_resp_err_t err =
      rd_kafka_metadata(producer.get(), 0, nullptr, &metadata, TimeoutMs(kRequestTimeout));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaStatus(err, "metadata from Kafka broker " + bootstrap);
  }
  rd_kafka_metadata_destroy(metadata);
  return std::unique_ptr<KafkaTestClient>(
      new KafkaTestClient(bootstrap, std::move(tally), std::move(producer)));
}

Status KafkaTestClient::CreateTopic(const std::string& topic, int32_t partitions) {
  TL_ASSERT(partitions > 0);
  const Clock::time_point deadline = Clock::now() + kRequestTimeout;
  TL_RETURN_IF_ERROR(RetryWhileUnavailable(deadline, [&] {
    return EnsureKafkaTopic(producer_.get(), topic, partitions, 1,
                            std::chrono::milliseconds(RemainingMs(deadline)));
  }));
  // Creation is asynchronous on the broker: wait until the metadata lists the partitions.
  Result<int32_t> count = Status::NotFound("topic " + topic + " not in metadata yet");
  for (int attempt = 0; Clock::now() < deadline; ++attempt) {
    TL_ASSERT(attempt < 1000000);
    count = KafkaPartitionCount(producer_.get(), topic,
                                std::chrono::milliseconds(RemainingMs(deadline)));
    if (count.ok()) return Status::Ok();
    std::this_thread::sleep_for(kRetryPause);
  }
  return Status::Unavailable("topic " + topic + " created but not visible in metadata after " +
                             std::to_string(kRequestTimeout.count()) +
                             " ms: " + count.status().ToString());
}

Status KafkaTestClient::Produce(const std::string& topic,
                                const std::vector<ProducedMessage>& messages) {
  rd_kafka_t* rk = producer_.get();
  *tally_ = DeliveryTally{};
  const Clock::time_point deadline = Clock::now() + kProduceTimeout;
  // Drops whatever is still queued so that no report of this call arrives during the next.
  const auto abandon = [&](Status status) {
    rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    // Why ignored: the caller gets `status`; this only waits for the purged reports.
    static_cast<void>(rd_kafka_flush(rk, TimeoutMs(kPurgeTimeout)));
    return status;
  };
  for (size_t i = 0; i < messages.size(); ++i) {
    const ProducedMessage& message = messages[i];
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    for (int attempt = 0;; ++attempt) {
      TL_ASSERT(attempt < 100000000);
      // producev takes the headers only on success.
      rd_kafka_headers_t* headers =
          message.headers.empty() ? nullptr : NewKafkaHeaders(message.headers);
      err = rd_kafka_producev(
          rk, RD_KAFKA_V_TOPIC(topic.c_str()),
          RD_KAFKA_V_KEY(message.key.data(), message.key.size()),
          RD_KAFKA_V_VALUE(const_cast<char*>(message.value.data()), message.value.size()),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR && headers != nullptr) {
        rd_kafka_headers_destroy(headers);
      }
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || Clock::now() >= deadline) break;
      rd_kafka_poll(rk, 10);  // Let deliveries drain the local queue.
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return abandon(KafkaStatus(err, "producing message " + std::to_string(i) + " of " +
                                          std::to_string(messages.size()) + " to " + topic));
    }
    if (i % kPollEveryMessages == 0) rd_kafka_poll(rk, 0);
  }
  const rd_kafka_resp_err_t flushed = rd_kafka_flush(rk, RemainingMs(deadline));
  const DeliveryTally tally = *tally_;
  if (flushed != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return abandon(Status::Unavailable(
        "producing to " + topic + ": " + std::to_string(tally.delivered + tally.failed) +
        " of " + std::to_string(messages.size()) + " delivery reports after " +
        std::to_string(kProduceTimeout.count()) + " ms"));
  }
  if (tally.failed > 0) {
    return KafkaStatus(tally.first_error, "producing to " + topic + ": " +
                                              std::to_string(tally.failed) + " of " +
                                              std::to_string(messages.size()) +
                                              " deliveries failed, the first with");
  }
  TL_ASSERT(tally.delivered == static_cast<int64_t>(messages.size()));
  return Status::Ok();
}

Result<std::map<int32_t, KafkaTestClient::Watermarks>> KafkaTestClient::QueryWatermarks(
    const std::string& topic) {
  const Clock::time_point deadline = Clock::now() + kRequestTimeout;
  TL_ASSIGN_OR_RETURN(const int32_t partitions, RetryWhileUnavailable(deadline, [&] {
                        return KafkaPartitionCount(
                            producer_.get(), topic,
                            std::chrono::milliseconds(RemainingMs(deadline)));
                      }));
  std::map<int32_t, Watermarks> out;
  for (int32_t partition = 0; partition < partitions; ++partition) {
    Watermarks marks;
    TL_RETURN_IF_ERROR(RetryWhileUnavailable(deadline, [&] {
      return KafkaStatus(
          rd_kafka_query_watermark_offsets(producer_.get(), topic.c_str(), partition, &marks.low,
                                           &marks.high, RemainingMs(deadline)),
          "watermarks of " + topic + "/" + std::to_string(partition));
    }));
    out[partition] = marks;
  }
  return out;
}

Result<KafkaHandle> KafkaTestClient::NewConsumer(const std::string& group) {
  TL_ASSERT(!group.empty());
  KafkaConfig config = {
      {"bootstrap.servers", bootstrap_},
      {"group.id", group},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", "true"},
      {"auto.offset.reset", "earliest"},
      {"isolation.level", "read_committed"},
  };
  return NewKafkaClient(RD_KAFKA_CONSUMER, config);
}

Result<std::vector<ConsumedMessage>> KafkaTestClient::ConsumeAll(
    const std::string& topic, std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  TL_ASSIGN_OR_RETURN(const auto marks, QueryWatermarks(topic));
  // librdkafka's assign() needs a group.id; this one never joins and never commits, so the
  // broker keeps no trace of it.
  TL_ASSIGN_OR_RETURN(KafkaHandle consumer, NewConsumer(UniqueName("consume-all")));
  PartitionList assignment(rd_kafka_topic_partition_list_new(static_cast<int>(marks.size())));
  // Per partition: the next offset to read, and the end the last watermark query gave.
  struct Progress {
    int64_t next = 0;
    int64_t end = 0;
  };
  std::map<int32_t, Progress> progress;
  for (const auto& [partition, range] : marks) {
    rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), partition)->offset =
        range.low;
    progress[partition] = Progress{range.low, range.high};
  }
  std::vector<ConsumedMessage> out;
  if (progress.empty()) return out;
  TL_RETURN_IF_ERROR(
      KafkaStatus(rd_kafka_assign(consumer.get(), assignment.get()), "assigning " + topic));
  // Partitions with offsets below their end still to read.
  const auto unread = [&progress] {
    return std::count_if(progress.begin(), progress.end(),
                         [](const auto& entry) { return entry.second.next < entry.second.end; });
  };
  bool read_to_end = false;
  while (!read_to_end && Clock::now() < deadline) {
    if (unread() == 0) {
      // Everything below the ends is read: ask again whether those were the ends.
      TL_ASSIGN_OR_RETURN(const auto again, QueryWatermarks(topic));
      for (const auto& [partition, range] : again) {
        const auto known = progress.find(partition);
        // A partition added during the call is not read; the tests never add one.
        if (known != progress.end()) known->second.end = range.high;
      }
      read_to_end = unread() == 0;
      continue;
    }
    KafkaMessage message(rd_kafka_consumer_poll(consumer.get(), TimeoutMs(kPollInterval)));
    if (message == nullptr || message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
    const int32_t partition = message->partition;
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (IsTransient(message->err)) continue;  // librdkafka retries on its own.
      return KafkaStatus(message->err, "consuming " + topic + "/" + std::to_string(partition));
    }
    const auto known = progress.find(partition);
    // Only the assigned partitions arrive, each in offset order.
    TL_ASSERT(known != progress.end());
    if (message->offset < known->second.next) continue;
    known->second.next = message->offset + 1;
    ConsumedMessage& consumed = out.emplace_back();
    consumed.partition = partition;
    consumed.offset = message->offset;
    if (message->key != nullptr) {
      consumed.key.assign(static_cast<const char*>(message->key), message->key_len);
    }
    if (message->payload != nullptr) {
      consumed.value.assign(static_cast<const char*>(message->payload), message->len);
    }
    consumed.headers = KafkaHeadersOf(message.get());
  }
  rd_kafka_consumer_close(consumer.get());
  if (!read_to_end) {
    std::string which;
    for (const auto& [partition, at] : progress) {
      if (at.next >= at.end) continue;
      which += " " + std::to_string(partition) + " (read up to offset " +
               std::to_string(at.next) + " of " + std::to_string(at.end) + ")";
    }
    return Status::Unavailable("consuming " + topic + ": got " + std::to_string(out.size()) +
                               " messages in " + std::to_string(timeout.count()) +
                               " ms; partitions not read to the end:" +
                               (which.empty() ? " none, but the last watermark query was not "
                                                "made in time"
                                              : which));
  }
  std::sort(out.begin(), out.end(), [](const ConsumedMessage& a, const ConsumedMessage& b) {
    return a.partition != b.partition ? a.partition < b.partition : a.offset < b.offset;
  });
  return out;
}

Result<int64_t> KafkaTestClient::MessageCount(const std::string& topic) {
  TL_ASSIGN_OR_RETURN(const auto marks, QueryWatermarks(topic));
  int64_t count = 0;
  for (const auto& [partition, range] : marks) count += range.high - range.low;
  return count;
}

Result<std::map<int32_t, int64_t>> KafkaTestClient::HighWatermarks(const std::string& topic) {
  TL_ASSIGN_OR_RETURN(const auto marks, QueryWatermarks(topic));
  std::map<int32_t, int64_t> out;
  for (const auto& [partition, range] : marks) out[partition] = range.high;
  return out;
}

Result<std::map<int32_t, int64_t>> KafkaTestClient::CommittedOffsets(const std::string& group,
                                                                     const std::string& topic) {
  TL_ASSERT(!group.empty());
  const Clock::time_point deadline = Clock::now() + kRequestTimeout;
  TL_ASSIGN_OR_RETURN(const int32_t partitions, RetryWhileUnavailable(deadline, [&] {
                        return KafkaPartitionCount(
                            producer_.get(), topic,
                            std::chrono::milliseconds(RemainingMs(deadline)));
                      }));
  TL_ASSIGN_OR_RETURN(KafkaHandle consumer, NewConsumer(group));
  PartitionList list(rd_kafka_topic_partition_list_new(partitions));
  for (int32_t partition = 0; partition < partitions; ++partition) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition);
  }
  // The group coordinator may still be loading right after a broker start.
  TL_RETURN_IF_ERROR(RetryWhileUnavailable(deadline, [&] {
    Status status = KafkaStatus(rd_kafka_committed(consumer.get(), list.get(),
                                                   RemainingMs(deadline)),
                                "committed offsets of group " + group);
    for (int i = 0; status.ok() && i < list->cnt; ++i) {
      status = KafkaStatus(list->elems[i].err, "committed offset of group " + group + " for " +
                                                   topic + "/" +
                                                   std::to_string(list->elems[i].partition));
    }
    return status;
  }));
  std::map<int32_t, int64_t> out;
  for (int i = 0; i < list->cnt; ++i) {
    if (list->elems[i].offset >= 0) out[list->elems[i].partition] = list->elems[i].offset;
  }
  rd_kafka_consumer_close(consumer.get());
  return out;
}

Result<std::string> FixtureBootstrap() {
  if (const char* bootstrap = std::getenv("TL_KAFKA_BOOTSTRAP");
      bootstrap != nullptr && *bootstrap != '\0') {
    return std::string(bootstrap);
  }
  const char* dir = std::getenv("TL_KAFKA_BROKER_DIR");
  if (dir == nullptr || *dir == '\0') {
    return Status::NotFound(
        "no Kafka broker: set TL_KAFKA_BOOTSTRAP=host:port, or run through ctest (the "
        "\"kafka\" fixture sets TL_KAFKA_BROKER_DIR), or start one with "
        "`tests/kafka/kafka_broker.sh start DIR` and set TL_KAFKA_BROKER_DIR=DIR");
  }
  const std::string path = std::string(dir) + "/bootstrap";
  std::ifstream file(path);
  std::stringstream contents;
  contents << file.rdbuf();
  std::string bootstrap = Trim(contents.str());
  if (!file || bootstrap.empty()) {
    return Status::NotFound("no Kafka broker: " + path +
                            " is missing or empty (TL_KAFKA_BROKER_DIR=" + dir +
                            "); is the ctest fixture kafka_fixture_start passing? Or start one "
                            "with `tests/kafka/kafka_broker.sh start " + dir + "`");
  }
  return bootstrap;
}

std::string UniqueName(std::string_view suffix) {
  static std::atomic<uint64_t> counter{0};
  static const std::string process_part = [] {
    const auto start = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now().time_since_epoch());
    return "t-" + std::to_string(getpid()) + "-" +
           ToBase36(static_cast<uint64_t>(start.count()));
  }();
  std::string name = process_part + "-" + std::to_string(counter.fetch_add(1)) + "-";
  for (char c : suffix) {
    const bool allowed = std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' ||
                         c == '_' || c == '-';
    name.push_back(allowed ? c : '-');
  }
  if (name.size() > kMaxTopicNameBytes) name.resize(kMaxTopicNameBytes);
  return name;
}

}  // namespace traceledger::ingest::testing
