"""Checks forecaster.onnx with an independent runtime (onnxruntime) against PyTorch running the
committed forecaster.pt: the 1998 test set (169, 30, 4) -> expected_1998.npy (169, 4), then the
dynamic axes (batch 1; batch 7 with sequence length 12; batch 2 with sequence length 90).

onnxruntime comes from PyPI; a venv that also sees Debian's torch and numpy is enough:
    /usr/bin/python3 -m venv --system-site-packages /tmp/ortenv
    /tmp/ortenv/bin/pip install onnxruntime==1.20.1   # a release that accepts Debian's numpy 1.24
    /tmp/ortenv/bin/python examples/forecaster/check_onnx.py
Tolerance: fp32, abs 1e-5 + rel 1e-4 (the project's rule).
"""
import os
import sys

import numpy as np
import onnxruntime as ort
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train import HERE, Forecaster  # noqa: E402  (the module class; training does not run)

ABS_TOL, REL_TOL = 1e-5, 1e-4


def close(name, got, want):
    err = np.abs(got - want)
    ok = bool(np.all(err <= ABS_TOL + REL_TOL * np.abs(want)))
    print(f"{name:44s} {str(tuple(got.shape)):10s} max abs err {err.max():.2e}  {'ok' if ok else 'FAIL'}")
    return ok


def main():
    sess = ort.InferenceSession(os.path.join(HERE, "forecaster.onnx"),
                                providers=["CPUExecutionProvider"])
    model = Forecaster()
    model.load_state_dict(torch.load(os.path.join(HERE, "forecaster.pt"), map_location="cpu"))
    model.eval()

    def torch_y(x):
        with torch.no_grad():
            return model(torch.from_numpy(x)).numpy()

    x = np.load(os.path.join(HERE, "test_1998.npy"))             # (169, 30, 4) f32
    expected = np.load(os.path.join(HERE, "expected_1998.npy"))  # (169, 4) f32
    ok = close("onnxruntime vs expected_1998.npy", sess.run(["y"], {"x": x})[0], expected)
    ok &= close("PyTorch(.pt) vs expected_1998.npy", torch_y(x), expected)
    rng = np.random.default_rng(7)
    for name, xs in [("batch 1", x[:1]),
                     ("batch 7, seq 12", np.ascontiguousarray(x[3:10, -12:])),
                     ("batch 2, seq 90 (random normal)", rng.standard_normal((2, 90, 4)).astype(np.float32))]:
        ok &= close(f"onnxruntime vs PyTorch, {name}", sess.run(["y"], {"x": xs})[0], torch_y(xs))
    print("all ok" if ok else "MISMATCH")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
