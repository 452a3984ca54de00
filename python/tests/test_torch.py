"""recur.from_torch on every module kind against the module's own fp64 output; plain LSTM/GRU/RNN
also against converting the module's ONNX export; the committed .pt fixtures; refusals by name."""
import copy
import json
import os

import numpy as np
import pytest

import recur
from conftest import CONVERT_FIXTURES, assert_close

torch = pytest.importorskip("torch")
nn = torch.nn


class Net(nn.Module):
    """rnn -> optional Linear (every step or last step) -> optional softmax, as users write it."""

    def __init__(self, rnn, head_out=0, softmax=False, last_step=False):
        super().__init__()
        self.rnn = rnn
        width = (rnn.proj_size or rnn.hidden_size) if isinstance(rnn, nn.LSTM) else rnn.hidden_size
        width *= 2 if rnn.bidirectional else 1
        self.fc = nn.Linear(width, head_out) if head_out else None
        self.softmax = softmax
        self.last_step = last_step

    def forward(self, x):
        y, _ = self.rnn(x)
        if self.last_step:
            y = y[:, -1] if self.rnn.batch_first else y[-1]
        if self.fc is not None:
            y = self.fc(y)
        return torch.softmax(y, dim=-1) if self.softmax else y


class LSTM_v1(nn.Module):
    """The seed's hand-written LSTM: four Linears over [x_t, h_t], batch-first."""

    def __init__(self, input_sz, hidden_sz):
        super().__init__()
        self.input_size, self.hidden_size = input_sz, hidden_sz
        self.f_gate = nn.Linear(input_sz + hidden_sz, hidden_sz)
        self.i_gate = nn.Linear(input_sz + hidden_sz, hidden_sz)
        self.c_cell = nn.Linear(input_sz + hidden_sz, hidden_sz)
        self.o_gate = nn.Linear(input_sz + hidden_sz, hidden_sz)

    def forward(self, x):
        bs, seq_sz, _ = x.size()
        h_t = torch.zeros(bs, self.hidden_size, dtype=x.dtype)
        c_t = torch.zeros(bs, self.hidden_size, dtype=x.dtype)
        hidden_seq = []
        for t in range(seq_sz):
            input_t = torch.cat([x[:, t, :], h_t], dim=-1)
            f_t = torch.sigmoid(self.f_gate(input_t))
            i_t = torch.sigmoid(self.i_gate(input_t))
            g_t = torch.tanh(self.c_cell(input_t))
            c_t = f_t * c_t + i_t * g_t
            h_t = torch.sigmoid(self.o_gate(input_t)) * torch.tanh(c_t)
            hidden_seq.append(h_t.unsqueeze(1))
        return torch.cat(hidden_seq, dim=1), (h_t, c_t)


def randomized(module, seed=3):
    """Weights in [-0.8, 0.8] (wider than PyTorch's default, so a wrong gate order shows)."""
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.uniform_(-0.8, 0.8)
    return module.eval()


def forward64(module, x):
    with torch.no_grad():
        out = copy.deepcopy(module).double()(torch.from_numpy(x).double())
    return (out[0] if isinstance(out, tuple) else out).numpy()


def inputs(module_or_rnn, T=9, B=3, batch_first=False, seed=0):
    I = module_or_rnn.input_size
    shape = (B, T, I) if batch_first else (T, B, I)
    return np.random.default_rng(seed).uniform(-1.5, 1.5, shape).astype(np.float32)


KINDS = {
    "lstm": lambda: nn.LSTM(5, 7),
    "lstm_2l_bidir": lambda: nn.LSTM(4, 6, num_layers=2, bidirectional=True),
    "lstm_proj_batch_first": lambda: nn.LSTM(4, 9, proj_size=3, batch_first=True),
    "lstm_nobias": lambda: nn.LSTM(3, 5, bias=False),
    "gru": lambda: nn.GRU(5, 6),
    "gru_3l_bidir_batch_first": lambda: nn.GRU(3, 5, num_layers=3, bidirectional=True, batch_first=True),
    "rnn_tanh": lambda: nn.RNN(4, 6),
    "rnn_relu_2l": lambda: nn.RNN(4, 5, num_layers=2, nonlinearity="relu"),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_plain_module_equals_its_fp64_output(kind, tmp_path):
    rnn = randomized(KINDS[kind]())
    model = recur.from_torch(rnn, tmp_path / "m.recur")
    x = inputs(rnn, batch_first=rnn.batch_first)
    assert model.batch_first == rnn.batch_first
    r = model.run(x)
    assert_close(r.y, forward64(rnn, x))
    with torch.no_grad():
        _, state = copy.deepcopy(rnn).double()(torch.from_numpy(x).double())
    h_n = state[0] if isinstance(state, tuple) else state
    assert_close(r.h_n, h_n.numpy())
    if isinstance(rnn, nn.LSTM):
        assert_close(r.c_n, state[1].numpy())
    else:
        assert r.c_n is None


@pytest.mark.parametrize("kind", ["lstm", "lstm_2l_bidir", "gru", "gru_3l_bidir_batch_first", "rnn_relu_2l"])
def test_plain_module_equals_its_onnx_export(kind, tmp_path):
    rnn = randomized(KINDS[kind]())
    x = inputs(rnn, batch_first=rnn.batch_first)
    onnx_path = tmp_path / "m.onnx"
    axes = {0: "b", 1: "t"} if rnn.batch_first else {0: "t", 1: "b"}
    torch.onnx.export(rnn, torch.from_numpy(x), str(onnx_path), input_names=["x"], output_names=["y", "h"],
                      opset_version=14, dynamic_axes={"x": axes})
    recur.convert(onnx_path, tmp_path / "onnx.recur")
    via_onnx = recur.Model(tmp_path / "onnx.recur").run(x)
    direct = recur.from_torch(rnn).run(x)
    assert_close(direct.y, via_onnx.y, atol=1e-6, rtol=1e-6)
    assert_close(direct.h_n, via_onnx.h_n, atol=1e-6, rtol=1e-6)


HEADS = {
    "lstm_head_every_step": lambda: Net(nn.LSTM(5, 8, num_layers=2, bidirectional=True), head_out=3),
    "gru_head_last_step_softmax": lambda: Net(nn.GRU(4, 6, batch_first=True), head_out=5, softmax=True,
                                              last_step=True),
    "rnn_head_last_step": lambda: Net(nn.RNN(4, 6, num_layers=3), head_out=2, last_step=True),
    "lstm_proj_head": lambda: Net(nn.LSTM(4, 6, proj_size=3, bidirectional=True), head_out=2),
}


@pytest.mark.parametrize("kind", sorted(HEADS))
def test_module_with_linear_head_equals_its_fp64_output(kind, tmp_path):
    net = randomized(HEADS[kind]())
    model = recur.from_torch(net, tmp_path / "m.recur", softmax=net.softmax)  # head read off the output
    x = inputs(net.rnn, batch_first=net.rnn.batch_first)
    assert_close(model.run(x).y, forward64(net, x))
    layers = model.info()["layers"]
    assert layers[-1]["type"] == "dense" and layers[-1]["last_step_only"] == net.last_step


def test_head_named_explicitly_and_wrongly(tmp_path):
    net = randomized(Net(nn.LSTM(4, 6), head_out=3, last_step=True))
    x = inputs(net.rnn)
    model = recur.from_torch(net, head="last_step")
    assert_close(model.run(x).y, forward64(net, x))
    (tmp_path / "wrong.recur").write_bytes(b"kept")
    with pytest.raises(recur.Error) as e:  # every step: not what the module computes
        recur.from_torch(net, tmp_path / "wrong.recur", head="every_step")
    assert e.value.code == "invalid_model" and "differs from the module's own forward" in e.value.message
    assert (tmp_path / "wrong.recur").read_bytes() == b"kept"  # an existing file is left as it was
    assert sorted(os.listdir(tmp_path)) == ["wrong.recur"]


def test_lstm_v1(tmp_path):
    v1 = randomized(LSTM_v1(5, 7))
    model = recur.from_torch(v1, tmp_path / "v1.recur")
    x = inputs(v1, batch_first=True)
    assert model.batch_first
    assert_close(model.run(x).y, forward64(v1, x))


def test_batch_first_override_keeps_the_math(tmp_path):
    rnn = randomized(nn.GRU(4, 5))
    model = recur.from_torch(rnn, batch_first=True)
    x = inputs(rnn)
    assert model.batch_first
    y = model.run(np.ascontiguousarray(x.transpose(1, 0, 2))).y
    assert_close(y.transpose(1, 0, 2), forward64(rnn, x))


PT_CASES = {  # committed .pt fixtures and the module each was saved from
    "pt_lstm_1l": lambda: Net(nn.LSTM(5, 7)),
    "pt_lstm_2l_bidir_head": lambda: Net(nn.LSTM(5, 8, num_layers=2, bidirectional=True), head_out=3),
    "pt_gru_batch_first_softmax_last": lambda: Net(nn.GRU(4, 6, num_layers=2, batch_first=True), head_out=5,
                                                   softmax=True, last_step=True),
    "pt_rnn_relu_bidir": lambda: Net(nn.RNN(3, 5, nonlinearity="relu", bidirectional=True)),
    "pt_lstm_proj_2l": lambda: Net(nn.LSTM(6, 9, num_layers=2, proj_size=4)),
    "lstm_v1": lambda: LSTM_v1(5, 7),
}


@pytest.mark.parametrize("name", sorted(PT_CASES))
def test_committed_state_dicts(name, tmp_path):
    """Load the fixture's state_dict into its module: from_torch and recur.convert of the .pt
    both reproduce the fixture's expected output (the module's fp64 output when it was made)."""
    d = os.path.join(CONVERT_FIXTURES, name)
    with open(os.path.join(d, "case.json")) as f:
        case = json.load(f)
    module = PT_CASES[name]()
    module.load_state_dict(torch.load(os.path.join(d, "model.pt")))
    module.eval()
    x, y = np.load(os.path.join(d, "x.npy")), np.load(os.path.join(d, "y.npy"))
    softmax = getattr(module, "softmax", False)
    assert_close(recur.from_torch(module, softmax=softmax).run(x).y, y)
    recur.convert(os.path.join(d, "model.pt"), tmp_path / "cli.recur", **case["args"])
    assert_close(recur.Model(tmp_path / "cli.recur").run(x).y, y)


class TwoRnns(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.LSTM(3, 4), nn.GRU(4, 4)


class WithEmbedding(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb, self.rnn = nn.Embedding(10, 3), nn.LSTM(3, 4)


class TwoLinears(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn, self.fc1, self.fc2 = nn.LSTM(3, 4), nn.Linear(4, 4), nn.Linear(4, 2)


class ReluAfterRnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(3, 4)

    def forward(self, x):
        return torch.relu(self.rnn(x)[0] - 0.5)


@pytest.mark.parametrize("module, code, words", [
    (TwoRnns(), "unsupported", "expected one recurrent module, found 2 ('a', 'b')"),
    (WithEmbedding(), "unsupported", "'emb' (Embedding) holds parameters"),
    (TwoLinears(), "unsupported", "more than one nn.Linear ('fc1', 'fc2')"),
    (nn.Linear(3, 4), "unsupported", "expected one recurrent module, found 0"),
    (ReluAfterRnn(), "invalid_model", "differs from the module's own forward"),
])
def test_refuses_what_it_cannot_express(module, code, words):
    with pytest.raises(recur.Error) as e:
        recur.from_torch(randomized(module))
    assert e.value.code == code
    assert words in e.value.message


def test_bad_arguments():
    with pytest.raises(recur.Error, match="head='sometimes'"):
        recur.from_torch(nn.LSTM(3, 4), head="sometimes")
    with pytest.raises(recur.Error, match="need an nn.Linear head"):
        recur.from_torch(nn.LSTM(3, 4), head="last_step")
    with pytest.raises(recur.Error, match="not a torch.nn.Module"):
        recur.from_torch(np.zeros(3))
