#!/usr/bin/env bash
# Run a real single-node Apache Kafka broker (KRaft, combined broker+controller) from Maven Central
# jars, for traceledger's integration tests and CI. See --help and README.md beside this file.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KAFKA_VERSION="${TL_KAFKA_VERSION:-4.1.2}"
CACHE_DIR="${TL_KAFKA_CACHE:-${HOME:-/root}/.cache/traceledger/kafka-${KAFKA_VERSION}}"
LIB_DIR="${CACHE_DIR}/lib"
MARKER="${LIB_DIR}/.complete"
POM="${SCRIPT_DIR}/pom.xml"
LOG4J_CONFIG="${SCRIPT_DIR}/log4j2.properties"
START_TIMEOUT="${TL_KAFKA_START_TIMEOUT:-60}"   # seconds until the broker must answer metadata
STOP_TIMEOUT="${TL_KAFKA_STOP_TIMEOUT:-30}"     # seconds of SIGTERM grace before SIGKILL
HEAP="${TL_KAFKA_HEAP:--Xmx512m}"

usage() {
  cat <<EOF
Usage: $(basename "$0") COMMAND [DIR]

Runs a single-node Apache Kafka ${KAFKA_VERSION} broker (KRaft, broker+controller in one JVM)
on 127.0.0.1, from jars fetched from Maven Central with mvn.

Commands:
  fetch          Download the broker jars into ${LIB_DIR}
                 (skipped when already complete; a marker file records a finished copy).
  start DIR      Fetch if needed, pick two free ports (first start only, kept in DIR/ports),
                 write DIR/server.properties, format DIR/data (first start only), start the broker
                 in the background and wait up to ${START_TIMEOUT}s until it answers metadata.
                 Prints the bootstrap address (127.0.0.1:PORT) on stdout; also in DIR/bootstrap.
                 If the broker in DIR is already running and answering, just prints the address.
  stop DIR       SIGTERM the broker, wait up to ${STOP_TIMEOUT}s, then SIGKILL. Idempotent.
  restart DIR    stop, then start again on the same ports with the same data (no reformat).
  kill DIR       SIGKILL the broker (crash test). Idempotent.
  status DIR     Exit 0 and print the bootstrap address if the broker process is alive, else exit 1.
  -h, --help     This text.

Files in DIR: server.properties, ports, bootstrap, broker.pid, broker.log (stdout/stderr,
WARN+ only), server.log (full broker log), data/ (KRaft metadata and topic logs).

Environment:
  TL_KAFKA_VERSION        Kafka version (default 4.1.2; use 4.1.x: 4.0.0 breaks librdkafka 2.0.2 groups)
  TL_KAFKA_CACHE          cache dir (default \$HOME/.cache/traceledger/kafka-VERSION); jars in its lib/
  TL_MAVEN_REPO           Maven local repository to use instead of ~/.m2/repository
  TL_KAFKA_START_TIMEOUT  seconds to wait for readiness (default 60)
  TL_KAFKA_STOP_TIMEOUT   seconds to wait after SIGTERM before SIGKILL (default 30)
  TL_KAFKA_HEAP           heap flags (default -Xmx512m)
  TL_KAFKA_JAVA_OPTS      extra JVM flags
Requires: java 17+, mvn (first fetch only), python3, kcat (readiness check; falls back to a TCP
check plus the broker's "started" log line without it), flock.
EOF
}

log() { echo "kafka_broker: $*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------------------------------------- fetch
marker_stamp() {
  # The marker records what was fetched, so a pom or version change refetches.
  echo "kafka=${KAFKA_VERSION} pom=$(sha256sum "$POM" | cut -d' ' -f1)"
}

fetch_complete() {
  [[ -f "$MARKER" ]] && [[ "$(cat "$MARKER")" == "$(marker_stamp)" ]] \
    && compgen -G "${LIB_DIR}/kafka_2.13-${KAFKA_VERSION}.jar" >/dev/null
}

cmd_fetch() {
  fetch_complete && return 0
  command -v mvn >/dev/null || die "mvn not found (needed for the first fetch)"
  mkdir -p "$CACHE_DIR"
  # Several brokers may start at once on a fresh machine: one fetch at a time per cache dir.
  exec 8>"${CACHE_DIR}/.fetch.lock"
  flock -w 900 8 || die "timed out waiting for another fetch (lock ${CACHE_DIR}/.fetch.lock)"
  if fetch_complete; then exec 8>&-; return 0; fi

  local tmp="${CACHE_DIR}/lib.tmp.$$" start=$SECONDS
  rm -rf "$tmp"
  local mvn_args=(-q -B -Dstyle.color=never -f "$POM" -Dkafka.version="$KAFKA_VERSION")
  [[ -n "${TL_MAVEN_REPO:-}" ]] && mvn_args+=(-Dmaven.repo.local="$TL_MAVEN_REPO")
  log "fetching Kafka ${KAFKA_VERSION} jars with mvn into ${LIB_DIR} ..."
  if ! mvn "${mvn_args[@]}" dependency:copy-dependencies -DincludeScope=runtime \
        -DoutputDirectory="$tmp" >"${CACHE_DIR}/fetch.log" 2>&1; then
    sed 's/\x1b\[[0-9;]*m//g' "${CACHE_DIR}/fetch.log" | tail -n 40 >&2
    rm -rf "$tmp"; exec 8>&-
    die "mvn dependency:copy-dependencies failed (Kafka ${KAFKA_VERSION}); log: ${CACHE_DIR}/fetch.log"
  fi
  [[ -f "${tmp}/kafka_2.13-${KAFKA_VERSION}.jar" ]] || { rm -rf "$tmp"; exec 8>&-; die "kafka jar missing after fetch"; }
  marker_stamp >"${tmp}/.complete"
  rm -rf "$LIB_DIR"
  mv "$tmp" "$LIB_DIR"
  exec 8>&-
  log "fetched $(find "$LIB_DIR" -name '*.jar' | wc -l) jars in $((SECONDS - start))s"
}

# ------------------------------------------------------------------------------------------ helpers
need_dir() { [[ -n "${1:-}" ]] || die "missing DIR argument (see --help)"; }

abs_dir() { mkdir -p "$1" && (cd "$1" && pwd); }

# (No `cmd | grep -q` anywhere: with pipefail, grep -q's early exit SIGPIPEs cmd and the match
# reads as a failure.)
# Echo the broker pid from DIR/broker.pid if that process is alive and really is our broker
# (guards against a recycled pid). Zombies count as dead: PID 1 here may never reap them.
live_pid() {
  local dir="$1" pid state
  [[ -f "${dir}/broker.pid" ]] || return 1
  pid="$(cat "${dir}/broker.pid")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/${pid}/cmdline" ]] || return 1
  local cmdline
  cmdline="$(tr '\0' ' ' <"/proc/${pid}/cmdline" 2>/dev/null)" || return 1
  [[ "$cmdline" == *"kafka.Kafka ${dir}/server.properties"* ]] || return 1
  state="$(sed -E 's/^[0-9]+ \(.*\) ([A-Za-z]).*/\1/' "/proc/${pid}/stat" 2>/dev/null || echo X)"
  [[ "$state" != "Z" && "$state" != "X" ]] || return 1
  echo "$pid"
}

# Is the started child process alive (not exited, not a zombie)? $1 pid
child_alive() {
  local state
  kill -0 "$1" 2>/dev/null || return 1
  state="$(sed -E 's/^[0-9]+ \(.*\) ([A-Za-z]).*/\1/' "/proc/$1/stat" 2>/dev/null || echo X)"
  [[ "$state" != "Z" && "$state" != "X" ]]
}

# Wait (bounded) until the pid is gone. $1 pid, $2 dir, $3 seconds. Returns 1 on timeout.
wait_gone() {
  local dir="$1" secs="$2" i
  for ((i = 0; i < secs * 10; i++)); do
    live_pid "$dir" >/dev/null || return 0
    sleep 0.1
  done
  return 1
}

# Two distinct free TCP ports on 127.0.0.1, below the ephemeral range so that outgoing connections
# never take them between a stop and a restart.
pick_ports() {
  python3 - <<'EOF'
import random, socket
try:
    lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except Exception:
    lo = 32768
lo = max(lo, 12000)
picked = []
for _ in range(2000):
    p = random.randrange(10000, lo)
    if p in picked:
        continue
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    picked.append(p)
    if len(picked) == 2:
        break
if len(picked) != 2:
    raise SystemExit("no free ports found")
print(*picked)
EOF
}

new_cluster_id() {
  # Same format as org.apache.kafka.common.Uuid.randomUuid().toString(): url-safe base64 of
  # 16 random bytes without padding, never starting with '-'.
  python3 -c '
import base64, uuid
while True:
    s = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    if not s.startswith("-"):
        print(s); break'
}

write_properties() {
  local dir="$1" port="$2" cport="$3"
  cat >"${dir}/server.properties" <<EOF
# Written by kafka_broker.sh: single-node KRaft test broker, loopback only.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${cport}
listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${cport}
advertised.listeners=PLAINTEXT://127.0.0.1:${port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=${dir}/data
num.partitions=4
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
share.coordinator.state.topic.num.partitions=1
group.initial.rebalance.delay.ms=0
# After a SIGKILL the controller rejects the restarted broker (DUPLICATE_BROKER_REGISTRATION)
# until the old registration's session expires: 9 s by default, 4 s here.
broker.session.timeout.ms=4000
broker.heartbeat.interval.ms=1000
# Small, fast test broker.
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.segment.bytes=67108864
log.retention.hours=-1
log.retention.bytes=-1
EOF
}

java_cmd() {
  local dir="$1"
  # shellcheck disable=SC2206
  local extra=(${TL_KAFKA_JAVA_OPTS:-})
  # shellcheck disable=SC2206
  local heap=($HEAP)
  JAVA_CMD=(java "${heap[@]}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError
    -Djava.awt.headless=true
    -Dlog4j2.configurationFile="$LOG4J_CONFIG" -Dkafka.logs.dir="$dir"
    "${extra[@]}" -cp "${LIB_DIR}/*")
}

# Does the broker answer a metadata request? $1 bootstrap, $2 dir
broker_ready() {
  local bootstrap="$1" dir="$2" out
  # Cheap TCP probe first: kcat would spend its whole metadata timeout on a closed port.
  # shellcheck disable=SC2016  # $1/$2 are expanded by the inner bash.
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "${bootstrap%:*}" "${bootstrap##*:}" 2>/dev/null || return 1
  if command -v kcat >/dev/null; then
    out="$(timeout 10 kcat -L -b "$bootstrap" -m 3 2>/dev/null)" || return 1
    grep -q '1 brokers:' <<<"$out"
  else
    grep -q 'Kafka Server started' "${dir}/server.log" 2>/dev/null
  fi
}

fail_start() {
  local dir="$1" msg="$2" pid
  log "error: $msg"
  if pid="$(live_pid "$dir")"; then kill -9 "$pid" 2>/dev/null || true; wait_gone "$dir" 10 || true; fi
  rm -f "${dir}/broker.pid"
  {
    echo "----- tail of ${dir}/broker.log -----"
    tail -n 40 "${dir}/broker.log" 2>/dev/null || true
    echo "----- ERROR/FATAL lines of ${dir}/server.log -----"
    grep -E ' (ERROR|FATAL) ' "${dir}/server.log" 2>/dev/null | tail -n 20 || true
  } >&2
  return 1
}

# One start attempt. Returns 0 when ready, 2 when the ports were taken (caller may pick new ones),
# 1 on other failures.
start_once() {
  local dir="$1" port cport pid i
  read -r port cport <"${dir}/ports"
  local bootstrap="127.0.0.1:${port}"
  write_properties "$dir" "$port" "$cport"
  java_cmd "$dir"

  if [[ ! -f "${dir}/data/meta.properties" ]]; then
    local cluster_id
    cluster_id="$(new_cluster_id)"
    mkdir -p "${dir}/data"
    if ! "${JAVA_CMD[@]}" kafka.tools.StorageTool format -t "$cluster_id" \
          -c "${dir}/server.properties" >"${dir}/format.log" 2>&1; then
      cat "${dir}/format.log" >&2
      die "formatting ${dir}/data failed"
    fi
  fi

  echo "$bootstrap" >"${dir}/bootstrap"
  local started=$SECONDS
  # Both logs are appended across runs: look for a bind failure only in this run's part.
  local off_b off_s
  off_b=$(( $(stat -c %s "${dir}/broker.log" 2>/dev/null || echo 0) + 1 ))
  off_s=$(( $(stat -c %s "${dir}/server.log" 2>/dev/null || echo 0) + 1 ))
  # stdin from /dev/null; output appended so the logs of earlier runs stay for debugging.
  echo "=== $(date -u +%FT%TZ) starting Kafka ${KAFKA_VERSION} on ${bootstrap} (controller ${cport})" >>"${dir}/broker.log"
  "${JAVA_CMD[@]}" kafka.Kafka "${dir}/server.properties" </dev/null >>"${dir}/broker.log" 2>&1 &
  pid=$!
  echo "$pid" >"${dir}/broker.pid"

  for ((i = 0; i < START_TIMEOUT * 4; i++)); do
    # Our own child, so its pid cannot be recycled: check it is alive, not its cmdline (right
    # after the fork, before exec, the cmdline is still this script's; a loaded machine once
    # saw that, called the broker dead, and killed it).
    if ! child_alive "$pid"; then
      if { tail -c +"$off_b" "${dir}/broker.log"; tail -c +"$off_s" "${dir}/server.log"; } 2>/dev/null \
          | grep -E 'Address already in use|BindException' >/dev/null; then
        fail_start "$dir" "port ${port} or ${cport} is already in use" || true
        return 2
      fi
      fail_start "$dir" "broker exited during startup"
      return 1
    fi
    if broker_ready "$bootstrap" "$dir"; then
      log "broker ready on ${bootstrap} (pid ${pid}) after $((SECONDS - started))s"
      return 0
    fi
    (( SECONDS - started >= START_TIMEOUT )) && break
    sleep 0.25
  done
  fail_start "$dir" "broker did not answer metadata within ${START_TIMEOUT}s"
  return 1
}

# ----------------------------------------------------------------------------------------- commands
cmd_start() {
  need_dir "${1:-}"
  local dir pid rc attempt
  dir="$(abs_dir "$1")"
  command -v java >/dev/null || die "java not found"
  command -v python3 >/dev/null || die "python3 not found"

  if pid="$(live_pid "$dir")"; then
    if broker_ready "$(cat "${dir}/bootstrap")" "$dir"; then
      log "already running (pid ${pid})"
      cat "${dir}/bootstrap"
      return 0
    fi
    die "a broker process (pid ${pid}) runs in ${dir} but does not answer; stop it first"
  fi
  cmd_fetch

  for attempt in 1 2 3; do
    local fresh=0
    if [[ ! -s "${dir}/ports" ]]; then
      pick_ports >"${dir}/ports"
      fresh=1
    fi
    rc=0
    start_once "$dir" || rc=$?
    if ((rc == 0)); then
      cat "${dir}/bootstrap"
      return 0
    fi
    # Only a brand-new DIR may move to other ports; a restart must keep its ports.
    if ((rc == 2 && fresh == 1)); then
      log "retrying with other ports (attempt ${attempt})"
      rm -rf "${dir}/ports" "${dir}/data"
      continue
    fi
    exit 1
  done
  die "could not find free ports after 3 attempts"
}

cmd_stop() {
  need_dir "${1:-}"
  local dir pid
  dir="$(abs_dir "$1")"
  if ! pid="$(live_pid "$dir")"; then
    rm -f "${dir}/broker.pid"
    return 0
  fi
  local started=$SECONDS
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_gone "$dir" "$STOP_TIMEOUT"; then
    log "broker (pid ${pid}) still running ${STOP_TIMEOUT}s after SIGTERM; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone "$dir" 10 || die "broker (pid ${pid}) survived SIGKILL"
  fi
  rm -f "${dir}/broker.pid"
  log "broker stopped (pid ${pid}) in $((SECONDS - started))s"
}

cmd_kill() {
  need_dir "${1:-}"
  local dir pid
  dir="$(abs_dir "$1")"
  if pid="$(live_pid "$dir")"; then
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone "$dir" 10 || die "broker (pid ${pid}) survived SIGKILL"
    log "broker killed (pid ${pid})"
  fi
  rm -f "${dir}/broker.pid"
}

cmd_restart() {
  need_dir "${1:-}"
  cmd_stop "$1"
  cmd_start "$1"
}

cmd_status() {
  need_dir "${1:-}"
  local dir pid
  dir="$(abs_dir "$1")"
  pid="$(live_pid "$dir")" || { echo "not running" >&2; return 1; }
  echo "$(cat "${dir}/bootstrap") pid ${pid}"
}

case "${1:-}" in
  fetch)    cmd_fetch ;;
  start)    cmd_start "${2:-}" ;;
  stop)     cmd_stop "${2:-}" ;;
  restart)  cmd_restart "${2:-}" ;;
  kill)     cmd_kill "${2:-}" ;;
  status)   cmd_status "${2:-}" ;;
  -h|--help|help) usage ;;
  "")       usage >&2; exit 2 ;;
  *)        log "unknown command: $1"; usage >&2; exit 2 ;;
esac
