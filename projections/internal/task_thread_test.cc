#include "projections/internal/task_thread.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <memory>
#include <thread>
#include <vector>

namespace traceledger::projections {
namespace {

// Records, when destroyed, the thread it was destroyed on.
struct Capture {
  std::thread::id* destroyed_on;
  ~Capture() { *destroyed_on = std::this_thread::get_id(); }
};

int OwnNice() {
  return getpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)));
}

TEST(TaskThreadTest, EveryTaskRunsOnTheSameThreadWhichIsNotTheCallers) {
  TaskThread thread;
  std::vector<std::thread::id> ran_on(5);
  for (auto& id : ran_on) {
    thread.Run([&id] { id = std::this_thread::get_id(); });
    thread.Wait();
  }
  EXPECT_NE(ran_on[0], std::this_thread::get_id());
  EXPECT_NE(ran_on[0], std::thread::id());
  for (const auto& id : ran_on) EXPECT_EQ(id, ran_on[0]);
}

TEST(TaskThreadTest, WaitReturnsOnceTheTaskAndWhatItCapturedAreGone) {
  TaskThread thread;
  std::thread::id ran_on;
  std::thread::id destroyed_on;
  std::shared_ptr<Capture> capture(new Capture{&destroyed_on});
  std::promise<void> go;
  std::shared_future<void> started = go.get_future().share();
  // The task waits for the test to let it finish: Wait cannot return before.
  thread.Run([capture = std::move(capture), started, &ran_on] {
    started.wait();
    ran_on = std::this_thread::get_id();
  });
  go.set_value();
  thread.Wait();
  EXPECT_NE(ran_on, std::thread::id());
  EXPECT_EQ(destroyed_on, ran_on);  // freed by the thread, before Wait returned
}

TEST(TaskThreadTest, WaitWithoutATaskReturnsAtOnce) {
  TaskThread never_started;
  never_started.Wait();
  TaskThread thread;
  thread.Run([] {});
  thread.Wait();
  thread.Wait();  // the task is over: nothing to wait for
}

TEST(TaskThreadTest, DestroyingItWaitsForTheTaskRunning) {
  std::atomic<int> finished{0};
  std::promise<void> go;
  std::shared_future<void> let_finish = go.get_future().share();
  {
    TaskThread thread;
    thread.Run([&finished, let_finish] {
      let_finish.wait();
      finished.fetch_add(1);
    });
    go.set_value();
  }  // destroyed while the task may still be running
  EXPECT_EQ(finished.load(), 1);
}

TEST(TaskThreadTest, TheTasksRunAtTheThreadsNiceness) {
  const int own = OwnNice();
  TaskThread background(19);
  TaskThread normal;
  int background_nice = -100;
  int normal_nice = -100;
  background.Run([&] { background_nice = OwnNice(); });
  normal.Run([&] { normal_nice = OwnNice(); });
  background.Wait();
  normal.Wait();
  EXPECT_EQ(background_nice, 19);
  EXPECT_EQ(normal_nice, own);  // 0: the creator's, unchanged
  EXPECT_EQ(OwnNice(), own);    // and the caller's stays as it was
}

}  // namespace
}  // namespace traceledger::projections
