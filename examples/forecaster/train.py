#!/usr/bin/python3
"""Trains recur's example model: a 2-layer LSTM (H=64) that forecasts the next-day log-return of
DAX, SMI, CAC and FTSE from the last 30 days of returns, on R's EuStockMarkets (1991-1997 train,
1998 test), and writes the model (.pt state_dict, .onnx), the 1998 test set and metrics.

Run (Debian python3-torch 1.13 + python3-onnx + libopenblas0-pthread, CPU only, one thread):
    /usr/bin/python3 examples/forecaster/train.py
Deterministic: fixed seeds, one thread, the epoch count chosen on 1997 only. Debian's torch calls
the system BLAS (libblas.so.3); the reference BLAS makes training ~5x slower and rounds
differently, so the script re-runs itself on OpenBLAS when Debian's libopenblas0-pthread is
installed (without changing the system's BLAS alternative). The committed files were made that way.
"""
import csv
import json
import math
import os
import random
import sys
import warnings

OPENBLAS_DIR = "/usr/lib/x86_64-linux-gnu/openblas-pthread"
if os.path.isdir(OPENBLAS_DIR) and os.environ.get("RECUR_TRAIN_BLAS") != OPENBLAS_DIR:
    env = dict(os.environ, RECUR_TRAIN_BLAS=OPENBLAS_DIR, OPENBLAS_NUM_THREADS="1",
               OMP_NUM_THREADS="1",
               LD_LIBRARY_PATH=":".join(filter(None, [OPENBLAS_DIR, os.environ.get("LD_LIBRARY_PATH")])))
    os.execve(sys.executable, [sys.executable] + sys.argv, env)

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
DATA_CSV = os.path.join(HERE, "..", "data", "eustockmarkets.csv")

INDICES = ["DAX", "SMI", "CAC", "FTSE"]
WINDOW = 30            # days of past returns per input
HIDDEN = 64
LAYERS = 2
LAST_TRAIN_YEAR = 1997
TEST_YEAR = 1998
SEED = 20240601
BATCH = 64
LR = 1e-3
WEIGHT_DECAY = 1e-4
MAX_EPOCHS = 40        # phase 1 (epoch selection) runs this many at most
PATIENCE = 8           # phase 1 stops after this many epochs without validation improvement
OPSET = 14


class Forecaster(nn.Module):
    """x (B, T, 4) standardized returns -> y (B, 4) standardized next-day returns.
    The head reads only the last time step's hidden state of the top LSTM layer."""

    def __init__(self, n_features=len(INDICES), hidden=HIDDEN, layers=LAYERS):
        super().__init__()
        self.lstm = nn.LSTM(n_features, hidden, num_layers=layers, batch_first=True)
        self.fc = nn.Linear(hidden, n_features)

    def forward(self, x):
        out, _ = self.lstm(x)          # out (B, T, H)
        return self.fc(out[:, -1, :])  # (B, 4)


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)


def load_prices():
    """-> years (N,) int, prices (N, 4) float64, in file order."""
    with open(DATA_CSV, newline="") as f:
        rows = list(csv.DictReader(f))
    years = np.array([int(r["year"]) for r in rows])
    prices = np.array([[float(r[k]) for k in INDICES] for r in rows])
    return years, prices


def make_windows(returns, ret_years):
    """returns (M, 4) -> inputs (K, WINDOW, 4), targets (K, 4), target years (K,).
    Window k uses returns[k : k+WINDOW] to predict returns[k+WINDOW]."""
    k = len(returns) - WINDOW
    x = np.stack([returns[i:i + WINDOW] for i in range(k)])
    y = returns[WINDOW:]
    return x, y, ret_years[WINDOW:]


def train(model, x, y, epochs, val=None):
    """Adam on MSE, shuffled minibatches from a seeded generator. With val=(xv, yv) it tracks the
    validation loss per epoch and stops early; returns (best epoch count, per-epoch val losses)."""
    opt = torch.optim.Adam(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    loss_fn = nn.MSELoss()
    gen = torch.Generator().manual_seed(SEED)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    best, best_epoch, val_losses = math.inf, 0, []
    for epoch in range(1, epochs + 1):
        model.train()
        perm = torch.randperm(len(xt), generator=gen)
        for s in range(0, len(xt), BATCH):
            idx = perm[s:s + BATCH]
            opt.zero_grad()
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
        if val is not None:
            model.eval()
            with torch.no_grad():
                vl = loss_fn(model(torch.from_numpy(val[0])), torch.from_numpy(val[1])).item()
            val_losses.append(vl)
            if vl < best:
                best, best_epoch = vl, epoch
            elif epoch - best_epoch >= PATIENCE:
                break
    return best_epoch, val_losses


def rmse(pred, actual):
    """pred, actual (N, 4) -> per-index RMSE (4,), overall RMSE over all N*4 values."""
    err = (pred - actual) ** 2
    return np.sqrt(err.mean(axis=0)), float(np.sqrt(err.mean()))


def direction_accuracy(pred, actual):
    """Share of forecasts whose sign matches the actual return's sign (zero actuals excluded);
    None for a forecast that is always exactly zero (it never calls a direction)."""
    if not pred.any():
        return [None] * pred.shape[1], None
    mask = actual != 0
    hit = (np.sign(pred) == np.sign(actual)) & mask
    return (hit.sum(axis=0) / mask.sum(axis=0)).tolist(), float(hit.sum() / mask.sum())


def diebold_mariano(pred_a, pred_b, actual):
    """One-step Diebold-Mariano statistic on squared error, losses averaged over the 4 indices
    per day: d_t = mean_k(e_a^2 - e_b^2); DM = mean(d) / (std(d) / sqrt(N)). Negative = a better;
    |DM| < 1.96 means no significant difference at the 5% level (normal approximation)."""
    d = ((pred_a - actual) ** 2 - (pred_b - actual) ** 2).mean(axis=1)
    return float(d.mean() / (d.std(ddof=1) / math.sqrt(len(d))))


def export_onnx(model, path):
    model.eval()
    dummy = torch.zeros(1, WINDOW, len(INDICES))
    # Exported at batch 1 (as torch's LSTM export warning asks); check_onnx.py verifies the dynamic
    # batch and sequence axes in onnxruntime. Silence torch 1.13's shape-inference UserWarnings.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        _export(model, dummy, path)


def _export(model, dummy, path):
    torch.onnx.export(model, dummy, path, opset_version=OPSET,
                      input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "batch", 1: "seq"}, "y": {0: "batch"}},
                      do_constant_folding=True)


def check_onnx(path):
    """Structural check with python3-onnx; returns the op types of the graph in order."""
    import onnx
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    ops = [n.op_type for n in m.graph.node]
    if ops.count("LSTM") != LAYERS or "Loop" in ops or "Scan" in ops:
        sys.exit(f"ONNX export is not {LAYERS} ONNX LSTM ops: {ops}")
    return ops


def main():
    seed_everything(SEED)
    torch.set_num_threads(1)  # the machine has 2 shared cores; 1 thread is faster and deterministic

    years, prices = load_prices()
    returns = np.diff(np.log(prices), axis=0)          # (N-1, 4); return i ends on row i+1
    ret_years = years[1:]

    # Normalization from the training period only (every return whose day is <= 1997).
    train_ret = returns[ret_years <= LAST_TRAIN_YEAR]
    mean, std = train_ret.mean(axis=0), train_ret.std(axis=0)
    z = ((returns - mean) / std).astype(np.float32)

    x, y, t_years = make_windows(z, ret_years)
    tr, te = t_years <= LAST_TRAIN_YEAR, t_years == TEST_YEAR
    x_tr, y_tr, x_te, y_te = x[tr], y[tr], x[te], y[te]

    # Phase 1: choose the epoch count on 1997 (held out from 1991-1996), never looking at 1998.
    fit, val = t_years[tr] < LAST_TRAIN_YEAR, t_years[tr] == LAST_TRAIN_YEAR
    seed_everything(SEED)
    probe = Forecaster()
    best_epochs, val_losses = train(probe, x_tr[fit], y_tr[fit], MAX_EPOCHS,
                                    val=(x_tr[val], y_tr[val]))
    best_epochs = max(best_epochs, 1)
    print(f"phase 1: validation (1997) MSE by epoch: "
          f"{' '.join(f'{v:.3f}' for v in val_losses)}; best at epoch {best_epochs}")

    # Phase 2: retrain from the same seed on all of 1991-1997 for that many epochs.
    seed_everything(SEED)
    model = Forecaster()
    train(model, x_tr, y_tr, best_epochs)
    model.eval()

    with torch.no_grad():
        expected = model(torch.from_numpy(x_te)).numpy().astype(np.float32)

    # Metrics in log-return units (de-standardized).
    pred_lr = expected * std + mean
    actual_lr = y_te * std + mean
    baselines = {
        "LSTM": pred_lr,
        "zero return (random walk)": np.zeros_like(actual_lr),
        "training-mean return": np.broadcast_to(mean, actual_lr.shape),
    }
    metrics = {}
    for name, p in baselines.items():
        per, overall = rmse(p, actual_lr)
        dper, dall = direction_accuracy(p, actual_lr)
        metrics[name] = {"rmse": dict(zip(INDICES, per.tolist())), "rmse_overall": overall,
                         "direction": dict(zip(INDICES, dper)), "direction_overall": dall,
                         "dm_vs_lstm": None if name == "LSTM" else diebold_mariano(pred_lr, p, actual_lr)}
    up_share = (actual_lr > 0).mean(axis=0)
    corr = [float(np.corrcoef(pred_lr[:, k], actual_lr[:, k])[0, 1]) for k in range(len(INDICES))]
    positive_share = (pred_lr > 0).mean(axis=0)
    mse_reduction = {name: 100 * (1 - ((pred_lr - actual_lr) ** 2).mean() / ((p - actual_lr) ** 2).mean())
                     for name, p in baselines.items() if name != "LSTM"}
    pred_std, actual_std = pred_lr.std(axis=0), actual_lr.std(axis=0)

    n_params = sum(p.numel() for p in model.parameters())
    torch.save(model.state_dict(), os.path.join(HERE, "forecaster.pt"))
    onnx_path = os.path.join(HERE, "forecaster.onnx")
    export_onnx(model, onnx_path)
    ops = check_onnx(onnx_path)
    np.save(os.path.join(HERE, "test_1998.npy"), np.ascontiguousarray(x_te, dtype=np.float32))
    np.save(os.path.join(HERE, "expected_1998.npy"), expected)
    np.save(os.path.join(HERE, "actual_1998.npy"), np.ascontiguousarray(y_te, dtype=np.float32))
    with open(os.path.join(HERE, "normalization.json"), "w") as f:
        json.dump({
            "indices": INDICES,
            "window": WINDOW,
            "feature": "daily log-return log(close_t / close_{t-1})",
            "standardize": "z = (r - mean) / std; de-standardize r = z * std + mean",
            "fit_on": f"all returns whose day is in 1991-{LAST_TRAIN_YEAR} (population std, ddof=0)",
            "mean": mean.tolist(),
            "std": std.tolist(),
        }, f, indent=2)
        f.write("\n")
    with open(os.path.join(HERE, "metrics.json"), "w") as f:
        json.dump({"train_windows": int(tr.sum()), "test_windows": int(te.sum()),
                   "epochs": best_epochs, "val_mse_by_epoch": val_losses,
                   "parameters": n_params, "onnx_ops": ops, "test_1998": metrics,
                   "test_1998_up_day_share": dict(zip(INDICES, up_share.tolist())),
                   "test_1998_lstm_mse_reduction_percent_vs": mse_reduction,
                   "test_1998_lstm_forecast_actual_correlation": dict(zip(INDICES, corr)),
                   "test_1998_lstm_positive_forecast_share": dict(zip(INDICES, positive_share.tolist())),
                   "test_1998_forecast_std": dict(zip(INDICES, pred_std.tolist())),
                   "test_1998_actual_std": dict(zip(INDICES, actual_std.tolist()))}, f, indent=2)
        f.write("\n")

    print(f"train windows {tr.sum()}, test windows {te.sum()}, parameters {n_params}, "
          f"epochs {best_epochs}")
    print("ONNX ops:", " ".join(ops))
    print(f"test 1998 RMSE (log-return units):\n{'forecast':28s} "
          + " ".join(f"{k:>8s}" for k in INDICES) + "  overall  direction  DM(LSTM vs it)")
    for name, m in metrics.items():
        d = "n/a" if m["direction_overall"] is None else f"{m['direction_overall']:.3f}"
        dm = "" if m["dm_vs_lstm"] is None else f"{m['dm_vs_lstm']:+.2f}"
        print(f"{name:28s} " + " ".join(f"{m['rmse'][k]:8.5f}" for k in INDICES)
              + f"  {m['rmse_overall']:.5f}  {d:>9s}  {dm}")
    print("LSTM MSE reduction vs:", ", ".join(f"{k} {v:.2f}%" for k, v in mse_reduction.items()))
    print("LSTM forecast/actual correlation:", " ".join(f"{k} {v:.3f}" for k, v in zip(INDICES, corr)))
    print("up-day share 1998:", " ".join(f"{k} {v:.3f}" for k, v in zip(INDICES, up_share)))
    print("forecast std / actual std:",
          " ".join(f"{k} {a:.5f}/{b:.5f}" for k, a, b in zip(INDICES, pred_std, actual_std)))


if __name__ == "__main__":
    main()
