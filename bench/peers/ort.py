#!/usr/bin/env python3
"""ONNX Runtime as a peer of recur_bench: one ONNX LSTM node per standard shape, timed in fp32
and after onnxruntime.quantization.quantize_dynamic (weights int8 per output channel, the node
becomes com.microsoft DynamicQuantizeLSTM), with the int8 output's error against fp32 on the
same input. Writes Google Benchmark-shaped JSON that bench/report.sh merges with recur_bench's.

Install (its own venv: plain PyPI, no system packages needed):
  python3 -m venv .venv-ort
  .venv-ort/bin/pip install onnx==1.17.0 onnxruntime==1.20.1
Run:
  .venv-ort/bin/python bench/peers/ort.py [--quick] [--shape I:H:T:B] [--out FILE]
                                          [--min-time SECONDS] [--reps N]
  .venv-ort/bin/python bench/peers/ort.py --error-of MODEL.onnx --input x.npy
    (only the int8 error against fp32 of a given ONNX model, e.g. examples/forecaster)
Names: lstm/ort_f32/I:../H:../T:../B:../threads:.. and lstm/ort_int8/... (as recur_bench's).
Weights uniform in ±1/sqrt(H), x uniform in ±1 (the distributions recur_bench uses).
"""
import argparse
import logging
import json
import os
import sys
import tempfile
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.quantization import QuantType, quantize_dynamic

LSTM_SHAPES = [(8, 64, 50), (256, 256, 100), (512, 512, 100), (512, 512, 25), (1024, 1024, 50),
               (1536, 1536, 50), (240, 1024, 50)]
LSTM_QUICK = [(8, 64, 50), (256, 256, 100), (512, 512, 100), (1024, 1024, 50)]


def lstm_model(I, H, seed=1):
    """One forward LSTM node; W, R, B as initializers (quantize_dynamic needs them so)."""
    rng = np.random.default_rng(seed)
    s = 1.0 / np.sqrt(H)
    W = rng.uniform(-s, s, (1, 4 * H, I)).astype(np.float32)
    R = rng.uniform(-s, s, (1, 4 * H, H)).astype(np.float32)
    B = rng.uniform(-s, s, (1, 8 * H)).astype(np.float32)
    node = helper.make_node("LSTM", ["X", "W", "R", "B"], ["Y"], hidden_size=H)
    graph = helper.make_graph(
        [node], "lstm",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["T", "N", I])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["T", 1, "N", H])],
        [numpy_helper.from_array(W, "W"), numpy_helper.from_array(R, "R"),
         numpy_helper.from_array(B, "B")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    model.ir_version = 8
    return model


def session(path, threads):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def time_runs(sess, x, min_time, reps):
    """Fastest repetition's mean wall and CPU (this process, all threads) µs per run."""
    feed = {"X": x}
    sess.run(None, feed)  # warm-up
    best = None
    for _ in range(reps):
        n, t0, c0 = 0, time.perf_counter(), time.process_time()
        while True:
            sess.run(None, feed)
            n += 1
            if time.perf_counter() - t0 >= min_time:
                break
        wall = (time.perf_counter() - t0) / n * 1e6
        cpu = (time.process_time() - c0) / n * 1e6
        if best is None or wall < best[0]:
            best = (wall, cpu)
    return best


def error_of(model, x_path):
    """quantize_dynamic of any ONNX model: its first output's error against fp32 on x."""
    x = np.load(x_path).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        q = os.path.join(tmp, "int8.onnx")
        quantize_dynamic(model, q, weight_type=QuantType.QInt8, per_channel=True)
        ops = sorted({n.op_type for n in onnx.load(q).graph.node if "Integer" in n.op_type or "Quantize" in n.op_type})
        s32 = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
        s8 = ort.InferenceSession(q, providers=["CPUExecutionProvider"])
        feed = {s32.get_inputs()[0].name: x}
        y32, y8 = s32.run(None, feed)[0], s8.run(None, feed)[0]
        d = np.abs(y8.astype(np.float64) - y32)
        print(f"{model}: onnxruntime {ort.__version__} int8 ({', '.join(ops)}) vs fp32 on {x_path} "
              f"{tuple(x.shape)}: y max abs {d.max():.3g}, mean abs {d.mean():.3g}")


def main():
    logging.getLogger().setLevel(logging.ERROR)  # quantize_dynamic's pre-processing advice
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="B in {1, 64}, four LSTM shapes")
    ap.add_argument("--shape", action="append", default=[], help="I:H:T:B (repeatable)")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--out", default="-", help="JSON file (default: stdout)")
    ap.add_argument("--min-time", type=float, default=0.3)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--error-of", help="an ONNX model: print only its int8 error against fp32")
    ap.add_argument("--input", help="x.npy for --error-of")
    a = ap.parse_args()
    if a.error_of:
        if not a.input:
            sys.exit("ort.py: --error-of needs --input x.npy")
        return error_of(a.error_of, a.input)
    problems = []
    for text in a.shape:
        I, H, T, B = (int(v) for v in text.split(":"))
        problems.append((I, H, T, B))
    if not problems:
        batches = [1, 64] if a.quick else [1, 4, 16, 64]
        problems = [(I, H, T, B) for I, H, T in (LSTM_QUICK if a.quick else LSTM_SHAPES) for B in batches]
    threads = [int(t) for t in a.threads.split(",")]

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for I, H, T, B in problems:
            f32_path = os.path.join(tmp, f"lstm_{I}_{H}.onnx")
            int8_path = os.path.join(tmp, f"lstm_{I}_{H}_int8.onnx")
            if not os.path.exists(f32_path):
                onnx.save(lstm_model(I, H), f32_path)
                quantize_dynamic(f32_path, int8_path, weight_type=QuantType.QInt8, per_channel=True)
                ops = [n.op_type for n in onnx.load(int8_path).graph.node]
                if "DynamicQuantizeLSTM" not in ops:
                    sys.exit(f"ort.py: quantize_dynamic gave {ops}, not DynamicQuantizeLSTM")
            x = np.random.default_rng(5).uniform(-1, 1, (T, B, I)).astype(np.float32)
            for th in threads:
                s32, s8 = session(f32_path, th), session(int8_path, th)
                y32 = s32.run(None, {"X": x})[0]
                y8 = s8.run(None, {"X": x})[0]
                err = float(np.max(np.abs(y8.astype(np.float64) - y32)))
                mean_err = float(np.mean(np.abs(y8.astype(np.float64) - y32)))
                for impl, sess in (("ort_f32", s32), ("ort_int8", s8)):
                    wall, cpu = time_runs(sess, x, a.min_time, a.reps)
                    row = {"name": f"lstm/{impl}/I:{I}/H:{H}/T:{T}/B:{B}/threads:{th}",
                           "real_time": wall, "cpu_time": cpu, "time_unit": "us",
                           "label": f"onnxruntime {ort.__version__}"}
                    row["run_name"] = row["name"]
                    if impl == "ort_int8":
                        row["max_abs_err_vs_f32"] = err
                        row["mean_abs_err_vs_f32"] = mean_err
                    results.append(row)
                    print(f"{row['name']}: {wall:.1f} us" +
                          (f", max abs err vs fp32 {err:.3g}" if impl == "ort_int8" else ""),
                          file=sys.stderr)
    doc = {"context": {"onnxruntime": ort.__version__, "onnx": onnx.__version__}, "benchmarks": results}
    text = json.dumps(doc, indent=1)
    if a.out == "-":
        print(text)
    else:
        with open(a.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
