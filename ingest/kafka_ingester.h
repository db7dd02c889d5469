// File: ingest/kafka_ingester.h
//
// KafkaIngester: consumes submitted events from a Kafka topic and turns them into ledger
// entries exactly once, whatever crashes, rebalances or redeliveries happen.
//
//  - Consumer group with manual offsets. The next offset of every partition is stored in the
//    ledger, in the same RocksDB write batch as the entries (and rejections) it produced; on
//    assignment the consumer seeks to those stored offsets. Kafka commits are made only so that
//    lag shows up in Kafka's tools.
//  - Each message is decoded and validated (ingest/event_validator.h). A valid event is
//    appended with its exact bytes; an event id already in the log is recognised and not
//    appended again. An invalid message, or one reusing an event id with other content, goes
//    to the rejection outbox with the rule it broke, and from there to the rejected topic; its
//    offset is stored all the same, so it is handled once.
//  - Committed entries are published to the ledger topic and rejections to the rejected topic
//    by TopicPublishers (exactly once, behind the ledger; publishing never blocks ingestion).
//  - Back-pressure: at most max_batches_in_flight batches wait in the ledger; the consumer
//    stops polling until one is durable.
//
// Thread-compatible: Run() on one thread; Metrics() from any.
#ifndef TRACELEDGER_INGEST_KAFKA_INGESTER_H_
#define TRACELEDGER_INGEST_KAFKA_INGESTER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "ingest/kafka_client.h"
#include "ingest/topic_publisher.h"
#include "ledger/base/status.h"
#include "ledger/ledger.h"

namespace traceledger::ingest {

enum class Publishing { kOn, kOff };

struct IngestOptions {
  std::string brokers;
  std::string topic = "traceledger.events";
  std::string group_id = "traceledger-ingest";
  std::string rejected_topic = "traceledger.rejected";
  std::string ledger_topic = "traceledger.ledger";
  // A batch is handed to the ledger at this many messages or after this long, whichever first.
  size_t max_batch_messages = 1000;
  std::chrono::milliseconds max_batch_wait{20};
  // Batches waiting in the ledger before the consumer stops polling (back-pressure).
  size_t max_batches_in_flight = 4;
  // Publish committed entries / rejections to their topics (off: only the ledger is written).
  Publishing publish = Publishing::kOn;
  // Extra librdkafka settings, applied after the ingester's own.
  KafkaConfig consumer_config;
  KafkaConfig producer_config;
  // Whether a submitter id is a registered party; null accepts every submitter.
  std::function<bool(std::string_view)> is_known_submitter;
  // Wall clock in microseconds (validation of event times); null = system clock.
  std::function<int64_t()> clock_unix_micros;
  // How often metrics are logged and offsets committed to Kafka for lag monitoring.
  std::chrono::milliseconds report_interval{5000};
};

struct IngestMetrics {
  uint64_t messages = 0;    // consumed and handed to the ledger (durable)
  uint64_t appended = 0;    // new entries
  uint64_t duplicates = 0;  // event ids already logged with the same content
  uint64_t rejected = 0;    // invalid or conflicting messages
  uint64_t batches = 0;
  double events_per_second = 0;  // messages made durable per second, since the last report
  int64_t consumer_lag = -1;     // messages behind the high watermarks of assigned partitions
  uint64_t ledger_published = 0;
  uint64_t ledger_publish_lag = 0;
  uint64_t rejected_published = 0;
};

// The ledger stream name under which the next offset of topic/partition is stored.
std::string KafkaStream(std::string_view topic, int32_t partition);

class KafkaIngester {
 public:
  // `ledger` must be writable and outlive the ingester. Starts the publishers (which need the
  // broker) unless options.publish is kOff.
  static Result<std::unique_ptr<KafkaIngester>> Create(ledger::Ledger& ledger,
                                                       IngestOptions options);
  ~KafkaIngester();
  KafkaIngester(const KafkaIngester&) = delete;
  KafkaIngester& operator=(const KafkaIngester&) = delete;

  // Consumes until `stop` is set (e.g. by SIGTERM) or a fatal error. Before returning it hands
  // the current batch to the ledger, waits until every batch is durable (offsets stored),
  // leaves the consumer group, and gives the publishers `flush_timeout` to deliver.
  Status Run(const std::atomic<bool>& stop,
             std::chrono::milliseconds flush_timeout = std::chrono::seconds(10));

  IngestMetrics Metrics() const;

 private:
  struct Pending;  // messages of the batch being built
  KafkaIngester(ledger::Ledger& ledger, IngestOptions options);
  Status Connect();
  Status ConnectConsumer();
  Status ReplaceConsumer(const std::string& reason);
  void Flush();            // hands the current batch to the ledger (may block: back-pressure)
  void Drain();            // waits until no batch is in flight
  void OnRebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions);
  static void RebalanceCallback(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                rd_kafka_topic_partition_list_t* partitions, void* opaque);
  void Report(double seconds);
  int64_t NowMicros() const;

  ledger::Ledger& ledger_;
  const IngestOptions options_;
  KafkaHandle consumer_;
  std::unique_ptr<Outbox> ledger_outbox_;
  std::unique_ptr<Outbox> rejection_outbox_;
  std::unique_ptr<TopicPublisher> ledger_publisher_;
  std::unique_ptr<TopicPublisher> rejection_publisher_;
  std::unique_ptr<Pending> pending_;  // consumer thread only

  mutable std::mutex mu_;
  std::condition_variable cv_;
  size_t in_flight_ = 0;                       // guarded by mu_
  Status fatal_;                               // guarded by mu_
  std::map<int32_t, int64_t> durable_offsets_;  // guarded by mu_: next offset per partition
  IngestMetrics metrics_;                      // guarded by mu_ (counters)
  uint64_t messages_at_last_report_ = 0;       // consumer thread only
};

}  // namespace traceledger::ingest

#endif  // TRACELEDGER_INGEST_KAFKA_INGESTER_H_
