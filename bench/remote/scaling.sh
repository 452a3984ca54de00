#!/usr/bin/env bash
# Thread scaling on a machine that has none of recur's packages and no package registry.
#
#   bench/remote/scaling.sh pack [--build DIR]   # here: copies recur_bench, every shared library
#                                                # it loads (ldd) and the loader into
#                                                # build/remote/scaling/ (ignored by git, < 64 MiB)
#   build/remote/scaling/run.sh OUT [--threads 1,2,4,8,16] [--min-time S] [--quick]
#                                                # there: the scaling problems, JSON into OUT/
#   bench/report.sh --from-json OUT/scaling.json --out FILE   # here again: the tables
#
# The far side needs bash and coreutils only: recur_bench runs as
# `lib/ld-linux-x86-64.so.2 --library-path lib bin/recur_bench`, so neither the far system's
# libraries nor its loader are used. The run takes well under 5 minutes at 16 threads.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
[[ "${1:-}" == pack ]] || { sed -n '2,13p' "$0" >&2; exit 2; }
shift
build="$root/build/release"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    *) echo "scaling.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
bench="$build/bench/recur_bench"
[[ -x "$bench" ]] || { echo "scaling.sh: $bench not found; build first: cmake --build --preset release -j2 --target recur_bench" >&2; exit 1; }

dest="$root/build/remote/scaling"
rm -rf "$dest"
mkdir -p "$dest/bin" "$dest/lib"
cp "$bench" "$dest/bin/"
# Every library the binary loads, resolved here, and the loader itself.
ldd "$bench" | awk '/=> \// { print $3 } /^[ \t]*\/.*ld-linux/ { print $1 }' | while read -r lib; do
  cp -L "$lib" "$dest/lib/"
done
[[ -e "$dest/lib/ld-linux-x86-64.so.2" ]] || { echo "scaling.sh: the loader was not found in ldd's output" >&2; exit 1; }

cat > "$dest/run.sh" <<'RUN'
#!/usr/bin/env bash
# Runs the thread-scaling problems with the libraries packed beside this script; writes
# OUT/scaling.json (Google Benchmark JSON) and OUT/machine.txt.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
[[ $# -ge 1 ]] || { echo "usage: run.sh OUT [--threads LIST] [--min-time S] [--quick]" >&2; exit 2; }
out="$1"; shift
threads="1,2,4,8,16"
min_time=0.1
quick=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --threads) threads="$2"; shift 2 ;;
    --min-time) min_time="$2"; shift 2 ;;
    --quick) quick=1; shift ;;
    *) echo "run.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
{ nproc; cat /proc/cpuinfo | grep -m1 'model name'; lscpu 2>/dev/null || true; } > "$out/machine.txt"
# B = 1 and 64 at the shapes where the weights outgrow one core's cache and where they do not.
shapes=(lstm:8:64:50:1 lstm:256:256:100:1 lstm:512:512:100:1 lstm:1024:1024:50:1 lstm:1536:1536:50:1
        lstm:256:256:100:64 lstm:512:512:100:64 lstm:1024:1024:50:64 gru:512:512:100:1 gru:512:512:100:64)
[[ -n "$quick" ]] && shapes=(lstm:256:256:100:1 lstm:1024:1024:50:1 lstm:512:512:100:64)
args=()
for s in "${shapes[@]}"; do args+=(--shape "$s"); done
"$here/lib/ld-linux-x86-64.so.2" --library-path "$here/lib" "$here/bin/recur_bench" \
  --threads "$threads" "${args[@]}" --benchmark_filter='^(lstm|gru)/(recur|onednn)/' \
  --benchmark_min_time="$min_time" --benchmark_repetitions=3 --benchmark_enable_random_interleaving=true \
  --benchmark_format=json --benchmark_out="$out/scaling.json" --benchmark_out_format=json > /dev/null
echo "run.sh: wrote $out/scaling.json"
RUN
chmod +x "$dest/run.sh"
echo "scaling.sh: packed $(du -sh "$dest" | cut -f1) into $dest; carry it, then run: build/remote/scaling/run.sh OUT"
