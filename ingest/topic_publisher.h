// File: ingest/topic_publisher.h
//
// TopicPublisher follows an outbox in the ledger (the committed entries, or the rejection
// outbox) and publishes each item to a Kafka topic exactly once, in sequence order per key:
//
//  - Every message carries its outbox sequence in the header "traceledger-seq", and goes to an
//    explicit partition, KafkaPartitionFor(key, partitions), with an idempotent producer (no
//    duplicates, no reordering within a partition, retries forever).
//  - On start it reads the last message of every partition; an item is already published iff
//    its sequence is <= the last sequence in the partition it maps to. It resumes from the
//    lowest sequence some partition still lacks, skipping the items that are there, so after a
//    crash it republishes exactly what the topic is missing.
//  - Publishing runs on its own thread behind the ledger and never blocks durability.
//
// Thread-safe: Start/Stop from one thread; published()/lag() from any.
#ifndef TRACELEDGER_INGEST_TOPIC_PUBLISHER_H_
#define TRACELEDGER_INGEST_TOPIC_PUBLISHER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ingest/kafka_client.h"
#include "ledger/base/status.h"
#include "ledger/ledger.h"

namespace traceledger::ingest {

inline constexpr std::string_view kSequenceHeader = "traceledger-seq";

struct OutboxMessage {
  uint64_t sequence = 0;
  std::string key;
  std::string value;
  KafkaHeaders headers;  // the sequence header is added by the publisher
};

// A sequence of items in the ledger to publish.
class Outbox {
 public:
  virtual ~Outbox() = default;
  virtual std::string_view name() const = 0;
  // Items [0, committed()) exist and never change.
  virtual uint64_t committed() const = 0;
  // Appends up to `max` items starting at `from` (< committed()) to `out`.
  virtual Status Read(uint64_t from, size_t max, std::vector<OutboxMessage>* out) const = 0;
  // Waits until committed() > seen or `timeout`; false on timeout or when the ledger closes.
  virtual bool WaitForMore(uint64_t seen, std::chrono::milliseconds timeout) const = 0;
};

// The ledger's committed entries: key = the event's primary object id (ObjectIdsOf; the event
// id when it has none), value = the exact entry bytes, headers "traceledger-leaf-hash" (hex)
// and "traceledger-event-id". `ledger` must outlive the outbox.
std::unique_ptr<Outbox> LedgerEntriesOutbox(const ledger::Ledger& ledger);

// The rejection outbox: key = the original message key (or the event id), value = the original
// payload, the original headers, plus "traceledger-rule", "traceledger-field",
// "traceledger-reason", "traceledger-event-id" and "traceledger-source-topic/-partition/
// -offset". `ledger` must outlive the outbox.
std::unique_ptr<Outbox> RejectionsOutbox(const ledger::Ledger& ledger);

struct PublisherOptions {
  std::string brokers;
  std::string topic;
  // Partitions of the topic if the publisher has to create it.
  int32_t partitions_if_created = 4;
  int16_t replication_factor_if_created = 1;
  // Extra librdkafka producer settings (applied after the publisher's own).
  KafkaConfig producer_config;
  // Items read from the ledger per round.
  size_t read_batch = 1000;
  // Bound on recovery steps talking to the broker (metadata, reading partition tails).
  std::chrono::milliseconds broker_timeout{30000};
};

class TopicPublisher {
 public:
  // Starts publishing `outbox` (which must outlive the publisher) on a background thread,
  // which first recovers the topic's tail (creating the topic if needed). Broker trouble
  // (unreachable, topic not ready, a foreign topic without sequence headers) is retried every
  // second and logged; it delays publishing, never ingestion. InvalidArgument for bad options.
  static Result<std::unique_ptr<TopicPublisher>> Start(const Outbox& outbox,
                                                       PublisherOptions options);
  ~TopicPublisher();
  TopicPublisher(const TopicPublisher&) = delete;
  TopicPublisher& operator=(const TopicPublisher&) = delete;

  // Stops reading new items, waits up to `flush_timeout` for deliveries, stops the thread.
  // Items not delivered by then are published on the next start. Idempotent.
  Status Stop(std::chrono::milliseconds flush_timeout);

  // Items known delivered: every sequence below this is in the topic.
  uint64_t published() const { return published_.load(std::memory_order_acquire); }
  uint64_t lag() const;
  // The last error that made the publisher restart its producer, if any (for logs/metrics).
  std::string last_error() const;

 private:
  TopicPublisher(const Outbox& outbox, PublisherOptions options);
  // Connects, reads the tail of every partition and sets the first sequence to consider.
  Status Recover();
  void Loop();
  Status PublishFrom();
  static void OnDelivery(rd_kafka_t* rk, const rd_kafka_message_t* message, void* opaque);

  const Outbox& outbox_;
  const PublisherOptions options_;
  KafkaHandle producer_;
  int32_t partitions_ = 0;
  std::vector<int64_t> last_in_partition_;  // -1: nothing published there (Loop thread only)
  uint64_t next_ = 0;                       // next sequence to consider (Loop thread only)

  // Delivery tracking for published(): per partition the sequences produced and not yet
  // delivered, oldest first (delivery reports arrive in order per partition).
  void UpdatePublished();  // requires delivery_mu_ held
  mutable std::mutex delivery_mu_;
  std::vector<std::deque<uint64_t>> pending_;  // guarded by delivery_mu_
  uint64_t considered_ = 0;  // guarded by delivery_mu_: every item below is produced or present
  Status delivery_error_;    // guarded by delivery_mu_
  std::string last_error_;   // guarded by delivery_mu_

  std::atomic<uint64_t> published_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace traceledger::ingest

#endif  // TRACELEDGER_INGEST_TOPIC_PUBLISHER_H_
