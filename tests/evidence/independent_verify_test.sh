#!/usr/bin/env bash
# Evidence bundles made by tracectl are verified by an independent implementation written from
# docs/formats/evidence-bundle.md alone (tests/evidence/verify_bundle_independently.py, Python
# `cryptography` for Ed25519). The document's worked example verifies and each rejection it
# lists is rejected; a bundle from `tracectl evidence` verifies; one byte changed in an entry,
# a proof hash or the checkpoint is rejected by both the Python verifier and `tracectl
# verify-bundle` (exit 1), and every single-byte change of a bundle is rejected by the Python one.
# usage: independent_verify_test.sh TRACECTL SAMPLE_EVENTS_JSONL EVIDENCE_BUNDLE_MD
set -euo pipefail
tracectl=$1
events=$2
spec=$3
here=$(cd "$(dirname "$0")" && pwd)
python=/usr/bin/python3  # Debian's, with python3-cryptography (tools/scripts/install_deps.sh)
verifier="$here/verify_bundle_independently.py"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
data="$work/ledger"
failures=0
check() {  # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then echo "ok: $what"; else echo "FAILED: $what"; failures=$((failures + 1)); fi
}
run() {  # run OUT COMMAND...: runs COMMAND with stdout+stderr to OUT, sets rc, never exits
  local out=$1
  shift
  set +e
  "$@" > "$out" 2>&1
  rc=$?
  set -e
}
# rejected_by_both DESCRIPTION BUNDLE EXPECTED_PYTHON_LINE_REGEX: both verifiers exit 1.
rejected_by_both() {
  local what=$1 bundle=$2 pattern=$3
  run "$work/py.out" "$python" "$verifier" "$bundle" "$work/vkey"
  check "$what: the Python verifier exits 1" test "$rc" -eq 1
  check "$what: the Python verifier says why ($pattern)" grep -q -- "$pattern" "$work/py.out"
  check "$what: the Python verifier's verdict is FAILED" grep -q "^verdict: FAILED" "$work/py.out"
  run "$work/cc.out" "$tracectl" verify-bundle "$bundle" --key "$work/vkey"
  check "$what: tracectl verify-bundle exits 1" test "$rc" -eq 1
  check "$what: tracectl's verdict is FAILED" grep -q "^verdict: FAILED" "$work/cc.out"
}
# change_char IN OUT LINE_NUMBER COLUMN [CHAR]: writes IN with the character at COLUMN (0-based;
# negative counts from the end) of line LINE_NUMBER changed to CHAR (default B, or C if B).
change_char() {
  "$python" - "$@" <<'EOF'
import sys
src, dst, n, column = sys.argv[1], sys.argv[2], int(sys.argv[3]) - 1, int(sys.argv[4])
lines = open(src, "rb").read().split(b"\n")
text = bytearray(lines[n])
new = ord(sys.argv[5]) if len(sys.argv) > 5 else ord("B") if text[column] != ord("B") else ord("C")
assert text[column] != new, "the change must change the byte"
text[column] = new
lines[n] = bytes(text)
open(dst, "wb").write(b"\n".join(lines))
EOF
}
first_line() {  # first_line REGEX FILE: the number of the first line matching REGEX
  grep -n -m 1 -E -- "$1" "$2" | cut -d: -f1
}
# every_byte_rejected BUNDLE VKEY: XOR 0x01 of each byte in turn, verified in process.
every_byte_rejected() {
  "$python" - "$here" "$1" "$2" <<'EOF'
import contextlib, io, sys
sys.path.insert(0, sys.argv[1])
import verify_bundle_independently as v
data = open(sys.argv[2], "rb").read()
vkey = open(sys.argv[3], "rb").read().rstrip(b"\n")
with contextlib.redirect_stdout(io.StringIO()):
    assert v.verify(data, vkey), "the unchanged bundle must verify"
    accepted = []
    for i in range(len(data)):
        changed = bytearray(data)
        changed[i] ^= 0x01
        if v.verify(bytes(changed), vkey):
            accepted.append(i)
if accepted:
    sys.exit(f"single-byte changes at offsets {accepted[:10]} still verify")
print(f"all {len(data)} single-byte changes are rejected")
EOF
}

# 1. The worked example of the document, byte for byte, with its published key.
"$python" - "$spec" "$work/example.bundle" "$work/example.vkey" <<'EOF'
import re, sys
spec = open(sys.argv[1], encoding="utf-8").read()
body = re.search(r"<!-- worked-example-begin -->\n```\n(.*?)```\n<!-- worked-example-end -->",
                 spec, re.S).group(1)
open(sys.argv[2], "wb").write(body.encode())
key = re.search(r"verified with the key\n`([^`]+)`", spec).group(1)
open(sys.argv[3], "w").write(key + "\n")
EOF
run "$work/out" "$python" "$verifier" "$work/example.bundle" "$work/example.vkey"
check "the document's worked example verifies independently" test "$rc" -eq 0
check "both of its entries are OK" test "$(grep -c '^OK ' "$work/out")" -eq 2
run "$work/out" "$tracectl" verify-bundle "$work/example.bundle" --key "$work/example.vkey"
check "tracectl verify-bundle agrees on the worked example" test "$rc" -eq 0
check "every single-byte change of the worked example is rejected" \
  every_byte_rejected "$work/example.bundle" "$work/example.vkey"

# The rejections the document lists, each on the worked example.
example_rejects() {  # example_rejects DESCRIPTION PYTHON_EXPRESSION_OVER_b (the bundle bytes)
  "$python" -c "import sys; b = open(sys.argv[1], 'rb').read(); open(sys.argv[2], 'wb').write($2)" \
    "$work/example.bundle" "$work/changed.bundle"
  run "$work/out" "$python" "$verifier" "$work/changed.bundle" "$work/example.vkey"
  check "worked example: $1 is rejected" test "$rc" -eq 1
}
example_rejects "a changed title without a recomputed sha256 line" \
  "b.replace(b'title recall%20R-1', b'title recall%20R-2')"
example_rejects "index 01" "b.replace(b'index 1\n', b'index 01\n')"
example_rejects "proof 3 followed by two hashes" \
  "b.replace(b'KUqJ2BRy01WJwHK6g7BDTZ97sO8B8TLOz9Lz3JLd85I=\n', b'')"
example_rejects "a proof hash with its case swapped" \
  "b.replace(b'KUqJ2BRy01WJwHK6g7BDTZ97sO8B8TLOz9Lz3JLd85I=', b'KUqJ2BRy01WJwHK6g7BDTZ97sO8B8TLOz9Lz3JLd85I='.swapcase())"
example_rejects "a title with a literal space" \
  "b.replace(b'title recall%20R-1', b'title recall R-1')"
example_rejects "a second signature line" \
  "b.replace(b'\n\nsha256 ', b'\n' + [l for l in b.split(b'\n') if l.startswith(b'\xe2\x80\x94 ')][0] + b'\n\nsha256 ')"
example_rejects "a blank line at the end" "b + b'\n'"
example_rejects "an escape of a byte that stands for itself (%41)" \
  "b.replace(b'title recall%20R-1', b'title recall%20%41-1')"

# 2. A bundle from tracectl evidence for several events, with a non-ASCII title.
"$tracectl" keygen --data "$data" --origin independent-evidence.test/log > "$work/vkey" 2> /dev/null
"$tracectl" append --data "$data" "$events" > /dev/null 2>&1
total=$(grep -c . "$events")
picked=(1 4 21 26 35 "$total")  # lines of the sample events: EPCIS and regulator events
ids=$(for line in "${picked[@]}"; do sed -n "${line}p" "$events"; done |
  "$python" -c "import json,sys; print(','.join(json.loads(l)['eventId'] for l in sys.stdin))")
"$tracectl" evidence --data "$data" --event-id "$ids" --title "recall R-1 (召回)" \
  --out "$work/bundle" 2> /dev/null
run "$work/out" "$python" "$verifier" "$work/bundle" "$work/vkey"
cat "$work/out"
check "the Python verifier accepts tracectl's bundle (exit 0)" test "$rc" -eq 0
check "one OK line per event" test "$(grep -c '^OK ' "$work/out")" -eq "${#picked[@]}"
check "the non-ASCII title decodes" grep -q "^title: 'recall R-1 (召回)'" "$work/out"
run "$work/cc.out" "$tracectl" verify-bundle "$work/bundle" --key "$work/vkey"
check "tracectl verify-bundle accepts it too" test "$rc" -eq 0
check "every single-byte change of tracectl's bundle is rejected" \
  every_byte_rejected "$work/bundle" "$work/vkey"

# 3. One changed byte: in an entry line, in a proof hash, in the checkpoint (root, signature).
change_char "$work/bundle" "$work/entry.bundle" "$(first_line '^entry ' "$work/bundle")" 40
rejected_by_both "a changed entry byte" "$work/entry.bundle" "^FAILED  index 0 "
# The first proof hash is that of index 0 (a tree of 41 leaves: every proof has hashes).
change_char "$work/bundle" "$work/proof.bundle" \
  "$(first_line '^[A-Za-z0-9+/]{43}=$' "$work/bundle")" 10
rejected_by_both "a changed proof hash" "$work/proof.bundle" \
  "^FAILED  index 0 .*inclusion proof does not lead to the checkpoint root"
origin_line=$(first_line '^independent-evidence\.test/log$' "$work/bundle")
change_char "$work/bundle" "$work/root.bundle" $((origin_line + 2)) 5
rejected_by_both "a changed checkpoint root" "$work/root.bundle" \
  "^problem: key/checkpoint: the checkpoint signature does not verify"
change_char "$work/bundle" "$work/size.bundle" $((origin_line + 1)) 0 5  # 41 -> 51
rejected_by_both "a changed checkpoint size" "$work/size.bundle" \
  "^problem: key/checkpoint: the checkpoint signature does not verify"
change_char "$work/bundle" "$work/sig.bundle" "$(first_line $'^\xe2\x80\x94 ' "$work/bundle")" -10
rejected_by_both "a changed checkpoint signature" "$work/sig.bundle" \
  "^problem: key/checkpoint: the checkpoint signature does not verify"

# Another log's key (same origin) proves nothing.
"$tracectl" keygen --data "$work/other" --origin independent-evidence.test/log \
  > "$work/other.vkey" 2> /dev/null
run "$work/out" "$python" "$verifier" "$work/bundle" "$work/other.vkey"
check "another log's key is rejected" test "$rc" -eq 1

if [ "$failures" -gt 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "evidence independent verification: all checks passed"
