#!/usr/bin/env bash
# README command 1: installs dependencies, builds recur, and runs the main job end to end on the
# bundled example — a 2-layer LSTM forecaster of the DAX, SMI, CAC and FTSE trained in PyTorch on
# 1991-1997 (examples/forecaster/): convert its ONNX export, inspect it, run it on the held-out
# 1998 data, check it against PyTorch's own outputs, and report accuracy and latency.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
ex=examples/forecaster
out=build/demo

bash scripts/install-deps.sh
echo "== build (release preset)"
mkdir -p build
cmake --preset release > build/demo-configure.log 2>&1 || { cat build/demo-configure.log; exit 1; }
cmake --build --preset release -j"$jobs" --target recur_cli forecast_report > build/demo-build.log 2>&1 \
  || { grep -E "error|Error" build/demo-build.log | head -40; exit 1; }
recur=build/release/tools/recur
rm -rf "$out" && mkdir -p "$out"

echo; echo "== recur convert $ex/forecaster.onnx"
$recur convert "$ex/forecaster.onnx" -o "$out/forecaster.recur"

echo; echo "== recur inspect"
$recur inspect "$out/forecaster.recur"

echo; echo "== recur run on the 1998 test windows"
$recur run "$out/forecaster.recur" --input "$ex/test_1998.npy" --out "$out/run"

echo; echo "== recur verify against PyTorch's own outputs"
$recur verify "$out/forecaster.recur" --input "$ex/test_1998.npy" --expect "$ex/expected_1998.npy"

echo; echo "== forecasts vs what happened"
build/release/examples/forecast_report "$out/forecaster.recur" "$ex" "$out/run/y.npy"
