#!/usr/bin/env bash
# README command 2: installs what is missing, builds, and runs the whole test suite with ctest —
# under ASan+UBSan first, then the release build (whose ctest summary closes the output).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

bash scripts/install-deps.sh

for preset in asan release; do
  echo "== $preset: configure and build"
  cmake --preset "$preset" > "build-$preset.log" 2>&1 || { cat "build-$preset.log"; exit 1; }
  cmake --build --preset "$preset" -j"$jobs" >> "build-$preset.log" 2>&1 || { tail -50 "build-$preset.log"; exit 1; }
  rm -f "build-$preset.log"
done

echo "== asan: ctest"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --preset asan -j"$jobs" --label-exclude no-asan
echo "== release: ctest"
ctest --preset release -j"$jobs"
