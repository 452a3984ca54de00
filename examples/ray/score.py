"""Batch scoring with Ray Data: Parquet windows in, forecasts out, the forecaster run by recur (or
by ONNX Runtime, for comparison) inside `map_batches`.

Each Ray worker is an actor of a callable class that loads the model once, in __init__, and then
scores one batch per call; Ray streams the Parquet files through the actors and writes the
results as Parquet. The same script runs on this machine (a local cluster, started here) and on a
real cluster (`--address auto` or `ray://head:10001`), where the model file must be reachable at
the same path on every node (a shared file system) or passed with the job.

    python examples/ray/score.py --rows 100000                  # recur and ONNX Runtime, rows/s each
    python examples/ray/score.py --engine recur --address auto  # on an existing cluster
    python examples/ray/score.py --rows 20000 --no-ray          # both engines in process, no Ray
"""
import argparse
import os
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from windows import FEATURES, ROOT, WINDOW, make_windows, write_parquet  # noqa: E402

FORECASTER_ONNX = os.path.join(ROOT, "examples", "forecaster", "forecaster.onnx")


def batch_windows(batch) -> np.ndarray:
    """The batch's "x" column as float32 (n, 30, 4), however Ray handed over the list column."""
    x = batch["x"]
    if x.dtype == object:  # one array per row
        x = np.stack(x)
    return np.ascontiguousarray(x, dtype=np.float32).reshape(-1, WINDOW, FEATURES)


class RecurForecaster:
    """recur in map_batches: the .recur model loaded once per worker, one run per batch."""

    def __init__(self, model_path: str, threads: int = 1):
        import recur
        self.model = recur.Model(model_path, threads=threads)

    def __call__(self, batch):
        return {"id": batch["id"], "y": self.model.run(batch_windows(batch)).y}


class OrtForecaster:
    """The same job with ONNX Runtime: the .onnx model, one session per worker."""

    def __init__(self, onnx_path: str, threads: int = 1):
        import onnxruntime as ort
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])

    def __call__(self, batch):
        return {"id": batch["id"], "y": self.session.run(None, {"x": batch_windows(batch)})[0]}


def init_ray(address=None, workers: int = 2, **kwargs) -> None:
    """Connect to the cluster at `address`, or start a local one: `workers` CPUs for the scoring
    actors plus one for the Parquet read and write tasks (with only the actors' CPUs, reads wait
    for a CPU the actors hold). This folder goes with the job (runtime_env working_dir), so the
    workers can unpickle the scorer classes."""
    import ray
    runtime_env = {"working_dir": HERE, "excludes": ["__pycache__"]}
    if address:
        ray.init(address=address, runtime_env=runtime_env, **kwargs)
    else:
        ray.init(num_cpus=workers + 1, include_dashboard=False, runtime_env=runtime_env, **kwargs)


def score(input_path: str, output_path: str, scorer, model_path: str, workers: int = 2,
          batch_size: int = 1024) -> None:
    """Parquet windows at input_path -> Parquet (id, y) at output_path, `workers` actors of `scorer`."""
    import ray
    ds = ray.data.read_parquet(input_path)
    ds = ds.map_batches(scorer, fn_constructor_args=(model_path,), batch_size=batch_size, batch_format="numpy",
                        compute=ray.data.ActorPoolStrategy(size=workers), num_cpus=1)
    ds.write_parquet(output_path)


def read_scores(path: str):
    """(ids, y) from a scored Parquet folder, sorted by id."""
    import pyarrow.parquet as pq
    table = pq.read_table(path)
    ids = table.column("id").to_numpy()
    y = np.stack(table.column("y").to_numpy(zero_copy_only=False)).astype(np.float32)
    order = np.argsort(ids)
    return ids[order], y[order]


def time_in_process(windows: np.ndarray, model_path: str, batch_size: int) -> None:
    """Both engines on the same windows in this process, one thread, no Ray: rows/s, best of 3."""
    import time as clock
    engines = {"recur": RecurForecaster(model_path), "onnxruntime": OrtForecaster(FORECASTER_ONNX)}
    ids = np.arange(len(windows))
    for name, scorer in engines.items():
        best = float("inf")
        for _ in range(3):
            start = clock.perf_counter()
            for i in range(0, len(windows), batch_size):
                scorer({"id": ids[i:i + batch_size], "x": windows[i:i + batch_size]})
            best = min(best, clock.perf_counter() - start)
        print(f"{name:12s} {len(windows) / best:,.0f} rows/s in process (one thread, batch {batch_size}, best of 3)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000, help="windows to score")
    parser.add_argument("--engine", choices=["recur", "onnxruntime", "both"], default="both")
    parser.add_argument("--address", default=None, help="an existing Ray cluster (default: start a local one)")
    parser.add_argument("--workers", type=int, default=2, help="scoring actors, one CPU each (a local cluster gets one CPU more)")
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--no-ray", action="store_true", help="time both engines in this process instead")
    parser.add_argument("--workdir", default=None, help="where the Parquet files go (default: a temporary folder)")
    args = parser.parse_args()

    import ray
    import recur
    work = args.workdir or tempfile.mkdtemp(prefix="recur-ray-")
    model_path = os.path.join(work, "forecaster.recur")
    recur.convert(FORECASTER_ONNX, model_path)
    if args.no_ray:
        time_in_process(make_windows(args.rows), model_path, args.batch_size)
        return
    write_parquet(make_windows(args.rows), os.path.join(work, "windows"))
    init_ray(args.address, args.workers)
    engines = {"recur": (RecurForecaster, model_path), "onnxruntime": (OrtForecaster, FORECASTER_ONNX)}
    chosen = list(engines) if args.engine == "both" else [args.engine]
    results = {}
    for name in chosen:
        scorer, path = engines[name]
        out = os.path.join(work, f"scores-{name}")
        start = time.perf_counter()
        score(os.path.join(work, "windows"), out, scorer, path, args.workers, args.batch_size)
        seconds = time.perf_counter() - start
        results[name] = read_scores(out)[1]
        print(f"{name:12s} {args.rows} rows in {seconds:.2f} s: {args.rows / seconds:,.0f} rows/s "
              f"({args.workers} workers, batch {args.batch_size})")
    if len(results) == 2:
        diff = np.max(np.abs(results["recur"] - results["onnxruntime"]))
        print(f"recur vs onnxruntime: max abs difference {diff:.2e}")
    ray.shutdown()


if __name__ == "__main__":
    main()
