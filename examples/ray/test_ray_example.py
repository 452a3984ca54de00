"""The Ray example, bounded: a local 2-CPU cluster scores 3000 windows with recur in map_batches;
the Parquet it writes must equal Model.run on the same windows, and ONNX Runtime's job agrees."""
import os
import sys

import numpy as np
import pytest

ray = pytest.importorskip("ray")
import recur  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import score  # noqa: E402
from windows import make_windows, write_parquet  # noqa: E402

ROWS = 3000


@pytest.fixture(scope="module")
def cluster():
    score.init_ray(workers=2, log_to_driver=False)
    yield
    ray.shutdown()


def test_ray_scores_equal_model_run(cluster, tmp_path):
    model_path = str(tmp_path / "forecaster.recur")
    recur.convert(score.FORECASTER_ONNX, model_path)
    windows = make_windows(ROWS, seed=1)
    write_parquet(windows, str(tmp_path / "windows"))

    score.score(str(tmp_path / "windows"), str(tmp_path / "out"), score.RecurForecaster, model_path,
                workers=2, batch_size=512)
    ids, y = score.read_scores(str(tmp_path / "out"))
    np.testing.assert_array_equal(ids, np.arange(ROWS))
    expected = recur.Model(model_path).run(windows).y
    assert y.shape == expected.shape == (ROWS, 4)
    # Batches of 512 against one batch of 3000: recur's results do not depend on the batch split.
    np.testing.assert_array_equal(y, expected)

    pytest.importorskip("onnxruntime")
    score.score(str(tmp_path / "windows"), str(tmp_path / "ort"), score.OrtForecaster, score.FORECASTER_ONNX,
                workers=2, batch_size=512)
    _, y_ort = score.read_scores(str(tmp_path / "ort"))
    np.testing.assert_allclose(y, y_ort, atol=1e-5, rtol=1e-4)
