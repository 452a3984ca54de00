"""Input windows for the Ray scoring example: 30 days x 4 indices of standardized log-returns,
as examples/forecaster's model reads them, written to Parquet.

The bundled data (examples/data/eustockmarkets.csv, 1860 trading days) holds 1830 such windows;
a larger set is made from them by drawing windows with replacement and adding Gaussian noise
(0.1 standard deviations, seeded), so every row is a plausible, distinct input.
"""
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
WINDOW, FEATURES = 30, 4
COLUMNS = ("DAX", "SMI", "CAC", "FTSE")


def market_windows() -> np.ndarray:
    """Every (30, 4) window of standardized daily log-returns in the bundled data, float32."""
    import csv
    with open(os.path.join(ROOT, "examples", "data", "eustockmarkets.csv")) as f:
        rows = list(csv.DictReader(f))
    close = np.array([[float(r[c]) for c in COLUMNS] for r in rows])
    with open(os.path.join(ROOT, "examples", "forecaster", "normalization.json")) as f:
        norm = json.load(f)
    assert tuple(norm["indices"]) == COLUMNS
    mean, std = np.array(norm["mean"]), np.array(norm["std"])
    z = (np.log(close[1:] / close[:-1]) - mean) / std
    starts = np.arange(len(z) - WINDOW + 1)
    return np.stack([z[s:s + WINDOW] for s in starts]).astype(np.float32)


def make_windows(n: int, seed: int = 0) -> np.ndarray:
    """n windows (n, 30, 4): drawn from the market windows with noise."""
    base = market_windows()
    rng = np.random.default_rng(seed)
    picks = base[rng.integers(0, len(base), n)]
    return (picks + rng.normal(0.0, 0.1, picks.shape)).astype(np.float32)


def write_parquet(windows: np.ndarray, path: str, files: int = 4) -> None:
    """Rows of (id, x: 120 float32 values, the window flattened row-major) in `files` Parquet files."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    os.makedirs(path, exist_ok=True)
    flat = windows.reshape(len(windows), WINDOW * FEATURES)
    for k, part in enumerate(np.array_split(np.arange(len(windows)), files)):
        x = pa.FixedSizeListArray.from_arrays(pa.array(flat[part].ravel(), pa.float32()), WINDOW * FEATURES)
        table = pa.table({"id": pa.array(part, pa.int64()), "x": x})
        pq.write_table(table, os.path.join(path, f"part-{k:03d}.parquet"))
