#!/usr/bin/env bash
# The full test suite, as CI runs it on a fresh machine (README: "Run the tests").
#  1. installs the Debian packages it needs (tools/scripts/install_deps.sh);
#  2. builds everything, the benchmarks too, with -Wall -Wextra -Werror (preset "ci": -O2, line
#     tables only) and runs every ctest test: unit, integration (crash/kill tests, the
#     independent verifier, the real Kafka broker);
#  3. builds the unit tests with AddressSanitizer + UndefinedBehaviorSanitizer (preset "asan")
#     and runs them;
#  4. builds the multi-threaded tests with ThreadSanitizer (preset "tsan": the ledger's, and
#     the chain views' with the trace's read-ahead thread) and runs them;
#  5. builds the libFuzzer targets (preset "fuzz": Clang, ASan + UBSan) and runs each for 30 s
#     on its seed corpus (tools/scripts/fuzz.sh).
# The release preset (-O3) is not built here: it compiles the same sources as "ci" at another
# optimisation level, and it does not turn warnings into errors, so the demo and the benchmarks
# build on a user's machine even if a newer compiler warns (docs/decisions/0005-ci-budget.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$(date +%s)
# Each phase's wall time, printed as the next one begins: where CI's minutes go.
phase_start=$start
phase() {
  local now
  now=$(date +%s)
  echo "== $* (the phase before: $(( now - phase_start )) s)"
  phase_start=$now
}
bash tools/scripts/install_deps.sh

# Optional extra: the official EPCIS examples, when a ../shared checkout is beside the repo.
if [ -d ../shared/conformance/epcis ]; then
  TL_EPCIS_CONFORMANCE_DIR=$(cd ../shared/conformance/epcis && pwd)
  export TL_EPCIS_CONFORMANCE_DIR
fi

jobs=$(nproc)
phase "build (ci: -O2 -g1, -Werror, tests and benchmarks)"
bash tools/scripts/build.sh ci
phase "tests (ci)"
ctest --preset ci -j "$jobs"

phase "build (asan: AddressSanitizer + UBSan, unit tests)"
bash tools/scripts/build.sh asan unit_tests
phase "unit tests under ASan/UBSan"
ctest --preset asan -j "$jobs"

phase "build (tsan: ThreadSanitizer, the multi-threaded tests)"
bash tools/scripts/build.sh tsan ledger_test ledger_merkle_test projections_chain_test
phase "ledger and chain-view tests under TSan"
ctest --preset tsan -j "$jobs"

phase "fuzz targets (Clang, ASan + UBSan), 30 s each"
bash tools/scripts/fuzz.sh 30

phase "done"
echo "== all tests passed in $(( $(date +%s) - start )) s"
