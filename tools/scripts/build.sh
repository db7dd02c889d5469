#!/usr/bin/env bash
# Configures and builds one CMake preset (see CMakePresets.json): build.sh PRESET [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/../.."
preset=${1:?usage: build.sh PRESET [TARGET...]}
shift
cmake --preset "$preset" > /dev/null
if [ "$#" -gt 0 ]; then
  cmake --build --preset "$preset" --target "$@"
else
  cmake --build --preset "$preset"
fi
