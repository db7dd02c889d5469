#!/usr/bin/env bash
# The main job on the embedded default (README: "Run the main job"): one process, no Kafka.
# Creates a ledger, loads a generated supply chain (food, drugs, devices, cylinders) and the
# demo story (tools/demo/sample_events.jsonl: a contaminated milk-powder lot, its recall, drug
# serials, gas cylinders, inspections and penalties), starts `traceledger serve`, captures the
# story over HTTP as each enterprise and the regulator, then shows a trace, a recall's progress,
# a fill-permit check and an evidence bundle verified offline — and keeps serving until Ctrl-C.
#   TL_DEMO_DIR=DIR     where to put the demo data (default: a new temporary directory)
#   TL_DEMO_PORT=PORT   the port to listen on (default 8080; 0 picks a free one)
#   TL_DEMO_EVENTS=N    generated events loaded before the story (default 20000)
#   TL_DEMO_NO_WAIT=1   stop the server and exit after the walkthrough (tests use this)
#   TL_BIN_DIR=DIR      use tracectl/traceledger from DIR instead of building them
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
if [ -z "${TL_BIN_DIR:-}" ]; then
  bash tools/scripts/install_deps.sh
  echo "== building tracectl and traceledger (preset release)"
  bash tools/scripts/build.sh release tracectl traceledger > /dev/null
  TL_BIN_DIR=$repo/build/release/tools
fi
tracectl=$TL_BIN_DIR/tracectl
traceledger=$TL_BIN_DIR/traceledger
work=${TL_DEMO_DIR:-$(mktemp -d /tmp/traceledger-demo.XXXXXX)}
dir=$work/data
port=${TL_DEMO_PORT:-8080}
mkdir -p "$work"

json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
step() { printf '\n== %s\n' "$*"; }
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && [ "$server_pid" -gt 0 ] && kill -0 "$server_pid" 2> /dev/null; then
    kill -TERM "$server_pid"
    wait "$server_pid" || true
  fi
}
trap cleanup EXIT

step "Create the ledger and its Ed25519 checkpoint key"
"$tracectl" keygen --data "$dir" --origin demo.traceledger.example/log

step "Load a generated mixed supply chain (${TL_DEMO_EVENTS:-20000} events, file import)"
"$tracectl" gen --profile mixed --events "${TL_DEMO_EVENTS:-20000}" --seed 7 --out "$work/chain.jsonl"
"$tracectl" append --data "$dir" "$work/chain.jsonl" > /dev/null
echo "ledger size: $(( $(wc -l < "$work/chain.jsonl") ))"

step "Issue bearer tokens (stored hashed in $dir/tokens): one per party of the story, a regulator, an auditor"
declare -A token
issue() { "$tracectl" token issue --data "$dir" --role "$1" ${2:+--party "$2"} --name demo | json_field "['token']"; }
regulator=regulator:SAMR-310104
token[$regulator]=$(issue regulator "$regulator")
auditor=$(issue auditor "")
for party in $(python3 -c "
import json
seen = []
for line in open('$repo/tools/demo/sample_events.jsonl'):
    if line.startswith('{'):
        p = json.loads(line)['submitterId']
        if p not in seen: seen.append(p)
print(' '.join(seen))"); do
  if [ -z "${token[$party]:-}" ]; then token[$party]=$(issue enterprise "$party"); fi
done
echo "issued ${#token[@]} party tokens and an auditor token"

step "Start the server: traceledger serve --data $dir --listen 127.0.0.1:$port"
"$traceledger" serve --data "$dir" --listen "127.0.0.1:$port" --port-file "$work/port" \
  2> "$work/server.log" &
server_pid=$!
for _ in $(seq 1 300); do
  [ -s "$work/port" ] && break
  kill -0 "$server_pid" 2> /dev/null || { cat "$work/server.log"; exit 3; }
  sleep 0.1
done
[ -s "$work/port" ] || { echo "the server did not start"; cat "$work/server.log"; exit 3; }
port=$(cat "$work/port")
base=http://127.0.0.1:$port
curl -sf "$base/healthz"; echo

step "Capture the demo story over HTTP, each event as its own submitter (POST /capture)"
last_seq=0
while IFS= read -r line; do
  case "$line" in "{"*) ;; *) continue ;; esac
  party=$(printf '%s' "$line" | json_field "['submitterId']")
  answer=$(curl -sS -X POST "$base/capture" -H "Authorization: Bearer ${token[$party]}" \
    -H 'Content-Type: application/json' --data-binary "{\"events\":[$line]}")
  last_seq=$(printf '%s' "$answer" | json_field "['receipts'][0]['seq']")
done < tools/demo/sample_events.jsonl
echo "captured the story; last receipt at seq $last_seq"
step "Capture an EPCIS 2.0 document (JSON-LD) as enterprise 9521101000009"
token[9521101000009]=$(issue enterprise 9521101000009)
curl -sS -X POST "$base/capture" -H "Authorization: Bearer ${token[9521101000009]}" \
  -H 'Content-Type: application/ld+json' \
  --data-binary @ingest/testdata/epcis/error_declaration_and_corrective_event.jsonld |
  python3 -c "import json,sys; j=json.load(sys.stdin); print('capture', j['captureID'], 'success', j['success'], [r['seq'] for r in j['receipts']])"
after=$((last_seq + 1))
auth=(-H "Authorization: Bearer ${token[$regulator]}")

lot=urn:epc:class:lgtin:9521002.010001.L261110
step "Trace the contaminated milk-powder lot backward to its sources (GET /trace/{id})"
curl -sf "${auth[@]}" "$base/trace/$lot?direction=backward&after=$after" | python3 -c "
import json,sys; t=json.load(sys.stdin)
print('sources:', [n['id'] for n in t['nodes'] if n['kind']=='NODE_KIND_OBJECT' and n['direction']=='backward'])"
step "... and forward to every holder"
curl -sf "${auth[@]}" "$base/trace/$lot?direction=forward&after=$after" | python3 -c "
import json,sys; t=json.load(sys.stdin)
for h in t['holders']: print('  holder', h['party'], h['quantity'], h.get('uom',''), 'sold to consumers' if h['soldToConsumers'] else 'on hand')"

step "The recall's progress (GET /recalls/RC-310104-2026-0007)"
curl -sf "${auth[@]}" "$base/recalls/RC-310104-2026-0007?after=$after" | python3 -c "
import json,sys; r=json.load(sys.stdin)
print('distributed', r['distributed'], 'removed', r['removed'], 'effectiveness %.1f%%' % r['effectivenessPercent'])
print('not answered:', r.get('notAnswered', []))"

step "A filling station's scale asks before filling (GET /cylinders/{id}/fill-permit)"
for cylinder in SH-LPG-2019-004512 urn:epc:id:grai:9521009.00001.1001; do
  curl -sf "${auth[@]}" "$base/cylinders/$cylinder/fill-permit?station=91310112MA1E00009N" | python3 -c "
import json,sys; p=json.load(sys.stdin); print(' ', p['cylinder'], 'ALLOW' if p['allowed'] else 'DENY', '; '.join(p.get('messages', [])))"
done

step "An evidence bundle for the recall, verified offline with only the log's public key"
curl -sf "$base/ledger/key" > "$work/log.vkey"
curl -sf -X POST "$base/evidence" -H "Authorization: Bearer $auditor" \
  -H 'Content-Type: application/json' --data '{"recallId":"RC-310104-2026-0007"}' > "$work/recall.bundle"
echo "\$ tracectl verify-bundle $work/recall.bundle --key $work/log.vkey"
"$tracectl" verify-bundle "$work/recall.bundle" --key "$work/log.vkey"

cat << EOF

== The server is running at $base with the demo data in $dir. Things to try:
  export REG=${token[$regulator]}
  curl -H "Authorization: Bearer \$REG" '$base/trace/$lot?direction=both'
  curl -H "Authorization: Bearer \$REG" '$base/events?MATCH_anyEPC=urn:epc:id:sscc:9521002.0000000001&perPage=10'
  curl -H "Authorization: Bearer \$REG" '$base/alerts?kind=serial'
  curl -H "Authorization: Bearer \$REG" '$base/enterprises/91310104MA1F000047/timeline'
  curl $base/ledger/checkpoint
  curl -X POST -H "Authorization: Bearer $auditor" -d '{"eventIds":["urn:uuid:04624772-1af2-5248-8e14-1a2ec7795cc9"]}' $base/evidence > b.txt
  $tracectl verify-bundle b.txt --key $work/log.vkey
  $tracectl token issue --data $dir --role enterprise --party YOUR-PARTY-ID
Routes and roles: docs/formats/http-api.md. Ctrl-C stops the server (a final checkpoint is signed).
EOF
if [ "${TL_DEMO_NO_WAIT:-}" = 1 ]; then
  exit 0
fi
wait "$server_pid"
