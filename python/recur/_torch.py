"""recur.from_torch: a live PyTorch module -> .recur, straight from its parameters.

The module's parameters go through the converter's state_dict path (the same code as
``recur convert model.pt``, with the architecture read off the module instead of inferred from
tensor names), so nothing is exported, pickled or executed from a file. The converted model is
then checked against the module's own forward pass, run in float64.
"""
from __future__ import annotations

import copy
import os
import shutil
import tempfile
from typing import Any, List, Optional, Tuple

import numpy as np

from . import _recur
from ._convert import _options
from ._error import Error
from ._model import Model, PathLike

_V1_GATES = ("f_gate", "i_gate", "c_cell", "o_gate")
_HEADS = (None, "every_step", "last_step")
_CHECK_T, _CHECK_B = 7, 2


def _is_lstm_v1(module: Any) -> bool:
    import torch.nn as nn
    return all(isinstance(getattr(module, g, None), nn.Linear) for g in _V1_GATES)


def _walk(module: Any, prefix: str = ""):
    """(key prefix, module) for the module and its descendants, not looking inside a recurrent one."""
    import torch.nn as nn
    yield prefix, module
    if isinstance(module, nn.RNNBase) or _is_lstm_v1(module):
        return
    for name, child in module.named_children():
        yield from _walk(child, f"{prefix}{name}.")


def _parts(module: Any) -> Tuple[str, Any, Optional[str]]:
    """(recurrent prefix, recurrent module, Linear head prefix or None); refuses anything else by name."""
    import torch.nn as nn
    recurrent: List[Tuple[str, Any]] = []
    linears: List[str] = []
    for prefix, sub in _walk(module):
        what = f"'{prefix[:-1]}' ({type(sub).__name__})" if prefix else f"the module ({type(sub).__name__})"
        if isinstance(sub, nn.RNNBase):
            if not isinstance(sub, (nn.LSTM, nn.GRU, nn.RNN)):
                raise Error("unsupported", f"from_torch: {what} is a recurrent module recur does not know")
            recurrent.append((prefix, sub))
        elif _is_lstm_v1(sub):
            recurrent.append((prefix, sub))
        elif isinstance(sub, nn.Linear):
            linears.append(prefix)
        elif list(sub.parameters(recurse=False)) or list(sub.buffers(recurse=False)):
            raise Error("unsupported",
                        f"from_torch: {what} holds parameters or buffers recur cannot place: it converts an "
                        "nn.LSTM, nn.GRU, nn.RNN or LSTM_v1, optionally followed by one nn.Linear head")
    if len(recurrent) != 1:
        names = ", ".join(f"'{p[:-1]}'" for p, _ in recurrent) or "none"
        raise Error("unsupported", f"from_torch: expected one recurrent module, found {len(recurrent)} ({names})")
    if len(linears) > 1:
        names = ", ".join(f"'{p[:-1]}'" for p in linears)
        raise Error("unsupported", f"from_torch: more than one nn.Linear ({names}); recur has one dense head")
    return recurrent[0][0], recurrent[0][1], linears[0] if linears else None


def _forward64(module: Any, x: np.ndarray) -> np.ndarray:
    """The module's own output for x, computed in float64 on a copy (its weights as stored)."""
    import torch
    m64 = copy.deepcopy(module).double().eval()
    try:
        with torch.no_grad():
            out = m64(torch.from_numpy(x.astype(np.float64)))
    except Exception as e:  # the module's forward is its own code: report what it raised
        raise Error("unsupported",
                    f"from_torch: the module's forward failed on a float input {x.shape}: {e}") from None
    if isinstance(out, (tuple, list)):
        out = out[0]
    return out.numpy()


def _state_dict(module: Any, prefixes: List[str]) -> List[Tuple[str, np.ndarray, str]]:
    """The float tensors under `prefixes` as (name, float32 array, source dtype)."""
    out = []
    for name, t in module.state_dict().items():
        if t.is_floating_point() and any(name.startswith(p) for p in prefixes):
            array = np.ascontiguousarray(t.detach().cpu().float().numpy())
            out.append((name, array, str(t.dtype).replace("torch.", "")))
    return out


def from_torch(module: Any, path: Optional[PathLike] = None, *, batch_first: Optional[bool] = None,
               head: Optional[str] = None, softmax: bool = False, name: Optional[str] = None,
               check: bool = True, precision: Optional[str] = None, threads: int = 1) -> Model:
    """Convert a live PyTorch module into a recur `Model` (and a ``.recur`` file).

    Takes an ``nn.LSTM``, ``nn.GRU`` or ``nn.RNN`` (any layers, bidirectional, ``proj_size``,
    ``batch_first``, ``bias=False``, ``nonlinearity``), a module holding one of them plus an
    optional ``nn.Linear`` head, or the seed's ``LSTM_v1`` (four Linears ``f_gate``, ``i_gate``,
    ``c_cell``, ``o_gate`` over ``[x_t, h_t]``). Anything else holding parameters is refused, by
    name. The parameters go through the same state_dict converter and fp64 self-check as
    ``recur convert model.pt``.

    Args:
        module: the ``torch.nn.Module``.
        path: where to write the ``.recur`` file; None: a temporary file, removed once loaded.
        batch_first: the model's default layout; None: the module's own (LSTM_v1 is batch-first).
        head: how the Linear head is applied, as the CLI's ``--last-step``: ``"every_step"``
            (``fc(out)``) or ``"last_step"`` (``fc(out[-1])`` / ``fc(out[:, -1])``); None: read
            off the rank of the module's own output. Only with an ``nn.Linear``.
        softmax: the module applies a softmax after the head.
        name: the model name stored in the file (default: the module's class name).
        check: run the module's own forward in float64 on a random input and require recur's
            output to match (abs 1e-5 + rel 1e-4): this catches a forward that computes more
            than recurrent layers, head and softmax.
        precision, threads: as for `Model`.

    Returns:
        the converted model, loaded.

    Raises:
        recur.Error: a module recur cannot express (naming the part), a bad option, or an output
            that differs from the module's own.
    """
    import torch.nn as nn
    if head not in _HEADS:
        raise Error("invalid_argument", f"from_torch: head={head!r}, expected None, 'every_step' or 'last_step'")
    if not isinstance(module, nn.Module):
        raise Error("invalid_argument", f"from_torch: {type(module).__name__} is not a torch.nn.Module")
    rnn_prefix, rnn, head_prefix = _parts(module)
    is_v1 = not isinstance(rnn, nn.RNNBase)
    own_batch_first = True if is_v1 else bool(rnn.batch_first)
    if is_v1 and batch_first is False:
        raise Error("unsupported", "from_torch: LSTM_v1 takes x as (B, T, I); batch_first=False cannot apply")
    layout_bf = own_batch_first if batch_first is None else bool(batch_first)
    input_size = rnn.input_size
    rng = np.random.default_rng(0)
    probe_shape = (_CHECK_B, _CHECK_T, input_size) if own_batch_first else (_CHECK_T, _CHECK_B, input_size)
    probe = rng.uniform(-1.0, 1.0, probe_shape).astype(np.float32)

    options = {"prefix": rnn_prefix, "name": name or type(module).__name__, "softmax": bool(softmax)}
    if is_v1:
        options["arch"] = "lstm_v1"
    else:
        options.update(arch={"LSTM": "lstm", "GRU": "gru"}.get(rnn.mode, "rnn"), layers=rnn.num_layers,
                       bidirectional=bool(rnn.bidirectional), batch_first=layout_bf,
                       proj_size=int(getattr(rnn, "proj_size", 0)))
        if isinstance(rnn, nn.RNN):
            options["nonlinearity"] = rnn.nonlinearity
    if head_prefix is None:
        if head is not None or softmax:
            raise Error("invalid_argument", "from_torch: head= and softmax= need an nn.Linear head; the module has none")
        options["head"] = "none"
    else:
        if head is None:
            rank = _forward64(module, probe).ndim
            if rank not in (2, 3):
                raise Error("unsupported", f"from_torch: the module's output has {rank} dimensions; "
                                           "expected 3 (a head at every step) or 2 (the last step)")
            head = "last_step" if rank == 2 else "every_step"
        options.update(head="linear", head_prefix=head_prefix, last_step=head == "last_step")

    tensors = _state_dict(module, [rnn_prefix] + ([head_prefix] if head_prefix else []))
    # Staged beside the destination (or in a temporary folder) and moved onto it only once
    # checked: a failure leaves an existing file at `path` as it was.
    dest = os.fspath(path) if path is not None else None
    tmp = tempfile.mkdtemp(prefix=".recur-", dir=os.path.dirname(os.path.abspath(dest)) if dest else None)
    staged = os.path.join(tmp, "model.recur")
    try:
        _recur.convert_state_dict(tensors, f"<{type(module).__name__}>", staged, _options(options))
        model = Model(staged, precision=precision, threads=threads)
        if check:
            _check_against_module(model, module, probe, own_batch_first, layout_bf)
        if dest is None:
            model.info()  # read while the file exists
        else:
            os.replace(staged, dest)
            model._path = dest
        return model
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _check_against_module(model: Model, module: Any, probe: np.ndarray, own_bf: bool, layout_bf: bool) -> None:
    """recur's output on `probe` against the module's own fp64 forward."""
    expect = _forward64(module, probe)
    x = probe if own_bf == layout_bf else np.ascontiguousarray(probe.transpose(1, 0, 2))
    got = model.run(x).y
    if expect.ndim == 3 and own_bf != layout_bf:
        expect = expect.transpose(1, 0, 2)
    tolerance = 1e-5 + 1e-4 * np.abs(expect) if expect.shape == got.shape else None
    if tolerance is None or not np.all(np.abs(got - expect) <= tolerance):
        detail = (f"shape {got.shape} vs the module's {expect.shape}" if tolerance is None
                  else f"max abs error {np.max(np.abs(got - expect)):.3g}")
        raise Error("invalid_model",
                    f"from_torch: the converted model differs from the module's own forward ({detail}): its "
                    "forward computes something besides the recurrent layers, the head and softmax "
                    "(check head= and softmax=)")
