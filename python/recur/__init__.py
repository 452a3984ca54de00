"""recur: an inference runtime for recurrent networks (RNN, LSTM, GRU) on CPUs.

    import recur
    recur.convert("model.onnx", "model.recur")        # or recur.from_torch(module, "model.recur")
    model = recur.Model("model.recur")
    y = model.run(x).y                                 # x: float32 (T, B, I), or (B, T, I) batch-first

Every failure raises `recur.Error` (a ValueError) with recur's error code and message.
"""
from ._error import Error
from ._model import Model, RunResult, State
from ._convert import convert
from ._torch import from_torch
from . import _recur

__version__: str = _recur.__version__
"""recur's version (the C++ library's and the package's)."""

PRECISIONS = tuple(_recur.precisions())
"""The names `Model(precision=...)` accepts besides None (the file's own)."""

__all__ = ["Error", "Model", "RunResult", "State", "convert", "from_torch", "PRECISIONS", "__version__"]
