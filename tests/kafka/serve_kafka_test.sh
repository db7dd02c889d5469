#!/usr/bin/env bash
# `traceledger serve --kafka` against the real broker of the ctest fixture "kafka": events
# produced to a topic and an EPCIS document POSTed over HTTP reach one ledger side by side;
# SIGTERM stops the server cleanly (exit 0, bounded); the ledger audits clean; and an evidence
# bundle of a Kafka (protobuf) entry and an HTTP (EPCIS JSON) entry verifies independently.
# Every wait is a bounded poll. Needs curl.
# usage: serve_kafka_test.sh TRACECTL TRACELEDGER SAMPLE_EVENTS_JSONL EPCIS_DOCUMENT
set -euo pipefail
tracectl=$1
traceledger=$2
events=$3
epcis=$4
here=$(cd "$(dirname "$0")" && pwd)
python=/usr/bin/python3  # Debian's, with python3-cryptography (tools/scripts/install_deps.sh)
bootstrap=$(cat "${TL_KAFKA_BROKER_DIR:?run by ctest with the kafka fixture}/bootstrap")
work=$(mktemp -d)
data="$work/ledger"
server_pid=0
cleanup() {
  # Only our own server, and only a real pid.
  if [ "$server_pid" -gt 0 ] && kill -0 "$server_pid" 2> /dev/null; then
    kill -KILL "$server_pid" 2> /dev/null || true
    wait "$server_pid" 2> /dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
failures=0
check() {  # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then echo "ok: $what"; else echo "FAILED: $what"; failures=$((failures + 1)); fi
}
fatal() {  # fatal MESSAGE: the rest of the test cannot run
  echo "FAILED: $*"
  echo "--- server log (tail)"
  tail -n 40 "$work/server.log" 2> /dev/null || true
  exit 1
}
healthz() {  # healthz FIELD: the field of GET /healthz, or nothing if the server does not answer
  curl -sf --max-time 5 "http://127.0.0.1:$port/healthz" |
    "$python" -c "import json,sys; print(json.load(sys.stdin)['$1'])" 2> /dev/null || true
}
server_alive() {  # not exited and not a zombie (PID 1 here may never reap orphans)
  [ "$server_pid" -gt 0 ] && kill -0 "$server_pid" 2> /dev/null &&
    ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$server_pid/stat" 2> /dev/null
}
unique="serve-kafka-$$-$(date +%s%N)"
topic="$unique-events"
total=$(grep -c . "$events")

"$tracectl" keygen --data "$data" --origin serve-kafka.test/log > "$work/vkey" 2> /dev/null
"$tracectl" token issue --data "$data" --role regulator --party regulator:T \
  > "$work/regulator.json" 2> /dev/null
"$tracectl" token issue --data "$data" --role enterprise --party 9521101000009 \
  > "$work/enterprise.json" 2> /dev/null
token_of() { "$python" -c "import json,sys; print(json.load(open(sys.argv[1]))['token'])" "$1"; }
regulator_token=$(token_of "$work/regulator.json")
enterprise_token=$(token_of "$work/enterprise.json")

"$traceledger" serve --data "$data" --listen 127.0.0.1:0 --port-file "$work/port" \
  --kafka "$bootstrap" --topic "$topic" --group "$unique-group" \
  --rejected-topic "$unique-rejected" --ledger-topic "$unique-ledger" \
  > "$work/server.log" 2>&1 &
server_pid=$!

# Up within 60 s: the port file is written once listening, then /healthz answers.
port=""
for _ in $(seq 600); do
  server_alive || fatal "traceledger serve exited before it answered"
  if [ -z "$port" ] && [ -s "$work/port" ]; then port=$(cat "$work/port"); fi
  if [ -n "$port" ] && [ -n "$(healthz status)" ]; then break; fi
  sleep 0.1
done
[ -n "$port" ] && [ "$(healthz status)" = ok ] || fatal "no /healthz answer within 60 s"
check "serve answers /healthz with an empty ledger" test "$(healthz ledger_size)" = 0
check "serve says it serves HTTP + Kafka" grep -q "(HTTP + Kafka)" "$work/server.log"

"$tracectl" produce --brokers "$bootstrap" --topic "$topic" "$events" 2> "$work/produce.err" ||
  fatal "tracectl produce failed: $(cat "$work/produce.err")"
check "produce sent every sample event" grep -q "produced $total events" "$work/produce.err"

# Every produced event is in the ledger within 120 s (first group join and topic creation).
size=""
for _ in $(seq 1200); do
  server_alive || fatal "traceledger serve exited while ingesting"
  size=$(healthz ledger_size)
  [ "$size" = "$total" ] && break
  sleep 0.1
done
check "the ledger holds the $total events from Kafka (got ${size:-no answer})" \
  test "$size" = "$total"

# Beside Kafka, an EPCIS document over HTTP from the enterprise (two AssociationEvents).
epcis_events=$("$python" -c "import json,sys; print(len(json.load(open(sys.argv[1]))['epcisBody']['eventList']))" "$epcis")
code=$(curl -s --max-time 30 -o "$work/capture.json" -w '%{http_code}' \
  -H "Authorization: Bearer $enterprise_token" -H "Content-Type: application/ld+json" \
  --data-binary "@$epcis" "http://127.0.0.1:$port/capture")
check "POST /capture of the EPCIS document is accepted (HTTP $code)" \
  bash -c "[ '$code' = 200 ] || [ '$code' = 201 ] || [ '$code' = 202 ]"
want=$((total + epcis_events))
for _ in $(seq 300); do
  size=$(healthz ledger_size)
  [ "$size" = "$want" ] && break
  sleep 0.1
done
check "the ledger holds both paths' events: $want (got ${size:-no answer})" test "$size" = "$want"
check "the regulator's token reads a ledger entry" \
  curl -sf --max-time 10 -o /dev/null -H "Authorization: Bearer $regulator_token" \
  "http://127.0.0.1:$port/ledger/entries/0"
code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/ledger/entries/0")
check "without a token the entry is refused (HTTP $code)" test "$code" = 401

# SIGTERM: a clean stop (exit 0) within 30 s.
[ "$server_pid" -gt 0 ] || fatal "no server pid"
kill -TERM "$server_pid"
stopped=no
for _ in $(seq 300); do
  if ! server_alive; then stopped=yes; break; fi
  sleep 0.1
done
check "serve stops within 30 s of SIGTERM" test "$stopped" = yes
if [ "$stopped" = yes ]; then
  set +e
  wait "$server_pid"
  rc=$?
  set -e
  server_pid=0
  check "serve exits 0 after SIGTERM (got $rc)" test "$rc" -eq 0
  check "serve says it stopped cleanly" grep -q "stopped cleanly" "$work/server.log"
fi

run_audit() { "$tracectl" audit --data "$data" > "$work/audit.out" 2> "$work/audit.err"; }
check "tracectl audit of the served ledger is clean" run_audit

# One entry from each path, verified by the independent bundle verifier (tests/evidence/).
kafka_id=$(head -n 1 "$events" | "$python" -c "import json,sys; print(json.load(sys.stdin)['eventId'])")
epcis_id=$("$python" -c "import json,sys; print(json.load(open(sys.argv[1]))['epcisBody']['eventList'][0]['eventID'])" "$epcis")
"$tracectl" evidence --data "$data" --event-id "$kafka_id,$epcis_id" --out "$work/bundle" \
  2> /dev/null || fatal "tracectl evidence failed"
check "an evidence bundle of a Kafka entry and an HTTP EPCIS entry verifies independently" \
  "$python" "$here/../evidence/verify_bundle_independently.py" "$work/bundle" "$work/vkey"

if [ "$failures" -gt 0 ]; then
  echo "$failures check(s) failed"
  echo "--- server log (tail)"
  tail -n 40 "$work/server.log" || true
  exit 1
fi
echo "serve --kafka: all checks passed"
