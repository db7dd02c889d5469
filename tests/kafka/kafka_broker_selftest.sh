#!/usr/bin/env bash
# shellcheck disable=SC2015  # `ok` and `bad` always succeed, so `A && ok || bad` is safe here.
# Self-test of kafka_broker.sh against a real broker, with kcat (librdkafka) as the client:
#   produce 1000 messages (topic auto-created), consume them back plainly and as a consumer group,
#   restart (same ports, same data) and consume again, SIGKILL + start and consume again,
#   then two brokers started at the same time in two DIRs (distinct ports, isolated data).
# Every wait is bounded. Exits non-zero on any failure; ends with an "N passed, N failed" line.
# Env: TL_KAFKA_SELFTEST_KEEP=1 keeps the temp dir (logs) even on success.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
K="${SCRIPT_DIR}/kafka_broker.sh"
N=1000
CLIENT_TIMEOUT=60   # seconds for any one kcat run

for tool in java python3 kcat timeout; do
  command -v "$tool" >/dev/null || { echo "selftest: missing required tool: $tool" >&2; exit 1; }
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/tl-kafka-selftest.XXXXXX")"
B1="${WORK}/b1" B2="${WORK}/b2" B3="${WORK}/b3"
passed=0 failed=0

cleanup() {
  local rc=$?
  for d in "$B1" "$B2" "$B3"; do
    [[ -d "$d" ]] && "$K" kill "$d" 2>/dev/null || true
  done
  if ((rc != 0 || failed > 0)) || [[ -n "${TL_KAFKA_SELFTEST_KEEP:-}" ]]; then
    echo "selftest: logs kept in ${WORK}" >&2
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

ok()   { passed=$((passed + 1)); echo "ok   - $*"; }
bad()  { failed=$((failed + 1)); echo "FAIL - $*"; }
check() { # check DESCRIPTION EXPECTED ACTUAL
  if [[ "$2" == "$3" ]]; then ok "$1 ($3)"; else bad "$1: expected '$2', got '$3'"; fi
}
now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$(now) - $1:.2f}')"; }
fatal() { bad "$*"; echo "${passed} passed, ${failed} failed"; exit 1; }

# kcat helpers ------------------------------------------------------------------------------------
produce() { # bootstrap topic count prefix
  seq 1 "$3" | sed "s/^/$4-/" |
    timeout "$CLIENT_TIMEOUT" kcat -P -b "$1" -t "$2" -X topic.request.required.acks=all -X enable.idempotence=true
}
consume_all() { # bootstrap topic -> messages on stdout, sorted
  timeout "$CLIENT_TIMEOUT" kcat -C -b "$1" -t "$2" -o beginning -e -q | sort
}
consume_group() { # bootstrap group topic -> messages on stdout, sorted
  timeout "$CLIENT_TIMEOUT" kcat -b "$1" -G "$2" -X auto.offset.reset=earliest \
    -X enable.partition.eof=true -e -q "$3" | sort
}
expected() { seq 1 "$1" | sed "s/^/$2-/" | sort; }
count() { grep -c . || true; }

# 1. one broker: produce, consume, group consume ---------------------------------------------------
t0=$(now)
bootstrap="$("$K" start "$B1")" || fatal "start ${B1}"
ok "start to ready in $(elapsed "$t0")s on ${bootstrap} (incl. fetch if the cache was empty)"
check "bootstrap file matches stdout" "$bootstrap" "$(cat "${B1}/bootstrap")"

produce "$bootstrap" ledger-events "$N" m && ok "produced ${N} messages (topic auto-created)" \
  || fatal "produce ${N} messages"
parts="$(timeout 30 kcat -L -b "$bootstrap" -t ledger-events | grep -c '^    partition ' || true)"
check "auto-created topic has num.partitions partitions" 4 "$parts"

want="$(expected "$N" m)"
got="$(consume_all "$bootstrap" ledger-events)" || true
check "plain consume count" "$N" "$(count <<<"$got")"
[[ "$got" == "$want" ]] && ok "plain consume content matches" || bad "plain consume content differs"

got="$(consume_group "$bootstrap" g1 ledger-events)" || true
check "consumer-group (-G) consume count" "$N" "$(count <<<"$got")"
[[ "$got" == "$want" ]] && ok "group consume content matches" || bad "group consume content differs"

# 2. restart: same ports, same data, committed group offsets kept ----------------------------------
t0=$(now)
bootstrap2="$("$K" restart "$B1")" || fatal "restart ${B1}"
ok "restart (stop + start) in $(elapsed "$t0")s"
check "restart keeps the bootstrap address" "$bootstrap" "$bootstrap2"
check "plain consume count after restart" "$N" "$(consume_all "$bootstrap" ledger-events | count)"
check "group g1 has nothing left after restart (offsets kept)" 0 \
  "$(consume_group "$bootstrap" g1 ledger-events | count)"
produce "$bootstrap" ledger-events 10 after-restart || fatal "produce after restart"
check "group g1 sees only the new messages" 10 "$(consume_group "$bootstrap" g1 ledger-events | count)"

# 3. crash: SIGKILL then start on the same data ------------------------------------------------------
"$K" kill "$B1" || fatal "kill ${B1}"
if "$K" status "$B1" >/dev/null 2>&1; then bad "status says running after kill"; else ok "status: not running after kill"; fi
t0=$(now)
"$K" start "$B1" >/dev/null || fatal "start after kill"
ok "start after SIGKILL in $(elapsed "$t0")s"
check "plain consume count after crash" "$((N + 10))" "$(consume_all "$bootstrap" ledger-events | count)"

t0=$(now)
"$K" stop "$B1" || fatal "stop ${B1}"
ok "stop in $(elapsed "$t0")s"
"$K" stop "$B1" && ok "second stop is a no-op" || bad "second stop failed"
if "$K" status "$B1" >/dev/null 2>&1; then bad "status says running after stop"; else ok "status: not running after stop"; fi

# 4. two brokers started at the same time ------------------------------------------------------------
t0=$(now)
"$K" start "$B2" >"${WORK}/b2.out" 2>"${WORK}/b2.err" & p2=$!
"$K" start "$B3" >"${WORK}/b3.out" 2>"${WORK}/b3.err" & p3=$!
rc2=0 rc3=0
wait "$p2" || rc2=$?
wait "$p3" || rc3=$?
((rc2 == 0)) || { cat "${WORK}/b2.err" >&2; fatal "concurrent start of b2 (rc ${rc2})"; }
((rc3 == 0)) || { cat "${WORK}/b3.err" >&2; fatal "concurrent start of b3 (rc ${rc3})"; }
ok "two brokers started concurrently in $(elapsed "$t0")s"
bs2="$(cat "${WORK}/b2.out")" bs3="$(cat "${WORK}/b3.out")"
read -r _ c2 <"${B2}/ports"; read -r _ c3 <"${B3}/ports"
ports="$(printf '%s\n' "${bs2##*:}" "${bs3##*:}" "$c2" "$c3" "${bootstrap##*:}" | sort -u | count)"
check "four distinct ports for b2/b3 (plus b1's bootstrap port)" 5 "$ports"
produce "$bs2" only-on-b2 50 x || fatal "produce to b2"
produce "$bs3" only-on-b3 70 y || fatal "produce to b3"
check "b2 consume count" 50 "$(consume_all "$bs2" only-on-b2 | count)"
check "b3 consume count" 70 "$(consume_all "$bs3" only-on-b3 | count)"
if timeout 30 kcat -L -b "$bs3" | grep 'only-on-b2' >/dev/null; then bad "b3 sees b2's topic"; else ok "brokers are isolated"; fi
"$K" stop "$B2" & p2=$!
"$K" stop "$B3" & p3=$!
rc2=0 rc3=0
wait "$p2" || rc2=$?
wait "$p3" || rc3=$?
((rc2 == 0 && rc3 == 0)) && ok "both brokers stopped" || bad "stopping b2/b3 (rc ${rc2}/${rc3})"

echo "${passed} passed, ${failed} failed"
((failed == 0))
