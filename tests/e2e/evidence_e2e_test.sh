#!/usr/bin/env bash
# Evidence bundles end to end, as a court receives them: keygen, append, checkpoint, build a
# bundle for a few event ids, verify it offline (exit 0); one changed byte fails (exit 1) and
# says what; a wrong key fails; consistency between two checkpoints verifies and fails for
# swapped or garbled inputs. Every check states what it expects.
# usage: evidence_e2e_test.sh TRACECTL SAMPLE_EVENTS_JSONL
set -euo pipefail
tracectl=$1
events=$2
source "$(dirname "$0")/lib.sh"
e2e_workdir
data="$work/ledger"
run() {  # run OUT ERR COMMAND...: runs COMMAND, sets rc, never exits the script
  local out=$1 err=$2
  shift 2
  set +e
  "$@" > "$out" 2> "$err"
  rc=$?
  set -e
}
event_id() {  # event_id LINE_NUMBER: the eventId of that line of the sample events
  sed -n "${1}p" "$events" | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['eventId'])"
}
total=$(grep -c . "$events")
half=$((total / 2))

"$tracectl" keygen --data "$data" --origin evidence.test/log > "$work/vkey" 2> /dev/null
head -n "$half" "$events" > "$work/first.jsonl"
"$tracectl" append --data "$data" "$work/first.jsonl" > /dev/null 2>&1
"$tracectl" checkpoint --data "$data" > "$work/old.note"
"$tracectl" append --data "$data" "$events" > /dev/null 2>&1
"$tracectl" checkpoint --data "$data" > "$work/new.note"
check "two checkpoints, of the first half and of all events" \
  test "$(sed -n 2p "$work/old.note") $(sed -n 2p "$work/new.note")" = "$half $total"

# A bundle for three events chosen by id.
ids="$(event_id 2),$(event_id 5),$(event_id "$total")"
run "$work/out" "$work/err" "$tracectl" evidence --data "$data" --event-id "$ids" \
  --title "recall R-1" --out "$work/bundle"
check "evidence exits 0" test "$rc" -eq 0
check "evidence says what it built" grep -q "evidence bundle of 3 entries" "$work/err"
check "the bundle starts with its format line" \
  test "$(head -n 1 "$work/bundle")" = "traceledger.org/evidence-bundle@v1"
check "the bundle holds the three indexes" \
  test "$(grep '^index ' "$work/bundle" | tr '\n' ' ')" = "index 1 index 4 index $((total - 1)) "

run "$work/out" "$work/err" "$tracectl" verify-bundle "$work/bundle" --key "$work/vkey"
check "verify-bundle of the server's bundle exits 0" test "$rc" -eq 0
check "one OK line per event" test "$(grep -c '^OK ' "$work/out")" -eq 3
check "an overall VERIFIED verdict" grep -q "^verdict: VERIFIED: all 3 events" "$work/out"
run "$work/out" "$work/err" "$tracectl" verify-bundle "$work/bundle" --key "$(cat "$work/vkey")"
check "the key may be given as text" test "$rc" -eq 0

# Change one byte inside the second entry's bytes: that event fails, the others stay OK.
line=$(grep -n '^entry ' "$work/bundle" | sed -n 2p | cut -d: -f1)
/usr/bin/python3 - "$work/bundle" "$work/bad.bundle" "$line" <<'EOF'
import sys
lines = open(sys.argv[1], 'rb').read().split(b'\n')
n = int(sys.argv[3]) - 1
text = bytearray(lines[n])
text[20] = ord('B') if text[20] != ord('B') else ord('C')
lines[n] = bytes(text)
open(sys.argv[2], 'wb').write(b'\n'.join(lines))
EOF
run "$work/out" "$work/err" "$tracectl" verify-bundle "$work/bad.bundle" --key "$work/vkey"
check "a changed entry byte exits 1" test "$rc" -eq 1
check "that event fails with its inclusion proof named" \
  grep -q "^FAILED  index 4 .*inclusion proof does not lead to the checkpoint root" "$work/out"
check "the other two events are still OK" test "$(grep -c '^OK ' "$work/out")" -eq 2
check "the overall verdict says FAILED" grep -q "^verdict: FAILED: 1 of 3 events failed" "$work/out"

# Change the title: only the sha256 line covers it.
sed 's/^title recall%20R-1$/title recall%20R-2/' "$work/bundle" > "$work/retitled.bundle"
run "$work/out" "$work/err" "$tracectl" verify-bundle "$work/retitled.bundle" --key "$work/vkey"
check "a changed title exits 1 and names the sha256 line" \
  bash -c "test $rc -eq 1 && grep -q '^problem: sha256 line' '$work/out'"

# Another log's key.
"$tracectl" keygen --data "$work/other" --origin evidence.test/log > "$work/other.vkey" 2> /dev/null
run "$work/out" "$work/err" "$tracectl" verify-bundle "$work/bundle" --key "$work/other.vkey"
check "a wrong key exits 1" test "$rc" -eq 1
check "and says the signature is not by that key" grep -q "checkpoint: note has no signature by" "$work/out"

run "$work/out" "$work/err" "$tracectl" verify-bundle "$work/missing" --key "$work/vkey"
check "an unreadable bundle exits 3" test "$rc" -eq 3
run "$work/out" "$work/err" "$tracectl" verify-bundle "$work/bundle"
check "a missing --key exits 2" test "$rc" -eq 2
run "$work/out" "$work/err" "$tracectl" evidence --data "$data" --seq "$total"
check "evidence for a sequence beyond the log exits 2 and says why" \
  bash -c "test $rc -eq 2 && grep -q 'is not committed' '$work/err'"

# Consistency between the two checkpoints.
"$tracectl" prove consistency --data "$data" --from "$half" --to "$total" > "$work/proof.json"
run "$work/out" "$work/err" "$tracectl" verify-consistency --key "$work/vkey" \
  --old "$work/old.note" --new "$work/new.note" --proof "$work/proof.json"
check "verify-consistency exits 0" test "$rc" -eq 0
check "and says CONSISTENT" grep -q "^verdict: CONSISTENT" "$work/out"
run "$work/out" "$work/err" "$tracectl" verify-consistency --key "$work/vkey" \
  --old "$work/new.note" --new "$work/old.note" --proof "$work/proof.json"
check "swapped checkpoints exit 1 and say so" \
  bash -c "test $rc -eq 1 && grep -q 'are they swapped' '$work/out'"
/usr/bin/python3 - "$work/proof.json" "$work/garbled.json" <<'EOF'
import json, sys
proof = json.load(open(sys.argv[1]))
h = proof["path"][0]
proof["path"][0] = ("1" if h[0] != "1" else "2") + h[1:]
json.dump(proof, open(sys.argv[2], "w"))
EOF
run "$work/out" "$work/err" "$tracectl" verify-consistency --key "$work/vkey" \
  --old "$work/old.note" --new "$work/new.note" --proof "$work/garbled.json"
check "a garbled proof hash exits 1 and says the proof fails" \
  bash -c "test $rc -eq 1 && grep -q 'does not show that the new checkpoint extends the old one' '$work/out'"
sed '2s/.*/99/' "$work/new.note" > "$work/forged.note"
run "$work/out" "$work/err" "$tracectl" verify-consistency --key "$work/vkey" \
  --old "$work/old.note" --new "$work/forged.note" --proof "$work/proof.json"
check "a forged checkpoint exits 1 and names it" \
  bash -c "test $rc -eq 1 && grep -q 'new checkpoint: signature by' '$work/out'"
run "$work/out" "$work/err" "$tracectl" verify-consistency --key "$work/vkey" \
  --old "$work/old.note" --new "$work/new.note" --proof "$work/missing.json"
check "an unreadable proof file exits 3" test "$rc" -eq 3

finish "evidence e2e"
