#!/usr/bin/env bash
# traceledger serve over TLS and mutual TLS, as an operator configures it: a private CA signs
# the server's certificate and the clients' certificates (subject OU = role, CN = party).
# Checks that HTTPS answers with the server certificate, that plain HTTP is not served, that a
# client certificate authenticates its principal (regulator: /metrics), that a bearer token
# still works over mTLS, and that a client without a certificate is refused at the handshake.
# usage: serve_tls_e2e_test.sh BIN_DIR
set -euo pipefail
bin=$1
source "$(dirname "$0")/lib.sh"
e2e_workdir
data=$work/data
server_pid=""
stop_server() {
  if [ -n "$server_pid" ] && [ "$server_pid" -gt 0 ] && kill -0 "$server_pid" 2> /dev/null; then
    kill -TERM "$server_pid"
    wait "$server_pid" || true
  fi
  server_pid=""
}
trap 'stop_server; rm -rf "$work"' EXIT

# A CA, a server certificate for 127.0.0.1 and a regulator's client certificate.
cd "$work"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj "/CN=traceledger test CA" -keyout ca.key -out ca.crt 2> /dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
  -keyout server.key -out server.csr 2> /dev/null
printf 'subjectAltName=IP:127.0.0.1\n' > server.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
  -extfile server.ext -out server.crt 2> /dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -subj "/OU=regulator/CN=regulator:SAMR-310104" -keyout client.key -out client.csr 2> /dev/null
openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
  -out client.crt 2> /dev/null
cd - > /dev/null

"$bin/tracectl" keygen --data "$data" --origin tls.test/log > /dev/null 2>&1
token=$("$bin/tracectl" token issue --data "$data" --role auditor --name tls-test |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')

start_server() {  # start_server EXTRA_FLAGS...
  rm -f "$work/port"
  "$bin/traceledger" serve --data "$data" --listen 127.0.0.1:0 --port-file "$work/port" \
    --tls-cert "$work/server.crt" --tls-key "$work/server.key" "$@" 2> "$work/server.log" &
  server_pid=$!
  for _ in $(seq 1 300); do
    [ -s "$work/port" ] && break
    kill -0 "$server_pid" 2> /dev/null || break
    sleep 0.1
  done
  port=$(cat "$work/port" 2> /dev/null || echo 0)
}

# TLS only.
start_server
check "the TLS server started" test "$port" -gt 0
check "HTTPS answers /healthz with the CA-signed certificate" \
  curl -sf --cacert "$work/ca.crt" "https://127.0.0.1:$port/healthz" -o /dev/null
check "the checkpoint key is public over HTTPS" \
  curl -sf --cacert "$work/ca.crt" "https://127.0.0.1:$port/ledger/key" -o /dev/null
check "plain HTTP is not served on the TLS port" \
  bash -c "! curl -sf --max-time 5 http://127.0.0.1:$port/healthz -o /dev/null"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$work/ca.crt" "https://127.0.0.1:$port/metrics")
check "without credentials /metrics is 401" test "$code" = 401
stop_server

# Mutual TLS: the client certificate is the principal.
start_server --tls-client-ca "$work/ca.crt"
check "the mTLS server started" test "$port" -gt 0
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$work/ca.crt" --cert "$work/client.crt" \
  --key "$work/client.key" "https://127.0.0.1:$port/metrics")
check "a regulator's client certificate reads /metrics (200)" test "$code" = 200
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$work/ca.crt" --cert "$work/client.crt" \
  --key "$work/client.key" -H "Authorization: Bearer $token" "https://127.0.0.1:$port/metrics")
check "a bearer token wins over the certificate (auditor: /metrics is 403)" test "$code" = 403
check "a client without a certificate is refused at the handshake" \
  bash -c "! curl -sf --max-time 5 --cacert '$work/ca.crt' https://127.0.0.1:$port/healthz -o /dev/null"
stop_server
check "the server stopped cleanly" grep -q "stopped cleanly" "$work/server.log"

finish "serve tls e2e"
