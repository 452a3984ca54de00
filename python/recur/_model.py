"""recur.Model: a loaded .recur file, run on NumPy arrays (whole sequences or one step at a time)."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple, Union

import numpy as np

from . import _recur
from ._error import Error

PathLike = Union[str, "os.PathLike[str]"]

_INT32_MAX = np.iinfo(np.int32).max


def _float32(value: Any, what: str) -> np.ndarray:
    """`value` as a C-contiguous float32 array; an array that already is one is used as it is.

    Arrays (NumPy, or anything with ``__array__`` such as a CPU torch tensor) must already be
    float32, as in ONNX Runtime: recur does not round float64 input behind the caller's back.
    Nested lists and scalars are read as float32.
    """
    if isinstance(value, np.ndarray) or hasattr(value, "__array__"):
        array = np.asarray(value)
        if array.dtype != np.float32:
            raise Error("invalid_argument",
                        f"{what}: dtype {array.dtype}, expected float32 (use .astype(numpy.float32))")
    else:
        try:
            array = np.asarray(value, dtype=np.float32)
        except (TypeError, ValueError) as e:
            raise Error("invalid_argument", f"{what}: not an array of numbers ({e})") from None
    return np.ascontiguousarray(array)


def _lengths(value: Any) -> np.ndarray:
    """Per-sequence lengths as a C-contiguous int32 array (recur checks each is in [0, T])."""
    array = np.asarray(value)
    if array.dtype.kind not in "iu":
        raise Error("invalid_argument", f"lengths: dtype {array.dtype}, expected integers")
    if array.size and (array.min() < 0 or array.max() > _INT32_MAX):
        raise Error("invalid_argument",
                    f"lengths: values from {array.min()} to {array.max()}, expected 0 <= length <= T")
    return np.ascontiguousarray(array, dtype=np.int32)


@dataclass(frozen=True)
class RunResult:
    """What `Model.run` returns.

    Attributes:
        y: the output, ``(T, B, output_size)`` time-major or ``(B, T, output_size)`` batch-first
            (the layout asked for; by default the model's own), or ``(B, output_size)`` for a
            last-step head.
        h_n: the final hidden state of every layer and direction, ``(L*D, B, Hout)``.
        c_n: the final LSTM cell state, ``(L*D, B, H)``; None for a model without LSTM layers.

    Where an array is expected (``numpy.asarray(result)``, ``result.shape``) the result stands
    for ``y``.
    """

    y: np.ndarray
    h_n: np.ndarray
    c_n: Optional[np.ndarray]

    @property
    def shape(self) -> Tuple[int, ...]:
        """The shape of ``y``."""
        return self.y.shape

    def __array__(self, dtype: Any = None, copy: Optional[bool] = None) -> np.ndarray:
        return self.y if dtype is None else self.y.astype(dtype)


class State:
    """The recurrent state of a batch of streams, advanced by `Model.step`.

    Made by `Model.new_state`; belongs to that model. One thread at a time may use a State
    (another thread stepping it meanwhile gets a `recur.Error`); give each stream or thread its own.
    """

    def __init__(self, model: "Model", native: Any) -> None:
        self._model = model
        self._native = native

    @property
    def batch(self) -> int:
        """The number of streams this state holds."""
        return self._native.batch

    def reset(self) -> None:
        """Set h (and c) back to zeros."""
        self._native.reset()

    def get(self) -> Tuple[np.ndarray, Optional[np.ndarray]]:
        """A copy of ``(h, c)``, shaped like `RunResult.h_n` and `RunResult.c_n` (c None without LSTM)."""
        return self._model._native.state_get(self._native)

    def set(self, h: Any, c: Any = None) -> None:
        """Set the state from arrays shaped like run's ``h0`` ``(L*D, B, Hout)`` and ``c0`` ``(L*D, B, H)``."""
        self._model._native.state_set(self._native, _float32(h, "h"),
                                      None if c is None else _float32(c, "c"))


class Model:
    """A .recur model, loaded, validated and packed once; safe to share between threads.

    Args:
        path: the .recur file.
        precision: how the weights are kept once loaded. None: as the file stores them.
            ``"f32"``: fp32. ``"bf16"``: the recurrent matrices rounded to bfloat16 (half the bytes
            per step; results are those of the model with R rounded so, every product and sum in
            fp32; recur's ``LoadOptions::recurrent_weights``). `recur.PRECISIONS` lists the names
            this build accepts.
        threads: threads per `run`/`step` call; 0 = all CPUs available to the process.

    Raises:
        recur.Error: the file is missing, corrupt or not a model recur can run; a bad option.
    """

    def __init__(self, path: PathLike, *, precision: Optional[str] = None, threads: int = 1) -> None:
        if precision is not None and not isinstance(precision, str):
            raise Error("invalid_argument", f"precision: {precision!r}, expected None or a name")
        if isinstance(threads, bool) or not isinstance(threads, int):
            raise Error("invalid_argument", f"threads: {threads!r}, expected an int")
        self._path = os.fspath(path)
        self._precision = precision
        self._threads = threads
        self._native = _recur.Model(self._path, precision, threads)
        self._info: Optional[Dict[str, Any]] = None

    @property
    def path(self) -> str:
        """The file the model was loaded from."""
        return self._path

    @property
    def input_size(self) -> int:
        """Features per time step of x (I)."""
        return self._native.input_size

    @property
    def output_size(self) -> int:
        """Width of y per step (or per sequence for a last-step head)."""
        return self._native.output_size

    @property
    def batch_first(self) -> bool:
        """The model's own layout: True for ``(B, T, .)``, False for ``(T, B, .)``."""
        return self._native.batch_first

    @property
    def isa(self) -> str:
        """The instruction set the kernels use: ``"avx512"``, ``"avx2"`` or ``"scalar"``."""
        return self._native.isa

    def run(self, x: Any, lengths: Any = None, h0: Any = None, c0: Any = None, *,
            batch_first: Optional[bool] = None) -> RunResult:
        """Run whole sequences.

        Args:
            x: float32, ``(T, B, input_size)``, or ``(B, T, input_size)`` when batch-first. A
                C-contiguous float32 array is used without a copy.
            lengths: optional integers ``(B,)``, each in [0, T]: sequence b takes steps
                0..lengths[b]-1 only; its outputs past that are zero, its final state the one after
                its own last step (ONNX semantics).
            h0: optional initial hidden state ``(L*D, B, Hout)``; zeros if None.
            c0: optional initial LSTM cell state ``(L*D, B, H)``; zeros if None.
            batch_first: the layout of x and y; None = the model's own (`Model.batch_first`).

        Returns:
            a `RunResult` with ``y``, ``h_n`` and ``c_n``.

        Raises:
            recur.Error: wrong dtype or shape, NaN or Inf in an input, lengths out of range.

        The GIL is released while recur computes: threads sharing one Model run in parallel.
        """
        y, h_n, c_n = self._native.run(
            _float32(x, "x"), None if lengths is None else _lengths(lengths),
            None if h0 is None else _float32(h0, "h0"), None if c0 is None else _float32(c0, "c0"),
            batch_first)
        return RunResult(y, h_n, c_n)

    def new_state(self, batch: int = 1) -> State:
        """A zero `State` for ``batch`` streams, for `step`.

        Raises:
            recur.Error: batch < 1, or the model has reverse or bidirectional layers.
        """
        return State(self, self._native.new_state(batch))

    def step(self, state: State, x: Any) -> np.ndarray:
        """Advance every stream in ``state`` by one time step.

        Args:
            state: from `new_state` of this model; updated in place.
            x: float32 ``(batch, input_size)``, one row per stream.

        Returns:
            y ``(batch, output_size)``. T steps equal one `run` of T steps bit for bit (a
            last-step head is applied at every step).

        The GIL is released while recur computes.
        """
        if not isinstance(state, State):
            raise Error("invalid_argument", f"state: {type(state).__name__}, expected a recur.State")
        return self._native.step(state._native, _float32(x, "x"))

    def info(self) -> Dict[str, Any]:
        """What ``recur inspect --json`` shows: format version, sizes, checksum, metadata, layers
        (the head as a ``"dense"`` layer) and the tensor table. Read from the file on first use."""
        if self._info is None:
            self._info = json.loads(_recur.inspect_json(self._path))
        return self._info

    def __repr__(self) -> str:
        return (f"recur.Model({self._path!r}, input_size={self.input_size}, output_size={self.output_size}, "
                f"precision={self._precision!r}, threads={self._threads})")
