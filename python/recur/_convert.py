"""recur.convert: `recur convert` as a function (the same importers, options and self-check)."""
from __future__ import annotations

import os
from typing import Any, List

from . import _recur
from ._error import Error
from ._model import PathLike


def _option_names() -> List[str]:
    return sorted(n for n in dir(_recur.ConvertOptions) if not n.startswith("_"))


def _options(options: dict) -> Any:
    """`recur convert`'s options, set by name: unknown names and wrong types are errors."""
    opts = _recur.ConvertOptions()
    for key, value in options.items():
        if key not in _option_names():
            raise Error("invalid_argument",
                        f"convert: unknown option {key!r}; the options are {', '.join(_option_names())}")
        try:
            setattr(opts, key, value)
        except TypeError:
            raise Error("invalid_argument",
                        f"convert: option {key}={value!r} has the wrong type "
                        f"(expected {type(getattr(opts, key)).__name__})") from None
    return opts


def convert(src: PathLike, dst: PathLike, **options: Any) -> str:
    """Convert an ONNX, PyTorch (``.pt``/``.pth`` state_dict), ``.safetensors`` or Keras
    (``.keras``/``.h5``) model into a ``.recur`` file, exactly as ``recur convert SRC -o DST`` does.

    The model is written to a staged file next to ``dst``, loaded, run on a random input and
    compared with an fp64 evaluation of the source's own semantics, and only then renamed onto
    ``dst``; on any failure this raises and an existing ``dst`` is left as it was.
    Keras sources are read in a child process with memory and CPU-time caps (libhdf5 is not
    hardened against crafted files).

    Args:
        src: the source model.
        dst: the ``.recur`` file to write.
        **options: the CLI's options, with underscores: ``arch`` (``"lstm"``, ``"gru"``,
            ``"rnn"``, ``"lstm_v1"``), ``layers``, ``bidirectional``, ``proj_size``,
            ``batch_first``, ``nonlinearity``, ``prefix``, ``head`` (``"none"``, ``"linear"``),
            ``head_prefix``, ``softmax``, ``last_step``, ``name``, ``no_check``, ``check_atol``,
            ``check_rtol``. The state_dict options apply to ``.pt``/``.safetensors`` sources.
            ``batch_first=True`` / ``False`` is ``--batch-first`` / ``--time-major``, and
            ``last_step=True`` / ``False`` is ``--last-step`` / ``--every-step`` (None: unsaid).

    Returns:
        the summary the CLI prints: the layers found, what was inferred, the self-check's errors.

    Raises:
        recur.Error: an unreadable or unsupported source, a bad option, a failed self-check.
    """
    return _recur.convert_file(os.fspath(src), os.fspath(dst), _options(options))
