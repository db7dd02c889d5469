#!/usr/bin/env bash
# The README's main command end to end, through HTTP: runs tools/scripts/demo.sh with the
# built binaries (a generated chain, the demo story captured over HTTP by each party, a trace,
# a recall, a fill-permit check, an evidence bundle verified offline), then checks what it
# showed, and that a tampered bundle and a bad request are refused. Every check states what it
# expects.
# usage: serve_e2e_test.sh BIN_DIR   (the directory holding tracectl and traceledger)
set -euo pipefail
bin=$1
repo=$(cd "$(dirname "$0")/../.." && pwd)
source "$(dirname "$0")/lib.sh"
e2e_workdir

set +e
TL_BIN_DIR=$bin TL_DEMO_DIR=$work/demo TL_DEMO_PORT=0 TL_DEMO_EVENTS=5000 TL_DEMO_NO_WAIT=1 \
  bash "$repo/tools/scripts/demo.sh" > "$work/out" 2>&1
rc=$?
set -e
cat "$work/out"
check "the demo runs to the end (exit 0)" test "$rc" -eq 0
check "the server answered /healthz" grep -q '"status":"ok"' "$work/out"
check "the EPCIS document was captured" grep -q "^capture cap-[0-9a-f]* success True" "$work/out"
check "the lot traces back to its milk powder" grep -q "sources:.*9521001.000010.WMP261102" "$work/out"
check "... and to its lactose" grep -q "sources:.*9521010.000020.LAC2610A" "$work/out"
check "the forward trace lists holders" grep -q "^  holder " "$work/out"
check "the recall shows its effectiveness" grep -q "^distributed .* removed .* effectiveness [0-9.]*%" "$work/out"
check "the fill-permit gate answered for both cylinders" test "$(grep -c -E '^  .* (ALLOW|DENY)' "$work/out")" -eq 2
check "the recall's evidence bundle verifies offline" grep -q "VERIFIED" "$work/out"
check "the server stopped cleanly" grep -q "stopped cleanly" "$work/demo/server.log"

# The bundle the server made, with one byte changed, no longer verifies.
bundle=$work/demo/recall.bundle
python3 - "$bundle" "$work/tampered" << 'PY'
import sys
data = bytearray(open(sys.argv[1], 'rb').read())
i = data.index(b'\nentry ') + 20
data[i] = ord('A') if data[i] != ord('A') else ord('B')
open(sys.argv[2], 'wb').write(data)
PY
set +e
"$bin/tracectl" verify-bundle "$work/tampered" --key "$work/demo/log.vkey" > "$work/verdict" 2>&1
rc=$?
set -e
check "a tampered bundle fails verification (exit 1)" test "$rc" -eq 1
check "... saying what failed" grep -q "FAILED" "$work/verdict"

# The ledger the server wrote audits clean after the server stopped.
check "the ledger audits clean" "$bin/tracectl" audit --data "$work/demo/data"

finish "serve e2e"
