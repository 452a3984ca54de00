#!/usr/bin/env bash
# Builds the `fuzz` preset (clang-14, libFuzzer, ASan+UBSan) and runs every fuzz target (or the
# TARGETs named) for SECONDS each (default 60), starting from the committed corpus.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
# Once built, two invocations with different targets may run side by side (one per core). Crashes land in
# build/fuzz/artifacts/<target>/; add each as a regression input under tests/fuzz/corpus/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
bash scripts/install-deps.sh fuzz
cmake --preset fuzz > /dev/null
if [ $# -gt 0 ]; then
  targets="$*"
else
  targets=$(cd tests/fuzz && ls fuzz_*.cpp | sed 's/\.cpp$//')
fi
cmake --build --preset fuzz -j"$(nproc)" --target $targets > /dev/null
crashed=()
for t in $targets; do
  corpus=build/fuzz/corpus/$t
  artifacts=build/fuzz/artifacts/$t/
  mkdir -p "$corpus" "$artifacts"
  [ -d "tests/fuzz/corpus/$t" ] && cp -n tests/fuzz/corpus/$t/* "$corpus"/ 2>/dev/null || true
  extra=()
  [ -f "tests/fuzz/$t.dict" ] && extra+=(-dict="tests/fuzz/$t.dict")
  # The Keras target runs libhdf5, which crashes on some hostile files by itself (recur convert
  # contains that in a child process): keep fuzzing past crashes, then sort the artifacts into
  # ours and libhdf5's (tests/fuzz/README.md).
  [ "$t" = fuzz_convert_keras ] && extra+=(-fork=1 -ignore_crashes=1)
  echo "== $t for ${seconds}s"
  LSAN_OPTIONS="suppressions=$PWD/tests/fuzz/lsan.supp" ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
    ./build/fuzz/tests/$t "$corpus" "${extra[@]}" -max_total_time="$seconds" \
    -rss_limit_mb=4096 -malloc_limit_mb=2048 -timeout=10 -artifact_prefix="$artifacts" -print_final_stats=1 \
    2> "build/fuzz/$t.log" || { grep -E "ERROR|runtime error|SUMMARY" "build/fuzz/$t.log" | head -5; crashed+=("$t"); }
  [ -n "$(ls -A "$artifacts")" ] && [[ ! " ${crashed[*]} " =~ " $t " ]] && crashed+=("$t")
  grep -E "stat::number_of_executed_units|cov:" "build/fuzz/$t.log" | tail -2
done
if [ ${#crashed[@]} -gt 0 ]; then
  echo "fuzz: crashes in ${crashed[*]} (inputs in build/fuzz/artifacts/)"
  exit 1
fi
