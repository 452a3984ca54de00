#!/usr/bin/env bash
# Runs recur_bench (recur vs oneDNN, same process, same threads) and writes BENCHMARKS.md:
# time per sequence, GFLOP/s, % of FMA peak and the recur/oneDNN speed ratio per shape, with
# the machine and the date. Each benchmark is repeated, the repetitions of all benchmarks in a
# random interleaved order (a burst of other work on a shared machine then hits one repetition
# of a row, not all of them); the table keeps the fastest repetition (the least disturbed).
#
#   bench/report.sh [--quick] [--build DIR] [--out FILE] [--reps N] [--min-time SECONDS]
#                   [--filter REGEX] [--json FILE (keep the raw results)]
#                   [--from-json FILE (format kept results, run nothing)]
#   --quick: LSTM (8,64,50) (256,256,100) (512,512,100) (1024,1024,50), B in {1, 64}, GRU/RNN
#            at 512, threads 1 and 2 (a few minutes); default: every standard shape, B 1/4/16/64.
#   With more than two thread counts in the results (recur_bench --threads, or the JSON of
#   bench/remote/scaling.sh given to --from-json), a thread-scaling table is added.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build/release"
out="$root/BENCHMARKS.md"
quick=""
reps=3
min_time=""
filter=""
keep_json=""
from_json=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) quick="--quick"; shift ;;
    --build) build="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --reps) reps="$2"; shift 2 ;;
    --min-time) min_time="$2"; shift 2 ;;
    --filter) filter="$2"; shift 2 ;;
    --json) keep_json="$2"; shift 2 ;;
    --from-json) from_json="$2"; shift 2 ;;
    *) echo "report.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[[ -z "$min_time" ]] && min_time=$([[ -n "$quick" ]] && echo 0.1 || echo 0.3)

bench="$build/bench/recur_bench"
if [[ -z "$from_json" && ! -x "$bench" ]]; then
  echo "report.sh: $bench not found; build first: cmake --build --preset release -j2" >&2
  exit 1
fi
json="$(mktemp --suffix=.json)"
trap 'rm -f "$json"' EXIT
args=($quick --benchmark_format=json --benchmark_out="$json" --benchmark_out_format=json
      --benchmark_min_time="$min_time" --benchmark_repetitions="$reps"
      --benchmark_enable_random_interleaving=true)
[[ -n "$filter" ]] && args+=(--benchmark_filter="$filter")
if [[ -n "$from_json" ]]; then
  # Only format results kept by an earlier run (--json).
  cp "$from_json" "$json"
  load_before="(not recorded)"
  load_after="(not recorded)"
  steal="(not recorded)"
else
  # The hypervisor's steal time (the 8th value of /proc/stat's cpu line): time our vCPUs were
  # runnable but the host ran something else. Neither the load average nor `par` shows it.
  cpu_ticks() { awk '/^cpu /{t=0; for (i=2;i<=9;i++) t+=$i; print $9, t}' /proc/stat; }
  read -r steal0 total0 < <(cpu_ticks)
  load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "report.sh: $bench ${args[*]}" >&2
  "$bench" "${args[@]}" > /dev/null
  load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
  read -r steal1 total1 < <(cpu_ticks)
  steal="$(awk -v s=$((steal1 - steal0)) -v t=$((total1 - total0)) 'BEGIN { printf "%.1f%%", (t > 0 ? 100 * s / t : 0) }')"
fi
[[ -n "$keep_json" ]] && cp "$json" "$keep_json"

cpu="$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
# The model name alone does not tell a Zen 4 from a Zen 5 guest: family, model and the caches
# (recur reads L1d at load: it decides how a B = 1 step sweeps the panels).
family="$(lscpu | sed -n 's/^CPU family: *//p' | head -1)"
model="$(lscpu | sed -n 's/^Model: *//p' | head -1)"
caches=""  # per core as the kernel's sysfs gives them (getconf's L3 can be the host's)
for d in /sys/devices/system/cpu/cpu0/cache/index*; do
  [[ -r $d/level && $(cat "$d/type") != Instruction ]] || continue
  caches+=", L$(cat "$d/level")$([[ $(cat "$d/type") == Data ]] && echo d) $(cat "$d/size")"
done
cpu="$cpu, family ${family:-?} model ${model:-?}$caches"
cores="$(nproc)"
flags="$(grep -o -w -E 'avx512f|avx512bw|avx512vl|avx512_bf16|avx512_vnni|avx2|fma' /proc/cpuinfo | sort -u | tr '\n' ' ')"
command="bench/report.sh $quick --reps $reps --min-time $min_time${filter:+ --filter '$filter'}"

python3 - "$json" "$out" "$cpu" "$cores" "$flags" "$command" "$load_before" "$load_after" "$steal" <<'PY'
import json, sys, datetime, re
path, out, cpu, cores, flags, command, load_before, load_after, steal = sys.argv[1:10]
data = json.load(open(path))
# fp32 FMA peak per core: measured in this run (peak/fma_f32), else DESIGN.md §4's figure.
PEAK_PER_CORE, peak_source = 228.0, "DESIGN.md §4 (not measured in this run)"

best = {}  # run_name -> (real_time in us, counters, label)
cpu_best = {}  # run_name -> CPU time of the whole process (all threads) in us
for b in data["benchmarks"]:
    if b.get("run_type") == "aggregate" or b.get("error_occurred"):
        continue
    name = b["run_name"].replace("/process_time", "").replace("/real_time", "")
    unit = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}[b["time_unit"]]
    t = b["real_time"] * unit
    if name not in best or t < best[name][0]:
        best[name] = (t, b, b.get("label", ""))
    c = b["cpu_time"] * unit
    if name not in cpu_best or c < cpu_best[name]:
        cpu_best[name] = c

peak_run = best.get("peak/fma_f32/threads:1")
if peak_run:
    g = peak_run[1].get("GFLOP/s", 0)
    g = g / 1e9 if g > 1e6 else g
    if g > 0:
        PEAK_PER_CORE, peak_source = g, f"measured in this run: {peak_run[2]} FMA chains on registers, 1 thread"

def fmt_time(us):
    return f"{us/1000:.3f} ms" if us >= 1000 else f"{us:.1f} µs"

# One shape's benchmark of one implementation (onednn, recur, recur_bf16), as recur_bench names it.
def bench_name(impl, cell, I, H, T, B, th):
    return f"{cell}/{impl}/I:{I}/H:{H}/T:{T}/B:{B}/threads:{th}"
# oneDNN's time over impl's on one shape (> 1: impl faster), or None if either is missing.
def speedup(impl, cell, I, H, T, B, th):
    r, o = best.get(bench_name(impl, cell, I, H, T, B, th)), best.get(bench_name("onednn", cell, I, H, T, B, th))
    return o[0] / r[0] if r and o else None
# recur's time on 1 thread over 2 on one shape, or None.
def scaling(cell, I, H, T, B):
    one, two = best.get(bench_name("recur", cell, I, H, T, B, 1)), best.get(bench_name("recur", cell, I, H, T, B, 2))
    return one[0] / two[0] if one and two else None

rows, ratios = [], {}
pat = re.compile(r"^(\w+)/(onednn|recur)/I:(\d+)/H:(\d+)/T:(\d+)/B:(\d+)/threads:(\d+)$")
keys = []
for name in best:
    m = pat.match(name)
    if m and m.group(2) == "recur":
        keys.append((m.group(1), int(m.group(3)), int(m.group(4)), int(m.group(5)), int(m.group(6)), int(m.group(7))))
order = {"lstm": 0, "gru": 1, "rnn": 2}
keys.sort(key=lambda k: (order.get(k[0], 9), k[2], k[1], -k[3], k[4], k[5]))

lines = []
lines.append("# Benchmarks: recur vs oneDNN")
lines.append("")
lines.append(f"Measured {data['context'].get('date', '?')} on {cpu} ({cores} CPUs; {flags.strip()}),")
lines.append(f"load average {load_before} before and {load_after} after the run, {steal} of the CPU time")
lines.append("stolen by the hypervisor during it (a shared machine: other jobs may have been running;")
lines.append("repetitions ran interleaved; each row is the fastest of them).")
lines.append("")
lines.append(f"Command: `{command}` (build: `cmake --preset release && cmake --build --preset release -j2`);")
lines.append(f"recur kernels: {data['context'].get('recur_isa', '?')} (RECUR_ISA overrides). Google Benchmark appends")
lines.append("`/process_time/real_time` to the names in the JSON: wall time is measured, CPU time is of all threads.")
lines.append("")
lines.append("Both in the same process on the same shape and thread count: recur through the public")
lines.append("`Model::run` (one layer, zero initial state, outputs allocated per call), oneDNN's")
lines.append("`lstm_forward` / `gru_forward` / `vanilla_rnn_forward` with `forward_inference` and weights")
lines.append("reordered once into the primitive's layout outside the timed loop. Time is wall time per")
lines.append("sequence batch; GFLOP/s counts the two products (2·T·B·G·H·(I+H)); % peak is against")
lines.append(f"{PEAK_PER_CORE:.0f} GFLOP/s per core × threads ({peak_source}). Speedup = oneDNN time / recur time (> 1: recur faster),")
lines.append("by wall time and by the CPU time of all threads of the process (the second is less")
lines.append("sensitive to time slices lost to other jobs, but counts spinning at barriers as work).")
lines.append("")
lines.append("`par` is the parallelism the recur run actually got, its process CPU time / wall time: near 1")
lines.append("with 2 threads means the two threads rarely ran at the same time (other jobs held the CPUs),")
lines.append("so that row measures the scheduler more than the code — for both libraries.")
lines.append("")
lines.append("| cell | I | H | T | B | threads | oneDNN | recur | recur GFLOP/s | % peak | speedup (wall) | speedup (CPU) | par |")
lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for key in keys:
    cell, I, H, T, B, th = key
    r = best.get(bench_name("recur", *key))
    o = best.get(bench_name("onednn", *key))
    gf = r[1].get("GFLOP/s", 0) / 1e9 if r[1].get("GFLOP/s", 0) > 1e6 else r[1].get("GFLOP/s", 0)
    peak = 100.0 * gf / (PEAK_PER_CORE * th)
    sp = f"{o[0]/r[0]:.2f}x" if o else "n/a"
    spc = f"{cpu_best[bench_name('onednn', *key)]/cpu_best[bench_name('recur', *key)]:.2f}x" if o else "n/a"
    par = cpu_best[bench_name("recur", *key)] / r[0]
    lines.append(f"| {cell} | {I} | {H} | {T} | {B} | {th} | {fmt_time(o[0]) if o else 'n/a'} | {fmt_time(r[0])} | {gf:.1f} | {peak:.0f}% | **{sp}** | {spc} | {par:.2f} |")

# Thread scaling of recur.
lines.append("")
lines.append("## recur: 2 threads over 1")
lines.append("")
lines.append("| cell | I | H | T | B | 1 thread | 2 threads | scaling |")
lines.append("|---|---:|---:|---:|---:|---:|---:|---:|")
for cell, I, H, T, B, th in keys:
    x = scaling(cell, I, H, T, B) if th == 1 else None
    if x:
        one, two = best[bench_name("recur", cell, I, H, T, B, 1)], best[bench_name("recur", cell, I, H, T, B, 2)]
        lines.append(f"| {cell} | {I} | {H} | {T} | {B} | {fmt_time(one[0])} | {fmt_time(two[0])} | {x:.2f}x |")

# Thread scaling over every thread count measured (recur_bench --threads, bench/remote/scaling.sh).
counts = sorted({k[5] for k in keys})
if len(counts) > 2:
    shapes = sorted({k[:5] for k in keys}, key=lambda k: (order.get(k[0], 9), k[2], k[1], -k[3], k[4]))
    lines.append("")
    lines.append("## Thread scaling: speedup over 1 thread, recur (oneDNN)")
    lines.append("")
    lines.append("Each cell is the 1-thread time over the N-thread time of the same library in this run; the last column")
    lines.append(f"is oneDNN's time over recur's at {counts[-1]} threads (> 1: recur faster).")
    lines.append("")
    lines.append("| cell | I | H | T | B | 1 thread | " + " | ".join(f"{n} threads" for n in counts[1:]) + f" | recur vs oneDNN at {counts[-1]} |")
    lines.append("|---|---:|---:|---:|---:|---:|" + "---:|" * len(counts))
    for cell, I, H, T, B in shapes:
        base_r = best.get(bench_name("recur", cell, I, H, T, B, 1))
        base_o = best.get(bench_name("onednn", cell, I, H, T, B, 1))
        if not base_r:
            continue
        cols = []
        for n in counts[1:]:
            r, o = best.get(bench_name("recur", cell, I, H, T, B, n)), best.get(bench_name("onednn", cell, I, H, T, B, n))
            text = f"{base_r[0] / r[0]:.2f}x" if r else "n/a"
            text += f" ({base_o[0] / o[0]:.2f}x)" if o and base_o else ""
            cols.append(text)
        last = speedup("recur", cell, I, H, T, B, counts[-1])
        lines.append(f"| {cell} | {I} | {H} | {T} | {B} | {fmt_time(base_r[0])} | " + " | ".join(cols) +
                     f" | {f'{last:.2f}x' if last else 'n/a'} |")

# bf16 recurrent weights (LoadOptions::recurrent_weights), where recur_bench measured them.
bf16_keys = [k for k in keys if best.get(bench_name("recur_bf16", *k))]
if bf16_keys:
    lines.append("")
    lines.append("## recur with bf16 recurrent weights")
    lines.append("")
    lines.append("`LoadOptions::recurrent_weights = bf16` (`recur bench --recurrent-weights bf16`): R rounded to")
    lines.append("bfloat16 at load, widened exactly in registers, every product and sum in fp32 — the results")
    lines.append("of the model with R so rounded, not of the f32 model; oneDNN runs f32 (its ratio column here")
    lines.append("compares different arithmetic, and the targets above are f32 against f32).")
    lines.append("")
    lines.append("| cell | I | H | T | B | threads | oneDNN f32 | recur f32 | recur bf16 | bf16 / oneDNN | bf16 / recur f32 |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for key in bf16_keys:
        cell, I, H, T, B, th = key
        r, o, h = best[bench_name("recur", *key)], best.get(bench_name("onednn", *key)), best[bench_name("recur_bf16", *key)]
        sp = f"{o[0]/h[0]:.2f}x" if o else "n/a"
        lines.append(f"| {cell} | {I} | {H} | {T} | {B} | {th} | {fmt_time(o[0]) if o else 'n/a'} | {fmt_time(r[0])} | {fmt_time(h[0])} | **{sp}** | {r[0]/h[0]:.2f}x |")

gemm = sorted(n for n in best if n.startswith("gemm/"))
if gemm:
    lines.append("")
    lines.append("## Input projection GEMM (M = T·B rows, N = 4H, K = I)")
    lines.append("")
    lines.append("| implementation | M | N | K | threads | time | GFLOP/s |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|")
    gp = re.compile(r"^gemm/(\w+)/M:(\d+)/N:(\d+)/K:(\d+)/threads:(\d+)$")
    def gkey(n):
        m = gp.match(n); return (int(m.group(2)), int(m.group(5)), m.group(1))
    for n in sorted(gemm, key=gkey):
        m = gp.match(n)
        t, b, _ = best[n]
        gf = b.get("GFLOP/s", 0)
        gf = gf / 1e9 if gf > 1e6 else gf
        lines.append(f"| {m.group(1)} | {m.group(2)} | {m.group(3)} | {m.group(4)} | {m.group(5)} | {fmt_time(t)} | {gf:.1f} |")

# Load and read alternate in one benchmark; the fastest of each over every repetition.
load_read = None
for b in data["benchmarks"]:
    if b.get("run_type") == "aggregate" or b.get("error_occurred"):
        continue
    if b["run_name"].startswith("load/load_and_read/") and "load_us" in b and "read_us" in b:
        l, r = b["load_us"], b["read_us"]
        load_read = (l, r) if load_read is None else (min(load_read[0], l), min(load_read[1], r))
if load_read:
    l, r = load_read
    lines.append("")
    lines.append("## Load time, LSTM I=H=1024 (32 MiB of weights)")
    lines.append("")
    lines.append("Read and load alternate in one loop (same page cache, same moment); fastest of each.")
    lines.append("")
    lines.append("| what | time |")
    lines.append("|---|---:|")
    lines.append(f"| read the file's bytes once (fread into a buffer already faulted in) | {fmt_time(r)} |")
    lines.append(f"| Model::load (read + checksum + finite check + pack, one pass; checks and page faults on a second thread) | {fmt_time(l)} |")
    lines.append("")
    lines.append(f"Load / read = {l/r:.2f}x.")
# The targets of issue 5, read off the rows above.
lstm_shapes = sorted({(I, H, T) for c, I, H, T, B, th in keys if c == "lstm"}, key=lambda s: (s[1], s[0], -s[2]))
def summary(values):
    values = [v for v in values if v is not None]
    return (f"{min(values):.2f}x – {max(values):.2f}x", min(values)) if values else ("n/a", None)
lines.append("")
lines.append("## Targets (issue 5) in this run")
lines.append("")
lines.append("| target | measured (worst – best over the standard LSTM shapes) | met |")
lines.append("|---|---|---|")
for th in (1, 2):
    text, worst = summary([speedup("recur", "lstm", I, H, T, 1, th) for I, H, T in lstm_shapes])
    lines.append(f"| B=1, {th} thread{'s' if th > 1 else ''}: recur ≥ 2.0x oneDNN | {text} | {'yes' if worst and worst >= 2.0 else 'no'} |")
for th in (1, 2):
    text, worst = summary([speedup("recur_bf16", "lstm", I, H, T, 1, th) for I, H, T in lstm_shapes])
    if worst:
        lines.append(f"| (not a target: the same with bf16 recurrent weights, B=1, {th} thread{'s' if th > 1 else ''}) | {text} | ({'≥ 2.0x' if worst >= 2.0 else '< 2.0x'}) |")
for th in (1, 2):
    text, worst = summary([speedup("recur", "lstm", I, H, T, 64, th) for I, H, T in lstm_shapes])
    lines.append(f"| B=64, {th} thread{'s' if th > 1 else ''}: recur ≥ 1.0x oneDNN | {text} | {'yes' if worst and worst >= 1.0 else 'no'} |")
text, worst = summary([scaling("lstm", I, H, T, 64) for I, H, T in lstm_shapes])
lines.append(f"| 2 threads over 1, B=64: ≥ 1.8x | {text} | {'yes' if worst and worst >= 1.8 else 'no'} |")
text, worst = summary([scaling("lstm", I, H, T, 1) for I, H, T in lstm_shapes if H >= 512])
lines.append(f"| 2 threads over 1, B=1, H ≥ 512: ≥ 1.6x | {text} | {'yes' if worst and worst >= 1.6 else 'no'} |")
if load_read:
    x = load_read[0] / load_read[1]
    lines.append(f"| load of the H=1024 model ≤ 2x reading its bytes | {x:.2f}x | {'yes' if x <= 2.0 else 'no'} |")

denormal = {n: best[n][0] for n in best if n.startswith("denormal/")}
if denormal:
    lines.append("")
    lines.append("## Subnormal values: one step, LSTM I=H=256, B=1, 1 thread")
    lines.append("")
    lines.append("Each step starts from the same state; `subnormal_inputs` makes x, h and c subnormal,")
    lines.append("`subnormal_weights` every weight and bias. recur sets FTZ/DAZ in every worker, so the")
    lines.append("ratio to `normal` should stay near 1 (without it, x86 cores take microcode assists).")
    lines.append("")
    lines.append("| kernels | values | time per step | / normal |")
    lines.append("|---|---|---:|---:|")
    dp = re.compile(r"^denormal/(\w+)/(\w+)/H:(\d+)$")
    for n in sorted(denormal):
        m = dp.match(n)
        if not m: continue
        base = denormal.get(f"denormal/{m.group(1)}/normal/H:{m.group(3)}")
        ratio = f"{denormal[n]/base:.2f}x" if base else "n/a"
        lines.append(f"| {m.group(1)} | {m.group(2)} | {fmt_time(denormal[n])} | {ratio} |")
open(out, "w").write("\n".join(lines) + "\n")
print(f"report.sh: wrote {out} ({len(keys)} shapes)", file=sys.stderr)
PY
