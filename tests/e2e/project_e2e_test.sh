#!/usr/bin/env bash
# The views end to end, as a regulator's operator uses them: generate a mixed supply chain,
# append it, build the views with `traceledger project --once`, and trace lots with
# `tracectl trace`. Checks that a product lot traces back to the very input lots its
# transformation consumed (and their farms), forward to the parties it was shipped to, and
# that bad requests get a specific error. Every check states what it expects.
# usage: project_e2e_test.sh TRACECTL TRACELEDGER
set -euo pipefail
tracectl=$1
traceledger=$2
source "$(dirname "$0")/lib.sh"
e2e_workdir
data="$work/ledger"
py() { /usr/bin/python3 -c "$@"; }

"$tracectl" keygen --data "$data" --origin e2e.test/log > /dev/null 2>&1
"$tracectl" gen --profile mixed --events 8000 --seed 11 --out "$work/events.jsonl" 2> /dev/null
"$tracectl" append --data "$data" "$work/events.jsonl" > /dev/null 2>&1

# Before the views exist, trace says how to build them.
set +e
"$tracectl" trace --data "$data" --id x > /dev/null 2> "$work/err"
rc=$?
set -e
check "trace before the views exist is refused (exit 2)" test "$rc" -eq 2
check "... and says to run traceledger project" grep -q "traceledger project" "$work/err"

"$traceledger" project --data "$data" --once 2> "$work/project.log"
check "project --once catches up with the whole ledger (lag 0)" \
  grep -q "caught-up head=8000 lag=0" "$work/project.log"

# A long catch-up logs its lag as it goes (here after every batch of 1,000 but the last).
"$traceledger" project --data "$data" --views "$work/views-progress" --once --batch-entries 1000 \
  --report-interval-ms 0 > "$work/progress.log" 2>&1
check "project logs its lag during a catch-up, after each batch written" \
  grep -q "catching-up head=8000 lag=7000" "$work/progress.log"
check "... and not once it has caught up" test "$(grep -c "catching-up" "$work/progress.log")" -eq 7

# A transformation from the generated stream: its output lot, its input lots.
py '
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    t = e.get("transformationEvent")
    if t and len(t.get("inputQuantityList", [])) >= 2:
        print(t["outputQuantityList"][0]["epcClass"])
        for i in t["inputQuantityList"]:
            print(i["epcClass"])
        break
' "$work/events.jsonl" > "$work/transformation"
product=$(head -1 "$work/transformation")
check "the generated chain has a transformation with several inputs" test -n "$product"

"$tracectl" trace --data "$data" --id "$product" --direction backward > "$work/backward.json" \
  2> /dev/null
missing=$(py '
import json, sys
nodes = {n["id"] for n in json.load(open(sys.argv[1]))["nodes"]}
inputs = [l.strip() for l in open(sys.argv[2]).readlines()[1:]]
print(" ".join(i for i in inputs if i not in nodes))
' "$work/backward.json" "$work/transformation")
check "backward trace of $product lists every input lot it was made from (missing: $missing)" \
  test -z "$missing"
check "... through a transform edge, naming the parties upstream" py '
import json, sys
d = json.load(open(sys.argv[1]))
parties = [n for n in d["nodes"] if n["kind"] == "NODE_KIND_PARTY"]
edges = {(e["kind"]) for e in d["edges"]}
sys.exit(0 if parties and "transform" in edges else 1)
' "$work/backward.json"

"$tracectl" trace --data "$data" --id "$product" --direction forward > "$work/forward.json" \
  2> /dev/null
check "forward trace of $product reaches other parties, each edge naming its entry" py '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["root_id"] == sys.argv[2]
parties = [n for n in d["nodes"] if n["kind"] == "NODE_KIND_PARTY"]
assert parties, "no party reached"
assert all(int(e.get("sequence", 0)) < 8000 for e in d["edges"])
assert not d.get("truncated", False)
' "$work/forward.json" "$product"

"$tracectl" trace --data "$data" --id "$product" --max-nodes 2 > "$work/cut.json" 2> "$work/err"
check "a node limit cuts the answer and says so" py '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if d.get("truncated") and d.get("truncated_reason") and len(d["nodes"]) <= 2 else 1)
' "$work/cut.json"

"$tracectl" trace --data "$data" --id "urn:epc:class:lgtin:0000000.000000.nosuchlot" \
  > "$work/unknown.json" 2> /dev/null
check "an unknown object is answered with the root alone" py '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if len(d["nodes"]) == 1 and not d.get("edges") else 1)
' "$work/unknown.json"

set +e
"$tracectl" trace --data "$data" --id "$product" --direction sideways > /dev/null 2> "$work/err"
rc=$?
set -e
check "a bad --direction is a usage error (exit 2)" test "$rc" -eq 2
check "... that names the flag and the choices" grep -q -- "--direction.*backward, forward or both" \
  "$work/err"

# Limits are checked before anything is opened.
set +e
"$traceledger" project --data "$data" --once --batch-entries 0 > /dev/null 2> "$work/err"
rc=$?
set -e
check "project --batch-entries 0 is a usage error (exit 2)" test "$rc" -eq 2
check "... that names the flag and its bound" grep -q -- "--batch-entries must be at least 1" \
  "$work/err"

# A binary linked with jemalloc asks it for transparent huge pages and to keep freed memory
# (cmake/jemalloc_options.cc): jemalloc's statistics, printed at exit, show the options it
# started with.
if ldd "$traceledger" | grep -q libjemalloc; then
  MALLOC_CONF=stats_print:true "$traceledger" --help > /dev/null 2> "$work/malloc-stats"
  check "traceledger's jemalloc maps its memory with transparent huge pages (opt.thp always)" \
    grep -q 'opt.thp: "always"' "$work/malloc-stats"
  check "... and keeps memory freed for reuse (opt.dirty_decay_ms -1)" \
    grep -q 'opt.dirty_decay_ms: -1' "$work/malloc-stats"
  check "... which a catch-up of more than a batch gives back when it ends" \
    grep -qE "gave [0-9.]+ MiB of memory freed during a catch-up of 8000 entries back to the" \
    "$work/progress.log"
fi

finish "project e2e"
