// File: ledger/testing/machine.h
//
// MachineDescription(): the CPU model, core count and kernel, printed by the benchmarks next to
// their figures. Test and benchmark use only.
#ifndef TRACELEDGER_LEDGER_TESTING_MACHINE_H_
#define TRACELEDGER_LEDGER_TESTING_MACHINE_H_

#include <sys/utsname.h>

#include <fstream>
#include <string>
#include <thread>

namespace traceledger::ledger::testing {

inline std::string MachineDescription() {
  std::string cpu = "unknown CPU";
  std::ifstream info("/proc/cpuinfo");
  for (std::string line; std::getline(info, line);) {
    if (line.rfind("model name", 0) == 0) {
      cpu = line.substr(line.find(':') + 2);
      break;
    }
  }
  utsname u{};
  uname(&u);
  return cpu + ", " + std::to_string(std::thread::hardware_concurrency()) + " cores, Linux " +
         u.release;
}

}  // namespace traceledger::ledger::testing

#endif  // TRACELEDGER_LEDGER_TESTING_MACHINE_H_
