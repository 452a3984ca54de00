"""One Model shared by many Python threads: the GIL is released in run/step, and every result
equals the serial one bit for bit."""
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import recur

WORKERS, TASKS = 8, 48


def test_run_from_many_threads_equals_serial(lstm_file):
    model = recur.Model(lstm_file)
    rng = np.random.default_rng(5)
    xs = [rng.uniform(-1, 1, (int(rng.integers(1, 40)), int(rng.integers(1, 9)), 5)).astype(np.float32)
          for _ in range(TASKS)]
    serial = [model.run(x) for x in xs]
    with ThreadPoolExecutor(WORKERS) as pool:
        parallel = list(pool.map(model.run, xs))
    for s, p in zip(serial, parallel):
        np.testing.assert_array_equal(p.y, s.y)
        np.testing.assert_array_equal(p.h_n, s.h_n)
        np.testing.assert_array_equal(p.c_n, s.c_n)


def test_step_streams_from_many_threads_equal_serial(lstm_file):
    model = recur.Model(lstm_file)
    rng = np.random.default_rng(6)
    streams = [rng.uniform(-1, 1, (30, 1, 5)).astype(np.float32) for _ in range(TASKS)]

    def stream(x):
        state = model.new_state(1)
        return np.stack([model.step(state, x[t]) for t in range(x.shape[0])])

    serial = [stream(x) for x in streams]
    with ThreadPoolExecutor(WORKERS) as pool:
        parallel = list(pool.map(stream, streams))
    for s, p, x in zip(serial, parallel, streams):
        np.testing.assert_array_equal(p, s)
        np.testing.assert_array_equal(s, model.run(x).y)


def test_gil_is_released_during_run(lstm_file):
    """While one thread is inside a long run, another thread's Python code keeps running."""
    import threading
    import time
    model = recur.Model(lstm_file)
    T = 20000
    while True:  # a run long enough to look inside (0.2 s)
        x = np.random.default_rng(7).uniform(-1, 1, (T, 4, 5)).astype(np.float32)
        start = time.perf_counter()
        model.run(x)
        if time.perf_counter() - start > 0.2 or T > 10**7:
            break
        T *= 2
    seen, done = [], threading.Event()

    def tick():
        while not done.is_set():
            seen.append(time.perf_counter())
            time.sleep(0.001)

    ticker = threading.Thread(target=tick)
    ticker.start()
    time.sleep(0.01)
    start = time.perf_counter()
    model.run(x)
    end = time.perf_counter()
    done.set()
    ticker.join()
    # Holding the GIL for the whole run would leave no tick in its middle part.
    middle = [t for t in seen if start + 0.25 * (end - start) < t < end - 0.25 * (end - start)]
    assert len(middle) >= 3
