"""recur.Model: run, step, state, layout, precision, info, version, and the errors of each."""
import importlib.metadata
import os
import re

import numpy as np
import pytest

import recur
from conftest import CONVERT_FIXTURES, ROOT, assert_close, case_args


def x_for(model, T=6, B=3, seed=1):
    shape = (B, T, model.input_size) if model.batch_first else (T, B, model.input_size)
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32)


def converted(tmp_path, case):
    """A committed fixture converted with its case.json options."""
    out = tmp_path / f"{case}.recur"
    src = [f for f in os.listdir(os.path.join(CONVERT_FIXTURES, case)) if f.startswith("model.")][0]
    recur.convert(os.path.join(CONVERT_FIXTURES, case, src), out, **case_args(case))
    return str(out)


def test_version_is_the_cpp_version():
    with open(os.path.join(ROOT, "CMakeLists.txt")) as f:
        cmake_version = re.search(r"project\(recur VERSION ([0-9.]+)", f.read()).group(1)
    assert recur.__version__ == cmake_version
    assert importlib.metadata.version("recur") == cmake_version


def test_run_matches_the_fixture_and_result_fields(lstm_file):
    m = recur.Model(lstm_file)
    d = os.path.join(CONVERT_FIXTURES, "pt_lstm_1l")
    x = np.load(os.path.join(d, "x.npy"))
    r = m.run(x)
    assert_close(r.y, np.load(os.path.join(d, "y.npy")))
    assert r.shape == r.y.shape == (x.shape[0], x.shape[1], m.output_size)
    assert np.asarray(r) is r.y
    assert r.h_n.shape == (1, x.shape[1], 7) and r.c_n.shape == (1, x.shape[1], 7)
    assert_close(r.h_n[0], r.y[-1], atol=0, rtol=0)
    assert (m.input_size, m.output_size, m.batch_first) == (5, 7, False)
    assert m.isa in ("avx512", "avx2", "scalar")


def test_gru_has_no_c_n(tmp_path):
    m = recur.Model(converted(tmp_path, "pt_gru_3l_bidir"))
    r = m.run(x_for(m))
    assert r.c_n is None and r.h_n.shape == (6, 3, 5)


def test_layout_default_is_the_models_own_and_can_be_overridden(tmp_path):
    m = recur.Model(converted(tmp_path, "pt_gru_batch_first_softmax_last"))
    assert m.batch_first
    x = x_for(m, T=5, B=4)  # (B, T, I)
    y = m.run(x).y
    assert y.shape == (4, m.output_size)
    y_tm = m.run(np.ascontiguousarray(x.transpose(1, 0, 2)), batch_first=False).y
    np.testing.assert_array_equal(y, y_tm)


def test_lengths_h0_c0(lstm_file):
    """A sequence of length L < T equals running its first L steps alone; h0/c0 equal stepping on."""
    m = recur.Model(lstm_file)
    x = x_for(m, T=8, B=3)
    lengths = np.array([8, 3, 0])
    r = m.run(x, lengths=lengths)
    short = m.run(x[:3, 1:2])
    assert_close(r.y[:3, 1], short.y[:, 0], atol=0, rtol=0)
    assert np.all(r.y[3:, 1] == 0) and np.all(r.y[:, 2] == 0)
    assert_close(r.h_n[:, 1], short.h_n[:, 0], atol=0, rtol=0)
    first, rest = m.run(x[:4]), None
    rest = m.run(x[4:], h0=first.h_n, c0=first.c_n)
    whole = m.run(x)
    assert_close(rest.y, whole.y[4:])
    assert_close(rest.h_n, whole.h_n)


def test_step_loop_equals_run_bit_for_bit(tmp_path):
    for case in ["pt_lstm_proj_2l", "pt_rnn_tanh_3l_head", "pt_gru_batch_first_softmax_last"]:
        m = recur.Model(converted(tmp_path, case))
        x = x_for(m, T=7, B=4)
        xt = x.transpose(1, 0, 2) if m.batch_first else x  # (T, B, I)
        state = m.new_state(4)
        ys = np.stack([m.step(state, np.ascontiguousarray(xt[t])) for t in range(xt.shape[0])])
        r = m.run(np.ascontiguousarray(xt), batch_first=False)
        np.testing.assert_array_equal(ys[-1] if r.y.ndim == 2 else ys, r.y)  # a last-step head: y (B, O)
        h, c = state.get()
        np.testing.assert_array_equal(h, r.h_n)
        if r.c_n is not None:
            np.testing.assert_array_equal(c, r.c_n)


def test_state_get_set_reset(lstm_file):
    m = recur.Model(lstm_file)
    x = x_for(m, T=5, B=2)
    s = m.new_state(2)
    assert s.batch == 2
    for t in range(3):
        m.step(s, x[t])
    h, c = s.get()
    s2 = m.new_state(2)
    s2.set(h, c)
    np.testing.assert_array_equal(m.step(s, x[3]), m.step(s2, x[3]))
    s.reset()
    fresh = m.new_state(2)
    np.testing.assert_array_equal(m.step(s, x[0]), m.step(fresh, x[0]))


def test_precision(lstm_file):
    assert set(recur.PRECISIONS) >= {"f32", "bf16"}
    x = x_for(recur.Model(lstm_file))
    y32 = recur.Model(lstm_file).run(x).y
    np.testing.assert_array_equal(recur.Model(lstm_file, precision="f32").run(x).y, y32)
    y16 = recur.Model(lstm_file, precision="bf16").run(x).y
    # R rounded to bf16 (8 significant bits): measurably different, within a few 1e-3 here.
    assert 0 < np.max(np.abs(y16 - y32)) < 2e-2
    with pytest.raises(recur.Error) as e:
        recur.Model(lstm_file, precision="fp8")
    assert e.value.code == "invalid_argument" and "'bf16'" in e.value.message


def test_threads_option(lstm_file):
    x = x_for(recur.Model(lstm_file), T=6, B=16)
    y1 = recur.Model(lstm_file, threads=1).run(x).y
    np.testing.assert_array_equal(recur.Model(lstm_file, threads=0).run(x).y, y1)
    np.testing.assert_array_equal(recur.Model(lstm_file, threads=2).run(x).y, y1)
    with pytest.raises(recur.Error):
        recur.Model(lstm_file, threads=-1)


def test_info_is_inspect_json(lstm_file):
    info = recur.Model(lstm_file).info()
    assert info["format_version"] == "1.1"  # the lowest version that holds a plain model
    assert info["file_size"] == os.path.getsize(lstm_file)
    assert info["input_size"] == 5 and info["output_size"] == 7
    assert [l["type"] for l in info["layers"]] == ["lstm"]
    assert {t["name"] for t in info["tensors"]} >= {"layers.0.forward.W", "layers.0.forward.R"}


def test_inputs_non_float32_lists_and_views(lstm_file):
    m = recur.Model(lstm_file)
    x = x_for(m, T=4, B=2)
    y = m.run(x).y
    np.testing.assert_array_equal(m.run(x.tolist()).y, y)  # nested lists are read as float32
    wide = np.zeros((4, 2, 10), np.float32)
    wide[:, :, ::2] = x
    np.testing.assert_array_equal(m.run(wide[:, :, ::2]).y, y)  # a strided view is copied
    with pytest.raises(recur.Error) as e:
        m.run(x.astype(np.float64))
    assert e.value.code == "invalid_argument" and "float64" in e.value.message
    assert isinstance(e.value, ValueError)


@pytest.mark.parametrize("call, code, words", [
    (lambda m, x: m.run(x[:, :, :3]), "invalid_argument", "x: shape (4, 2, 3), expected (4, 2, 5)"),
    (lambda m, x: m.run(x[0]), "invalid_argument", "expected 3 dimensions"),
    (lambda m, x: m.run(np.where(x > 0.5, np.nan, x).astype(np.float32)), "non_finite", "x"),
    (lambda m, x: m.run(x, lengths=[4, 5]), "invalid_argument", "length"),
    (lambda m, x: m.run(x, lengths=[4, -1]), "invalid_argument", "lengths"),
    (lambda m, x: m.run(x, lengths=[4.0, 1.0]), "invalid_argument", "expected integers"),
    (lambda m, x: m.run(x, lengths=[1, 2, 3]), "invalid_argument", "lengths: shape (3), expected (2)"),
    (lambda m, x: m.run(x, h0=np.zeros((1, 2, 6), np.float32)), "invalid_argument", "h0: shape (1, 2, 6)"),
    (lambda m, x: m.run(x, c0=np.zeros((2, 2, 7), np.float32)), "invalid_argument", "c0: shape"),
    (lambda m, x: m.run(x[:0]), "invalid_argument", ""),
    (lambda m, x: m.run([["a"]]), "invalid_argument", "not an array of numbers"),
    (lambda m, x: m.step(m.new_state(2), x[0, :1]), "invalid_argument", "x: shape (1, 5), expected (2, 5)"),
    (lambda m, x: m.step("state", x[0]), "invalid_argument", "expected a recur.State"),
    (lambda m, x: m.new_state(0), "invalid_argument", "batch"),
])
def test_bad_inputs_raise_recur_error(lstm_file, call, code, words):
    m = recur.Model(lstm_file)
    x = x_for(m, T=4, B=2)
    with pytest.raises(recur.Error) as e:
        call(m, x)
    assert e.value.code == code, e.value
    assert words in e.value.message


def test_state_of_another_model_and_step_on_bidirectional(tmp_path, lstm_file):
    a, b = recur.Model(lstm_file), recur.Model(lstm_file)
    with pytest.raises(recur.Error, match="another Model"):
        a.step(b.new_state(1), np.zeros((1, 5), np.float32))
    bidir = recur.Model(converted(tmp_path, "pt_rnn_relu_bidir"))
    with pytest.raises(recur.Error) as e:
        bidir.new_state(1)
    assert e.value.code == "unsupported"


def test_bad_files(tmp_path):
    with pytest.raises(recur.Error) as e:
        recur.Model(tmp_path / "missing.recur")
    assert e.value.code == "io" and "missing.recur" in e.value.message
    junk = tmp_path / "junk.recur"
    junk.write_bytes(b"not a model at all" * 8)
    with pytest.raises(recur.Error) as e:
        recur.Model(junk)
    assert e.value.code == "bad_magic"


def test_truncated_file(tmp_path, lstm_file):
    data = open(lstm_file, "rb").read()
    cut = tmp_path / "cut.recur"
    cut.write_bytes(data[: len(data) - 100])
    with pytest.raises(recur.Error) as e:
        recur.Model(cut)
    assert e.value.code == "truncated"


def test_convert_summary_and_errors(tmp_path):
    src = os.path.join(CONVERT_FIXTURES, "pt_lstm_1l", "model.pt")
    summary = recur.convert(src, tmp_path / "a.recur", name="mine", batch_first=False)
    assert "summary: 1 recurrent layer(s)" in summary and "— ok" in summary
    assert recur.Model(tmp_path / "a.recur").info()["name"] == "mine"
    with pytest.raises(recur.Error) as e:
        recur.convert(src, tmp_path / "b.recur", arch="rnn", batch_first=False)
    assert e.value.code == "invalid_model" and not (tmp_path / "b.recur").exists()
    with pytest.raises(recur.Error, match="unknown option 'colour'"):
        recur.convert(src, tmp_path / "c.recur", colour="red")
    with pytest.raises(recur.Error, match="wrong type"):
        recur.convert(src, tmp_path / "c.recur", layers="two")
    (tmp_path / "d.recur").write_bytes(b"kept")
    with pytest.raises(recur.Error) as e:  # a self-check that cannot pass: the old file stays
        recur.convert(src, tmp_path / "d.recur", batch_first=False, check_atol=0.0, check_rtol=0.0)
    assert "self-check FAILED" in e.value.message and (tmp_path / "d.recur").read_bytes() == b"kept"
    assert sorted(os.listdir(tmp_path)) == ["a.recur", "d.recur"]


def test_convert_keras_is_contained(tmp_path):
    """Keras sources go through a capped child process; a crashing file is an error, not a crash."""
    d = os.path.join(CONVERT_FIXTURES, "keras_bidir_lstm_dense")
    recur.convert(os.path.join(d, "model.keras"), tmp_path / "k.recur")
    assert_close(recur.Model(tmp_path / "k.recur").run(np.load(os.path.join(d, "x.npy"))).y,
                 np.load(os.path.join(d, "y.npy")))
    crash = os.path.join(ROOT, "tests", "fixtures", "contained", "hdf5_segfault.keras")
    with pytest.raises(recur.Error) as e:
        recur.convert(crash, tmp_path / "crash.recur")
    assert e.value.code == "bad_metadata" and not (tmp_path / "crash.recur").exists()
