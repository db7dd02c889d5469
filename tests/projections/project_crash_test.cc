// Issue 4, "crash during projection": `traceledger project` is killed with SIGKILL at random
// moments while it follows a growing ledger (written by this process; the projector reads it
// as a RocksDB secondary), over and over. After the last kill, `project --once` finishes the
// catch-up, and every view, cursor included, must be byte-identical to a fresh in-process
// rebuild from the same ledger (DESIGN.md invariant 6; projections/README.md, "Guarantees").
// Then `--rebuild genealogy` must give the same bytes again, also when it is killed midway and
// restarted, and `--rebuild` of an unknown view must fail naming it. The ledger holds a
// generated mixed supply chain (tools/gen/), two thirds protobuf binary, one third native JSON.
// Set TL_TEST_SEED to replay a run's choices (stream, kill delays); the process's timing, and so
// where exactly each kill lands, cannot be replayed.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ingest/event_decoder.h"
#include "ledger/data_dir.h"
#include "ledger/ledger.h"
#include "projections/all_views.h"
#include "projections/runner.h"
#include "projections/view_store.h"
#include "tools/gen/supply_chain.h"

extern char** environ;

namespace traceledger::projections {
namespace {

// The ledger: kInitialEvents before the first run, more appended while each killed run follows
// it, the rest before the final catch-up. A run gets kEventsPerRun new events while the views
// are at most kFollowBacklog entries behind, and only kEventsPerRunBehind otherwise, so that the
// projector stays close to the head and commits small batches before it is killed, rather than
// falling ever further behind into batches too large to finish in one run.
constexpr uint64_t kTotalEvents = 60000;
constexpr uint64_t kInitialEvents = 1000;
constexpr uint64_t kEventsPerRun = 1200;
constexpr uint64_t kEventsPerRunBehind = 200;
constexpr uint64_t kFollowBacklog = 2000;
constexpr uint64_t kEventsPerRunCall = 100;
constexpr uint64_t kEventsPerBulkCall = 1000;  // LedgerOptions::max_batch_records
// Kills: at least kMinKills, and more (up to kMaxKills) until kMinProgressedRuns runs have
// moved the cursors, so the test cannot pass without the killed runs doing any work.
constexpr int kMinKills = 8;
constexpr int kMaxKills = 24;
constexpr int kMinProgressedRuns = 2;
constexpr int kMinRunMs = 50;
constexpr int kMaxRunMs = 600;
// The numbers above suit a build where `project --once` over the first kInitialEvents entries
// (start, apply, exit) takes up to kReferenceOnceMs: RelWithDebInfo on the 2-core CI machine.
// A slower build (Debug, sanitizers: about 5x) or a busy machine stretches the kill windows by
// the measured slowdown (at most kMaxSlowdown), so that killed runs still get work done, and
// shrinks the ledger (to at least kMinTotalEvents), so that the test keeps to its time.
constexpr double kReferenceOnceMs = 350;
constexpr double kMaxSlowdown = 10;
constexpr uint64_t kMinTotalEvents = 12000;
// How long a process may take to end: after SIGKILL, and for a whole --once catch-up.
constexpr auto kReapTimeout = std::chrono::seconds(10);
constexpr auto kCatchUpTimeout = std::chrono::seconds(240);
constexpr auto kWaitPoll = std::chrono::milliseconds(2);

std::vector<std::string> ViewNames() {
  std::vector<std::string> names;
  for (const auto& projection : AllViews()) names.emplace_back(projection->name());
  return names;
}

// Bytes as text for failure messages: printable ASCII as is, the rest as \xNN.
std::string Printable(std::string_view bytes, size_t max_bytes = 160) {
  std::string out;
  for (const char c : bytes.substr(0, max_bytes)) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && c != '\\') {
      out += c;
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\x%02x", u);
      out += escaped;
    }
  }
  if (bytes.size() > max_bytes) out += "...(" + std::to_string(bytes.size()) + " bytes)";
  return out;
}

std::string ReadLog(const std::string& path) {
  auto text = ledger::ReadFileToString(path);
  return text.ok() ? *text : "(no log: " + text.status().ToString() + ")";
}

// A child process (stdout and stderr to `log_path`), killed and reaped on destruction if a
// failed assertion leaves it running.
class Child {
 public:
  Child(const std::vector<std::string>& args, const std::string& log_path) : log_path_(log_path) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_adddup2(&actions, 2, 1);
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned == 0 && pid > 0) pid_ = pid;
  }
  ~Child() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  bool started() const { return pid_ > 0; }
  std::string log() const { return ReadLog(log_path_); }

  // Waits at most until `deadline` for the process to end; its wait status if it did.
  std::optional<int> WaitUntil(std::chrono::steady_clock::time_point deadline) {
    if (pid_ <= 0) return std::nullopt;
    // Bounded: one waitpid per kWaitPoll until the deadline.
    while (true) {
      int status = 0;
      const pid_t done = ::waitpid(pid_, &status, WNOHANG);
      if (done == pid_) {
        pid_ = -1;
        return status;
      }
      if (done < 0 && errno == ECHILD) {
        pid_ = -1;  // not our child any more: never signal that pid
        return std::nullopt;
      }
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(kWaitPoll);
    }
  }
  std::optional<int> Wait(std::chrono::milliseconds timeout) {
    return WaitUntil(std::chrono::steady_clock::now() + timeout);
  }
  // SIGKILL, then reap; the wait status, or nullopt if it did not end within kReapTimeout.
  std::optional<int> Kill() {
    if (pid_ <= 0) return std::nullopt;
    ::kill(pid_, SIGKILL);
    return Wait(kReapTimeout);
  }

 private:
  pid_t pid_ = -1;  // -1 once reaped (or never started): never signalled
  std::string log_path_;
};

std::string DescribeStatus(int status) {
  if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  return "wait status " + std::to_string(status);
}

// Appends the generated stream to the ledger: every third event as native JSON, the others as
// protobuf binary (the Kafka wire form), so the views read both encodings.
class StreamAppender {
 public:
  StreamAppender(ledger::Ledger& ledger, std::unique_ptr<tools::gen::Generator> generator)
      : ledger_(ledger), generator_(std::move(generator)) {}

  // Appends the next min(count, kEventsPerBulkCall) events in one call; returns how many.
  Result<uint64_t> AppendCall(uint64_t count) {
    std::vector<ledger::AppendRequest> requests;
    while (requests.size() < std::min(count, kEventsPerBulkCall)) {
      const v1::Event* event = generator_->Next();
      if (event == nullptr) break;
      ledger::AppendRequest& request = requests.emplace_back();
      request.event_id = event->event_id();
      request.submitter_id = event->submitter_id();
      if (generator_->produced() % 3 == 0) {
        request.encoding = v1::EVENT_ENCODING_JSON;
        if (!google::protobuf::util::MessageToJsonString(*event, &request.event).ok()) {
          return Status::Internal("event " + event->event_id() + " does not print as JSON");
        }
      } else {
        request.encoding = v1::EVENT_ENCODING_PROTOBUF;
        if (!event->SerializeToString(&request.event)) {
          return Status::Internal("event " + event->event_id() + " does not serialize");
        }
      }
      request.source.mutable_file()->set_path("project_crash_test");
    }
    const size_t appended = requests.size();
    if (appended == 0) return uint64_t{0};
    TL_ASSIGN_OR_RETURN(std::vector<ledger::AppendResult> results,
                        ledger_.Append(std::move(requests)));
    for (const ledger::AppendResult& result : results) {
      if (result.outcome != ledger::AppendOutcome::kAppended) {
        return Status::Internal("event " + result.receipt.event_id + ": outcome " +
                                std::string(ledger::AppendOutcomeName(result.outcome)));
      }
    }
    return uint64_t{appended};
  }

  // Appends events until `total` have been appended (or the stream ends).
  Status AppendUpTo(uint64_t total) {
    // Bounded: each call appends at least one event or ends the loop.
    while (generator_->produced() < total) {
      TL_ASSIGN_OR_RETURN(uint64_t n, AppendCall(total - generator_->produced()));
      if (n == 0) break;
    }
    return Status::Ok();
  }

 private:
  ledger::Ledger& ledger_;
  std::unique_ptr<tools::gen::Generator> generator_;
};

// Each view's cursor (the next sequence it applies) in the views database `dir`; 0 for a view
// (or a database) that does not exist yet, as after a kill before the process got that far.
Result<std::map<std::string, uint64_t>> ReadCursors(const std::string& dir,
                                                    const std::vector<std::string>& names) {
  std::map<std::string, uint64_t> cursors;
  for (const std::string& name : names) cursors[name] = 0;
  if (!std::filesystem::exists(std::filesystem::path(dir) / "CURRENT")) return cursors;
  TL_ASSIGN_OR_RETURN(std::unique_ptr<ViewStore> store,
                      ViewStore::Open(dir, names, ViewStore::Mode::kReadOnly));
  for (const std::string& name : names) {
    TL_ASSIGN_OR_RETURN(std::optional<v1::ProjectionCursor> cursor, store->Cursor(name));
    if (cursor.has_value()) cursors[name] = cursor->next_sequence();
  }
  return cursors;
}

std::string Describe(const std::map<std::string, uint64_t>& cursors) {
  std::string out;
  for (const auto& [name, next] : cursors) {
    out += (out.empty() ? "" : " ") + name + "=" + std::to_string(next);
  }
  return out;
}

// Compares every row of every view, cursor included. Empty if they are byte-identical;
// otherwise names the first view that differs and its first differing key.
std::string CompareViews(const ViewStore& want, const ViewStore& got,
                         const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    if (want.family(name) == nullptr) return "view " + name + ": missing from the fresh rebuild";
    if (got.family(name) == nullptr) return "view " + name + ": missing after the crashes";
    std::vector<std::pair<std::string, std::string>> want_rows;
    Status s = want.ForEach(name, [&](std::string_view key, std::string_view value) {
      want_rows.emplace_back(key, value);
      return true;
    });
    if (!s.ok()) return "view " + name + ": reading the fresh rebuild: " + s.ToString();
    size_t index = 0;
    std::string difference;
    s = got.ForEach(name, [&](std::string_view key, std::string_view value) {
      if (index == want_rows.size()) {
        difference = "extra row " + Printable(key) + " (after the rebuild's last row)";
        return false;
      }
      const auto& [want_key, want_value] = want_rows[index];
      if (key != want_key) {
        difference = key < want_key
                         ? "extra row " + Printable(key) + " (the rebuild's next row is " +
                               Printable(want_key) + ")"
                         : "missing row " + Printable(want_key) + " (found " + Printable(key) +
                               " instead)";
        return false;
      }
      if (value != want_value) {
        difference = "row " + Printable(key) + ": value got " + Printable(value) + ", want " +
                     Printable(want_value);
        return false;
      }
      ++index;
      return true;
    });
    if (!s.ok()) return "view " + name + ": reading the crashed views: " + s.ToString();
    if (difference.empty() && index < want_rows.size()) {
      difference = "missing row " + Printable(want_rows[index].first) + " (and " +
                   std::to_string(want_rows.size() - index - 1) + " after it)";
    }
    if (!difference.empty()) {
      return "view " + name + " (" + std::to_string(want_rows.size()) +
             " rows in the rebuild): " + difference;
    }
  }
  return "";
}

TEST(ProjectCrashTest, ViewsKilledAtRandomAndRestartedEqualAFreshRebuild) {
  const char* env = std::getenv("TL_TEST_SEED");
  const uint64_t seed = env != nullptr ? std::strtoull(env, nullptr, 10) : std::random_device()();
  std::fprintf(stderr, "project_crash_test seed: TL_TEST_SEED=%llu\n",
               static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  const auto test_start = std::chrono::steady_clock::now();
  auto elapsed_s = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - test_start).count();
  };

  const std::filesystem::path work =
      std::filesystem::temp_directory_path() / ("project_crash_test_" + std::to_string(::getpid()));
  std::filesystem::remove_all(work);
  std::filesystem::create_directories(work);
  const std::string data = (work / "ledger").string();
  const std::string views = data + "/views";  // `project`'s default
  auto created = ledger::CreateDataDir(data, "project-crash.test/log", {});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  std::unique_ptr<ledger::Ledger> ledger = std::move(created).value();

  tools::gen::Options gen_options;
  gen_options.profile = tools::gen::Profile::kMixed;
  gen_options.events = kTotalEvents;  // a slow build appends only a prefix (total_events)
  gen_options.seed = rng();
  auto generator = tools::gen::Generator::Create(gen_options);
  ASSERT_TRUE(generator.ok()) << generator.status().ToString();
  StreamAppender appender(*ledger, std::move(generator).value());
  const Status initial = appender.AppendUpTo(kInitialEvents);
  ASSERT_TRUE(initial.ok()) << initial.ToString();

  const std::vector<std::string> names = ViewNames();
  auto project = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {TL_TRACELEDGER_PATH, "project", "--data", data};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };

  // 0. How fast is this build here? One undisturbed `project --once`, in views of its own.
  double slowdown = 1;
  {
    const auto start = std::chrono::steady_clock::now();
    Child once(project({"--once", "--views", (work / "calibration-views").string(),
                        "--follower-dir", (work / "calibration-follower").string()}),
               (work / "calibration.log").string());
    ASSERT_TRUE(once.started()) << "cannot spawn " << TL_TRACELEDGER_PATH;
    const std::optional<int> status = once.Wait(kCatchUpTimeout);
    ASSERT_TRUE(status.has_value()) << "project --once did not finish:\n" << once.log();
    ASSERT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
        << "project --once: " << DescribeStatus(*status) << "\n"
        << once.log();
    const double once_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count();
    slowdown = std::clamp(once_ms / kReferenceOnceMs, 1.0, kMaxSlowdown);
    std::fprintf(stderr, "project --once over %llu entries: %.0f ms\n",
                 static_cast<unsigned long long>(kInitialEvents), once_ms);
    std::filesystem::remove_all(work / "calibration-views");
    std::filesystem::remove_all(work / "calibration-follower");
  }
  const uint64_t total_events = std::max(
      kMinTotalEvents, static_cast<uint64_t>(static_cast<double>(kTotalEvents) / slowdown));
  // A random kill delay: kMinRunMs..kMaxRunMs, stretched on a slow build.
  auto random_run_ms = [&] {
    const int ms = kMinRunMs + static_cast<int>(rng() % (kMaxRunMs - kMinRunMs + 1));
    return std::chrono::milliseconds(static_cast<int64_t>(ms * slowdown));
  };
  std::fprintf(stderr, "slowdown %.2f (kill windows x%.2f), %llu events\n", slowdown, slowdown,
               static_cast<unsigned long long>(total_events));

  // 1. Follow the growing ledger; SIGKILL after a random 50-600 ms, again and again.
  std::map<std::string, uint64_t> cursors;  // after the last kill
  for (const std::string& name : names) cursors[name] = 0;
  int progressed_runs = 0;
  int kills = 0;
  // Bounded: at most kMaxKills runs.
  while (kills < kMinKills || (progressed_runs < kMinProgressedRuns && kills < kMaxKills)) {
    const int run = kills;
    const auto run_ms = random_run_ms();
    uint64_t slowest = UINT64_MAX;
    for (const auto& [name, next] : cursors) slowest = std::min(slowest, next);
    const uint64_t events =
        ledger->size() - slowest <= kFollowBacklog ? kEventsPerRun : kEventsPerRunBehind;
    const uint64_t target = ledger->size() + events;
    const std::string log_path = (work / ("run" + std::to_string(run) + ".log")).string();
    // Every other run writes every batch as ingested table files (ViewStore::Write), so that
    // kills also land while files are written or ingested; the others, as the default does
    // near the head, as write batches.
    Child child(project(run % 2 == 1 ? std::vector<std::string>{"--table-file-min-rows", "0"}
                                     : std::vector<std::string>{}),
                log_path);
    ASSERT_TRUE(child.started()) << "cannot spawn " << TL_TRACELEDGER_PATH;
    const auto start = std::chrono::steady_clock::now();
    const auto kill_at = start + run_ms;
    // The ledger grows while the process follows it: `events` events in calls spread evenly
    // over the run, each after waiting (bounded, until its moment) for an early exit.
    const uint64_t calls = events / kEventsPerRunCall;
    for (uint64_t call = 1; call <= calls; ++call) {
      const auto due =
          start + run_ms * static_cast<int64_t>(call) / static_cast<int64_t>(calls + 1);
      const std::optional<int> exited = child.WaitUntil(std::min(due, kill_at));
      ASSERT_FALSE(exited.has_value()) << "run " << run << ": project ended by itself ("
                                       << DescribeStatus(*exited) << ") before the kill:\n"
                                       << child.log();
      if (std::chrono::steady_clock::now() >= kill_at) break;
      auto appended = appender.AppendCall(std::min(kEventsPerRunCall, target - ledger->size()));
      ASSERT_TRUE(appended.ok()) << appended.status().ToString();
    }
    const std::optional<int> exited = child.WaitUntil(kill_at);
    ASSERT_FALSE(exited.has_value()) << "run " << run << ": project ended by itself ("
                                     << DescribeStatus(*exited) << ") before the kill:\n"
                                     << child.log();
    const auto killed_after_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::steady_clock::now() - start)
                                     .count();
    const std::optional<int> killed = child.Kill();
    ASSERT_TRUE(killed.has_value()) << "run " << run << ": project outlived SIGKILL";
    ASSERT_TRUE(WIFSIGNALED(*killed) && WTERMSIG(*killed) == SIGKILL)
        << "run " << run << ": project ended with " << DescribeStatus(*killed)
        << ", not by the SIGKILL:\n"
        << child.log();
    ++kills;

    // What survived. A cursor never passes the ledger's head. It may move back (views are
    // written without fsync, so a crash may lose the last batches with their cursors), but
    // then the test says so; a run made progress if a cursor moved forward.
    auto survived = ReadCursors(views, names);
    ASSERT_TRUE(survived.ok()) << "run " << run << ": " << survived.status().ToString();
    bool progressed = false;
    std::string moved_back;
    for (const auto& [name, next] : *survived) {
      ASSERT_LE(next, ledger->size()) << "run " << run << ": view " << name;
      if (next > cursors[name]) progressed = true;
      if (next < cursors[name]) moved_back += " " + name;
    }
    std::fprintf(stderr, "run %d: killed after %lld ms with %llu entries; cursors %s%s%s\n", run,
                 static_cast<long long>(killed_after_ms),
                 static_cast<unsigned long long>(ledger->size()), Describe(*survived).c_str(),
                 moved_back.empty() ? "" : "; moved back:", moved_back.c_str());
    if (progressed) ++progressed_runs;
    cursors = std::move(survived).value();
  }
  ASSERT_GE(progressed_runs, kMinProgressedRuns)
      << "only " << progressed_runs << " of " << kills
      << " killed runs committed a batch; the machine is too slow for this test's timing";
  std::fprintf(stderr, "%.1f s: %d kills, %d of them after progress\n", elapsed_s(), kills,
               progressed_runs);

  // 2. The rest of the stream, then `project --once` catches up, while the same views are
  // rebuilt here from scratch (in parallel: they only read the ledger).
  const Status rest = appender.AppendUpTo(total_events);
  ASSERT_TRUE(rest.ok()) << rest.ToString();
  const uint64_t head = ledger->size();
  ASSERT_EQ(head, total_events);
  {
    Child once(project({"--once"}), (work / "once.log").string());
    ASSERT_TRUE(once.started());
    RunnerOptions options;
    options.decoder = ingest::DecodeStoredEventInto;  // as `traceledger project` decodes
    auto fresh = ProjectionRunner::Open((work / "fresh").string(), AllViews(), options);
    ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
    auto source = LedgerEntrySource(*ledger);
    auto applied = (*fresh)->CatchUp(*source);
    ASSERT_TRUE(applied.ok()) << applied.status().ToString();
    ASSERT_EQ(*applied, head);
    const std::optional<int> status = once.Wait(kCatchUpTimeout);
    ASSERT_TRUE(status.has_value()) << "project --once did not finish:\n" << once.log();
    ASSERT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
        << "project --once: " << DescribeStatus(*status) << "\n"
        << once.log();
    const std::string want = "caught-up head=" + std::to_string(head) + " lag=0";
    EXPECT_NE(once.log().find(want), std::string::npos) << "want \"" << want << "\" in:\n"
                                                        << once.log();
  }
  std::fprintf(stderr, "%.1f s: caught up and rebuilt %llu entries\n", elapsed_s(),
               static_cast<unsigned long long>(head));

  auto fresh = ViewStore::Open((work / "fresh").string(), names, ViewStore::Mode::kReadOnly);
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  {
    auto restarted = ViewStore::Open(views, names, ViewStore::Mode::kReadOnly);
    ASSERT_TRUE(restarted.ok()) << restarted.status().ToString();
    const std::string difference = CompareViews(**fresh, **restarted, names);
    ASSERT_TRUE(difference.empty())
        << "views killed " << kills << " times and restarted differ from a fresh rebuild: "
        << difference;
  }
  auto final_cursors = ReadCursors(views, names);
  ASSERT_TRUE(final_cursors.ok()) << final_cursors.status().ToString();
  for (const auto& [name, next] : *final_cursors) EXPECT_EQ(next, head) << "view " << name;
  std::fprintf(stderr, "%.1f s: %zu views identical to the fresh rebuild\n", elapsed_s(),
               names.size());

  // 3. `--rebuild genealogy` empties genealogy (and the views it depends on and that depend on
  // it) and rebuilds them: the same bytes again.
  {
    // With a settle after 1,000 entries: --once waits for the views' compaction, and the
    // compacted views are the same bytes.
    Child rebuild(project({"--rebuild", "genealogy", "--once", "--settle-after-entries", "1000"}),
                  (work / "rebuild.log").string());
    ASSERT_TRUE(rebuild.started());
    const std::optional<int> status = rebuild.Wait(kCatchUpTimeout);
    ASSERT_TRUE(status.has_value()) << "project --rebuild genealogy did not finish";
    ASSERT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
        << "project --rebuild genealogy --once: " << DescribeStatus(*status) << "\n"
        << rebuild.log();
    EXPECT_NE(rebuild.log().find("rebuilding genealogy"), std::string::npos) << rebuild.log();
    EXPECT_NE(rebuild.log().find("project views compacted"), std::string::npos) << rebuild.log();
    auto restarted = ViewStore::Open(views, names, ViewStore::Mode::kReadOnly);
    ASSERT_TRUE(restarted.ok()) << restarted.status().ToString();
    const std::string difference = CompareViews(**fresh, **restarted, names);
    ASSERT_TRUE(difference.empty())
        << "views after --rebuild genealogy differ from a fresh rebuild: " << difference;
  }
  std::fprintf(stderr, "%.1f s: --rebuild genealogy gives the same bytes\n", elapsed_s());

  // 4. A rebuild killed at a random moment after it emptied the views, while it re-applies the
  // ledger, is finished by a plain restart: the same bytes again.
  {
    const auto run_ms = random_run_ms();
    Child rebuild(project({"--rebuild", "genealogy"}), (work / "rebuild-killed.log").string());
    ASSERT_TRUE(rebuild.started());
    // The process says when it has emptied the views (after opening the ledger, which takes a
    // while): the kill is timed from there. Bounded: one check per kWaitPoll until the deadline.
    const auto deadline = std::chrono::steady_clock::now() + kCatchUpTimeout;
    while (rebuild.log().find("rebuilding genealogy") == std::string::npos) {
      const std::optional<int> ended = rebuild.Wait(kWaitPoll);
      ASSERT_FALSE(ended.has_value()) << "project --rebuild genealogy ended by itself ("
                                      << DescribeStatus(*ended) << "):\n"
                                      << rebuild.log();
      ASSERT_LT(std::chrono::steady_clock::now(), deadline)
          << "project --rebuild genealogy never said it was rebuilding:\n"
          << rebuild.log();
    }
    const std::optional<int> exited = rebuild.Wait(run_ms);
    ASSERT_FALSE(exited.has_value()) << "project --rebuild genealogy ended by itself ("
                                     << DescribeStatus(*exited) << ") before the kill:\n"
                                     << rebuild.log();
    const std::optional<int> killed = rebuild.Kill();
    ASSERT_TRUE(killed.has_value()) << "project --rebuild genealogy outlived SIGKILL";
    ASSERT_TRUE(WIFSIGNALED(*killed) && WTERMSIG(*killed) == SIGKILL)
        << "project --rebuild genealogy ended with " << DescribeStatus(*killed) << ":\n"
        << rebuild.log();
    auto survived = ReadCursors(views, names);
    ASSERT_TRUE(survived.ok()) << survived.status().ToString();
    std::fprintf(stderr, "%.1f s: --rebuild genealogy killed %lld ms into it; cursors %s\n",
                 elapsed_s(), static_cast<long long>(run_ms.count()),
                 Describe(*survived).c_str());
    ASSERT_LT((*survived)["genealogy"], head) << "the rebuild was not under way when killed";

    Child once(project({"--once"}), (work / "rebuild-once.log").string());
    ASSERT_TRUE(once.started());
    const std::optional<int> status = once.Wait(kCatchUpTimeout);
    ASSERT_TRUE(status.has_value()) << "project --once did not finish";
    ASSERT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
        << "project --once after a killed rebuild: " << DescribeStatus(*status) << "\n"
        << once.log();
    auto restarted = ViewStore::Open(views, names, ViewStore::Mode::kReadOnly);
    ASSERT_TRUE(restarted.ok()) << restarted.status().ToString();
    const std::string difference = CompareViews(**fresh, **restarted, names);
    ASSERT_TRUE(difference.empty())
        << "views after a killed --rebuild genealogy and a restart differ from a fresh rebuild: "
        << difference;
  }
  std::fprintf(stderr, "%.1f s: a killed rebuild, restarted, gives the same bytes\n",
               elapsed_s());

  // 5. An unknown view is refused, by name, and nothing is touched.
  {
    Child unknown(project({"--rebuild", "nosuchview", "--once"}), (work / "unknown.log").string());
    ASSERT_TRUE(unknown.started());
    const std::optional<int> status = unknown.Wait(kCatchUpTimeout);
    ASSERT_TRUE(status.has_value()) << "project --rebuild nosuchview did not finish";
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 2)  // a usage error
        << "project --rebuild nosuchview: " << DescribeStatus(*status) << "\n"
        << unknown.log();
    EXPECT_NE(unknown.log().find("nosuchview"), std::string::npos)
        << "the error does not name the view:\n"
        << unknown.log();
    auto untouched = ReadCursors(views, names);
    ASSERT_TRUE(untouched.ok()) << untouched.status().ToString();
    for (const auto& [name, next] : *untouched) EXPECT_EQ(next, head) << "view " << name;
  }

  fresh->reset();
  ledger.reset();
  std::fprintf(stderr, "project_crash_test: %d kills, %llu entries, %.1f s\n", kills,
               static_cast<unsigned long long>(head), elapsed_s());
  std::filesystem::remove_all(work);
}

}  // namespace
}  // namespace traceledger::projections
