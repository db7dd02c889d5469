// File: projections/internal/task_thread.h
//
// TaskThread: a thread that runs the tasks handed to it, one at a time, for as long as it lives.
// The projection runner keeps its apply helper, the loader of the next batch and the freer of
// the last one as TaskThreads instead of starting threads for every batch.
//
// Why: malloc (jemalloc) gives each new thread an arena of its own choosing and a fresh cache.
// With a new thread per role per batch, a batch's memory was freed into one arena and the next
// batch allocated from another, which took fresh pages from the system (zeroed by the kernel
// and, in a virtual machine that reports free pages to its host, faulted in by the host too)
// while the freed ones sat unused. A thread that lives on keeps its arena.
//
// `nice` (0..19) is the thread's scheduling priority, set once when it starts: a thread may
// lower its own priority but, unprivileged, not raise it again, so one thread cannot serve both.
//
// Run and Wait are called by one thread (the owner); the task runs on this thread. A task's
// state (the function object and what it captured) is destroyed on this thread too, before
// Wait returns: freeing what a task holds is work it does.
#ifndef TRACELEDGER_PROJECTIONS_INTERNAL_TASK_THREAD_H_
#define TRACELEDGER_PROJECTIONS_INTERNAL_TASK_THREAD_H_

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

#include "ledger/base/assert.h"

namespace traceledger::projections {

class TaskThread {
 public:
  explicit TaskThread(int nice = 0) : nice_(nice) {}
  TaskThread(const TaskThread&) = delete;
  TaskThread& operator=(const TaskThread&) = delete;
  // Waits for the task running, if any, then ends the thread.
  ~TaskThread() {
    if (!thread_.joinable()) return;
    {
      std::unique_lock<std::mutex> lock(mu_);
      done_.wait(lock, [&] { return !busy_; });
      stopping_ = true;
    }
    ready_.notify_one();
    thread_.join();
  }

  // Starts `task` on this thread (which starts on first use). The task before it must be over
  // (Wait).
  void Run(std::function<void()> task) {
    if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
    {
      std::lock_guard<std::mutex> lock(mu_);
      TL_ASSERT(!busy_);
      task_ = std::move(task);
      busy_ = true;
    }
    ready_.notify_one();
  }

  // Returns once the task last started, and its state, are gone; at once if there is none.
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    done_.wait(lock, [&] { return !busy_; });
  }

 private:
  void Loop() {
    if (nice_ != 0) {
      // Why ignored: if refused, the tasks run at the owner's priority.
      setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), nice_);
    }
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      ready_.wait(lock, [&] { return busy_ || stopping_; });
      if (!busy_) return;  // stopping, with no task left
      std::function<void()> task = std::move(task_);
      task_ = nullptr;
      lock.unlock();
      task();
      task = nullptr;  // its captures are freed here, not by the next Run
      lock.lock();
      busy_ = false;
      done_.notify_all();
    }
  }

  const int nice_;
  std::mutex mu_;
  std::condition_variable ready_;  // a task or stopping_
  std::condition_variable done_;   // busy_ went false
  std::function<void()> task_;
  bool busy_ = false;
  bool stopping_ = false;
  std::thread thread_;  // last: started after the members it uses
};

}  // namespace traceledger::projections

#endif  // TRACELEDGER_PROJECTIONS_INTERNAL_TASK_THREAD_H_
