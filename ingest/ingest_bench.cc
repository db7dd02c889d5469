// ingest_bench: end-to-end durable ingest rate from a real Kafka broker into the ledger, next to
// the rate at which a bare librdkafka consumer reads the same topic (the reference, measured in
// the same run on the same machine).
//
//   bash tests/kafka/kafka_broker.sh start /tmp/bench-broker
//   ingest_bench --brokers $(cat /tmp/bench-broker/bootstrap) [--events N] [--dir DIR]
//   bash tests/kafka/kafka_broker.sh stop /tmp/bench-broker
//
// Events are valid traceledger.v1.Event protobufs of about 300 bytes (unique ids). Results go
// to stdout as a Markdown table.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "ingest/event_validator.h"
#include "ingest/kafka_client.h"
#include "ingest/kafka_ingester.h"
#include "ingest/testing/event_stream.h"
#include "ingest/testing/kafka_test_client.h"
#include "ledger/testing/machine.h"
#include "ledger/data_dir.h"

namespace traceledger::ingest {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void Check(const Status& status, const char* what) {
  if (!status.ok()) {
    std::fprintf(stderr, "ingest_bench: %s: %s\n", what, status.ToString().c_str());
    std::exit(3);
  }
}

// Reads the whole topic with a bare consumer (assign from the beginning, poll one message at a
// time as the ingester does, nothing else); returns messages/s.
double BareConsumerRate(const std::string& brokers, const std::string& topic, uint64_t events,
                        int32_t partitions) {
  auto consumer = NewKafkaClient(RD_KAFKA_CONSUMER, {{"bootstrap.servers", brokers},
                                                     {"group.id", testing::UniqueName("bare")},
                                                     {"enable.auto.commit", "false"},
                                                     {"auto.offset.reset", "earliest"}});
  Check(consumer.status(), "bare consumer");
  PartitionList list(rd_kafka_topic_partition_list_new(partitions));
  for (int32_t p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
  }
  Check(KafkaStatus(rd_kafka_assign(consumer->get(), list.get()), "assign"), "bare assign");
  uint64_t consumed = 0;
  uint64_t bytes = 0;
  const auto start = Clock::now();
  while (consumed < events && Since(start) < 600) {
    KafkaMessage message(rd_kafka_consumer_poll(consumer->get(), 100));
    if (message == nullptr || message->err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    ++consumed;
    bytes += message->len;
  }
  const double seconds = Since(start);
  rd_kafka_consumer_close(consumer->get());
  if (consumed < events) {
    std::fprintf(stderr, "ingest_bench: bare consumer read only %llu\n",
                 static_cast<unsigned long long>(consumed));
    std::exit(3);
  }
  return static_cast<double>(consumed) / seconds;
}

struct IngestResult {
  double durable_rate = 0;     // messages made durable in the ledger per second
  double published_seconds = 0;  // until the ledger topic held every entry (publish on)
};

IngestResult IngestRate(const std::string& brokers, const std::string& topic, uint64_t events,
                        const std::string& dir, Publishing publish) {
  std::filesystem::remove_all(dir);
  auto ledger = ledger::CreateDataDir(dir, "bench.example/log", {});
  Check(ledger.status(), "ledger");
  IngestOptions options;
  options.brokers = brokers;
  options.topic = topic;
  options.group_id = testing::UniqueName("bench-ingest");
  options.ledger_topic = testing::UniqueName("bench-ledger");
  options.rejected_topic = testing::UniqueName("bench-rejected");
  options.publish = publish;
  options.report_interval = std::chrono::seconds(2);
  const std::vector<std::string>& known = testing::KnownSubmitters();
  options.is_known_submitter = [&known](std::string_view id) {
    return std::find(known.begin(), known.end(), id) != known.end();
  };
  auto ingester = KafkaIngester::Create(**ledger, options);
  Check(ingester.status(), "ingester");
  std::atomic<bool> stop{false};
  IngestResult result;
  const auto start = Clock::now();
  std::thread watcher([&] {
    while (!stop.load()) {
      const IngestMetrics m = (*ingester)->Metrics();
      if (m.messages >= events && result.durable_rate == 0) {
        result.durable_rate = static_cast<double>(m.messages) / Since(start);
      }
      const bool published = publish == Publishing::kOff || m.ledger_published >= m.appended;
      if (result.durable_rate > 0 && published) {
        result.published_seconds = Since(start);
        stop = true;
      }
      if (Since(start) > 900) stop = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  Check((*ingester)->Run(stop), "ingest");
  watcher.join();
  Check((*ledger)->Close(), "close");
  if (result.durable_rate == 0) {
    std::fprintf(stderr, "ingest_bench: ingestion did not finish\n");
    std::exit(3);
  }
  std::filesystem::remove_all(dir);
  return result;
}


}  // namespace
}  // namespace traceledger::ingest

int main(int argc, char** argv) {
  using namespace traceledger::ingest;  // NOLINT(google-build-using-namespace): bench main
  std::string brokers;
  std::string dir = "/tmp/ingest_bench";
  uint64_t events = 1000000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--brokers") {
      brokers = argv[i + 1];
    } else if (flag == "--events") {
      events = std::stoull(argv[i + 1]);
    } else if (flag == "--dir") {
      dir = argv[i + 1];
    } else {
      brokers.clear();
      break;
    }
  }
  if (brokers.empty()) {
    std::fprintf(stderr, "usage: ingest_bench --brokers HOST:PORT [--events N] [--dir DIR]\n");
    return 2;
  }
  auto client = testing::KafkaTestClient::Connect(brokers);
  Check(client.status(), "connect");
  const std::string topic = testing::UniqueName("bench-events");
  constexpr int32_t kPartitions = 4;
  Check((*client)->CreateTopic(topic, kPartitions), "create topic");

  std::fprintf(stderr, "generating %llu events...\n", static_cast<unsigned long long>(events));
  const int64_t now = NowMicros();
  std::vector<testing::ProducedMessage> messages;
  messages.reserve(events);
  uint64_t payload_bytes = 0;
  for (uint64_t i = 0; i < events; ++i) {
    const traceledger::v1::Event event = testing::MakeValidEvent(i, now, 300);
    const std::vector<std::string> ids = ObjectIdsOf(event);
    messages.push_back({ids.empty() ? event.event_id() : ids.front(), event.SerializeAsString(), {}});
    payload_bytes += messages.back().value.size();
  }
  auto start = Clock::now();
  Check((*client)->Produce(topic, messages), "produce");
  const double produce_rate = static_cast<double>(events) / Since(start);
  messages.clear();
  messages.shrink_to_fit();

  if (std::getenv("TL_BENCH_INGEST_ONLY") != nullptr) {  // for profiling one phase
    const IngestResult only = IngestRate(brokers, topic, events, dir, Publishing::kOff);
    std::printf("ingest, publishing off: %.0f events/s\n", only.durable_rate);
    return 0;
  }
  std::fprintf(stderr, "bare consumer...\n");
  const double bare = BareConsumerRate(brokers, topic, events, kPartitions);
  std::fprintf(stderr, "ingest, publishing off...\n");
  const IngestResult off = IngestRate(brokers, topic, events, dir, Publishing::kOff);
  std::fprintf(stderr, "ingest, publishing on...\n");
  const IngestResult on = IngestRate(brokers, topic, events, dir, Publishing::kOn);
  std::fprintf(stderr, "bare consumer again...\n");
  const double bare_after = BareConsumerRate(brokers, topic, events, kPartitions);

  std::printf("Machine: %s; %llu events, mean payload %.0f bytes, %d partitions, broker on the "
              "same machine\n\n",
              traceledger::ledger::testing::MachineDescription().c_str(),
              static_cast<unsigned long long>(events),
              static_cast<double>(payload_bytes) / static_cast<double>(events), kPartitions);
  std::printf("| measurement | events/s | vs. bare consumer (mean of both runs) |\n|---|---:|---:|\n");
  const double reference = (bare + bare_after) / 2;
  std::printf("| produce (idempotent producer, for scale) | %.0f | |\n", produce_rate);
  std::printf("| reference: bare librdkafka consumer, before | %.0f | |\n", bare);
  std::printf("| reference: bare librdkafka consumer, after | %.0f | |\n", bare_after);
  std::printf("| ingest, durable in the ledger, publishing off | %.0f | %.0f %% |\n",
              off.durable_rate, 100 * off.durable_rate / reference);
  std::printf("| ingest, durable in the ledger, publishing to traceledger.ledger on | %.0f | %.0f %% |\n",
              on.durable_rate, 100 * on.durable_rate / reference);
  std::printf("| ... and every entry published to the ledger topic after | %.1f s | |\n",
              on.published_seconds);
  return 0;
}
