#!/usr/bin/env bash
# tracectl end to end, as an operator uses it: create a ledger, append events, re-append them
# (idempotent), refuse a file with a bad event (nothing appended), flag a conflicting event,
# sign a checkpoint, prove inclusion/consistency, audit. Every check states what it expects.
# usage: tracectl_e2e_test.sh TRACECTL SAMPLE_EVENTS_JSONL
set -euo pipefail
tracectl=$1
events=$2
source "$(dirname "$0")/lib.sh"
e2e_workdir
data="$work/ledger"
json() {  # json FILE PYTHON_EXPR (over `d`, the parsed JSON of the file's first line)
  /usr/bin/python3 -c "import json,sys; d=json.loads(open(sys.argv[1]).readline()); print($2)" "$1"
}
total=$(grep -c . "$events")

"$tracectl" keygen --data "$data" --origin e2e.test/log > "$work/vkey" 2> /dev/null
check "keygen prints a verifier key for the origin" grep -q "^e2e.test/log+[0-9a-f]\{8\}+" "$work/vkey"
set +e
"$tracectl" keygen --data "$data" --origin e2e.test/log > /dev/null 2> "$work/err"
rc=$?
set -e
check "keygen refuses an existing ledger (exit 2)" test "$rc" -eq 2
check "keygen says why" grep -q "already" "$work/err"

"$tracectl" append --data "$data" "$events" > "$work/receipts" 2> "$work/err"
check "append prints one receipt per event" test "$(wc -l < "$work/receipts")" -eq "$total"
check "every receipt says appended" test "$(grep -c '"status":"appended"' "$work/receipts")" -eq "$total"
check "receipts carry seq 0..N-1" test "$(json "$work/receipts" 'd["seq"]')" -eq 0

"$tracectl" append --data "$data" "$events" > "$work/again" 2> /dev/null
check "re-appending gives duplicates" test "$(grep -c '"status":"duplicate"' "$work/again")" -eq "$total"
check "re-appending gives the same receipts" diff <(sed 's/"status":"[a-z]*"//' "$work/receipts") \
  <(sed 's/"status":"[a-z]*"//' "$work/again")

# A file with one bad event among good ones: refused whole, with the line, rule and field.
{ head -n 2 "$events" | sed 's/"eventId":"urn:uuid:/"eventId":"urn:uuid:new-/'
  echo '{"eventId":"bad-1","submitterId":"9521234000006","objectEvent":{"common":{"eventTime":"2026-11-01T00:00:00Z","eventTimeZoneOffset":"+08:00"},"action":"ACTION_ADD","epcList":["https://id.gs1.org/01/09521234543214/21/X1"]}}'
} > "$work/bad.jsonl"
set +e
"$tracectl" append --data "$data" "$work/bad.jsonl" > "$work/out" 2> "$work/err"
rc=$?
set -e
check "a file with an invalid event exits 1" test "$rc" -eq 1
check "the error names file:line and the rule" grep -q "bad.jsonl:3: bad_identifier" "$work/err"
check "nothing was appended" test ! -s "$work/out"
"$tracectl" checkpoint --data "$data" > "$work/note"
check "the checkpoint covers only the first file" test "$(sed -n 2p "$work/note")" -eq "$total"

# The same event id with other content is a conflict, not a new entry.
head -n 1 "$events" | sed 's/"eventTimeZoneOffset":"+08:00"/"eventTimeZoneOffset":"+09:00"/' > "$work/conflict.jsonl"
set +e
"$tracectl" append --data "$data" "$work/conflict.jsonl" > "$work/out" 2> /dev/null
rc=$?
set -e
check "a conflicting event exits 1" test "$rc" -eq 1
check "and is reported as a conflict with the original's seq" \
  test "$(json "$work/out" 'd["status"] + " " + str(d["seq"])')" = "conflict 0"

"$tracectl" checkpoint --data "$data" > "$work/note"
check "checkpoint: origin line" test "$(sed -n 1p "$work/note")" = "e2e.test/log"
check "checkpoint: size line" test "$(sed -n 2p "$work/note")" -eq "$total"
check "checkpoint: signature line" grep -q "^— e2e.test/log " "$work/note"

"$tracectl" prove inclusion --data "$data" --seq 3 > "$work/proof"
check "inclusion proof names index, size and root" \
  test "$(json "$work/proof" 'd["leaf_index"], d["tree_size"], len(d["root_hash"])')" = "3 $total 64"
check "inclusion proof root equals the checkpoint's" test \
  "$(json "$work/proof" 'd["root_hash"]')" = \
  "$(sed -n 3p "$work/note" | base64 -d | od -An -tx1 | tr -d ' \n')"
set +e
"$tracectl" prove inclusion --data "$data" --seq "$total" > /dev/null 2> "$work/err"
rc=$?
set -e
check "a proof for a missing entry exits 2 and says why" test "$rc" -eq 2
check "the message names the index and size" grep -q "is not below tree size $total" "$work/err"
"$tracectl" prove consistency --data "$data" --from 5 > "$work/consistency"
check "consistency proof from 5 to the head" \
  test "$(json "$work/consistency" 'd["from"], d["to"]')" = "5 $total"

"$tracectl" audit --data "$data" > "$work/audit" 2> /dev/null
check "audit says the log is clean and how many entries it checked" \
  grep -q "audit: clean: $total entries" "$work/audit"

set +e
"$tracectl" append --data "$data" --bogus x "$events" > /dev/null 2> "$work/err"
rc=$?
set -e
check "an unknown flag is a usage error naming the flag" test "$rc" -eq 2
check "usage error text" grep -q "unknown flag --bogus" "$work/err"
check "help lists the commands" bash -c "'$tracectl' help | grep -q 'audit'"

finish "tracectl e2e"
