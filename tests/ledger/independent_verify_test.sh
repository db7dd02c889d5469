#!/usr/bin/env bash
# Checkpoints, inclusion and consistency proofs made by tracectl are verified by an
# independent implementation (tests/ledger/verify_independently.py, Python `cryptography` for
# Ed25519), and a checkpoint with any byte changed is rejected.
# usage: independent_verify_test.sh TRACECTL SAMPLE_EVENTS_JSONL
set -euo pipefail
tracectl=$1
events=$2
here=$(cd "$(dirname "$0")" && pwd)
python=/usr/bin/python3  # Debian's, with python3-cryptography (tools/scripts/install_deps.sh)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$tracectl" keygen --data "$work/log" --origin independent.test/log > "$work/vkey"
total=$(grep -c . "$events")
half=$((total / 2))
head -n "$half" "$events" > "$work/first.jsonl"
"$tracectl" append --data "$work/log" "$work/first.jsonl" > /dev/null
"$tracectl" checkpoint --data "$work/log" > "$work/old.note"
"$tracectl" append --data "$work/log" "$events" > /dev/null
"$tracectl" checkpoint --data "$work/log" > "$work/new.note"
old_size=$(sed -n 2p "$work/old.note")
size=$(sed -n 2p "$work/new.note")
[ "$old_size" -eq "$half" ] && [ "$size" -eq "$total" ] || {
  echo "unexpected checkpoint sizes $old_size and $size"; exit 1; }

args=()
for seq in 0 1 $((half - 1)) "$half" $((size - 1)); do
  "$tracectl" prove inclusion --data "$work/log" --seq "$seq" --size "$size" > "$work/proof$seq.json"
  "$tracectl" entry --data "$work/log" --seq "$seq" > "$work/entry$seq.json"
  args+=("$work/proof$seq.json" "$work/entry$seq.json")
done
"$tracectl" prove consistency --data "$work/log" --from "$old_size" --to "$size" > "$work/consistency.json"

"$python" "$here/verify_independently.py" "$work/vkey" "$work/new.note" "$work/old.note" \
  "$work/consistency.json" "${args[@]}"

# And the verifier is not a rubber stamp: a proof for the wrong entry must fail.
if "$python" "$here/verify_independently.py" "$work/vkey" "$work/new.note" "$work/old.note" \
     "$work/consistency.json" "$work/proof0.json" "$work/entry1.json" 2> /dev/null; then
  echo "FAILED: a proof paired with another entry verified"; exit 1
fi
echo "independent verification: OK"
