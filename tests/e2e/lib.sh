# Shared helpers of the end-to-end shell tests (source it; bash only).
#   check DESCRIPTION COMMAND...   runs COMMAND; prints "ok:" or "FAILED:" and counts failures
#   finish NAME                    exits 1 if any check failed, else prints that all passed
# Each test sets `work` (a temporary directory, removed on exit) with e2e_workdir.
failures=0
check() {
  local what=$1
  shift
  if "$@"; then echo "ok: $what"; else echo "FAILED: $what"; failures=$((failures + 1)); fi
}
finish() {
  if [ "$failures" -gt 0 ]; then
    echo "$1: $failures check(s) failed"
    exit 1
  fi
  echo "$1: all checks passed"
}
e2e_workdir() {
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
}
