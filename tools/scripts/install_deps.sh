#!/usr/bin/env bash
# Installs every build and test dependency of traceledger from Debian 12 packages, and the
# extra packages named as arguments (tools/scripts/fuzz.sh adds Clang's).
# Idempotent: packages already installed are left alone and apt is not touched at all then.
# Needs root (or sudo) the first time on a fresh machine.
set -euo pipefail

packages=(
  # toolchain
  g++ cmake ninja-build pkg-config git ca-certificates curl jq
  # libraries (STYLE.md section 2)
  librocksdb-dev libprotobuf-dev protobuf-compiler libssl-dev libspdlog-dev libfmt-dev
  nlohmann-json3-dev librdkafka-dev libjemalloc-dev libcpp-httplib-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev python3 python3-cryptography
  # a real Kafka broker for the integration tests (tests/kafka/kafka_broker.sh) and kcat
  openjdk-17-jre-headless maven kcat
  "$@"
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2> /dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install_deps: all ${#packages[@]} packages are installed"
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
echo "install_deps: installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
  "${missing[@]}"
