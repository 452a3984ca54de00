#!/usr/bin/env bash
# The Python stage of scripts/test.sh: a virtualenv over Debian's python3 (so it sees Debian's
# python3-torch), the test requirements from PyPI, `pip install ./python` (the recur package,
# built by scikit-build-core + nanobind), then pytest on python/tests and examples/ray.
# Re-runs reuse the virtualenv (requirements reinstalled only when the file changes) and the
# package's CMake build folder (build/python-package/), so they take seconds plus the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=build/venv-python
requirements=python/requirements-test.txt
if [ ! -x "$venv/bin/python" ]; then
  echo "== python: virtualenv $venv (Debian's /usr/bin/python3, --system-site-packages)"
  /usr/bin/python3 -m venv --system-site-packages "$venv"
fi
stamp="$venv/.requirements.sha256"
if ! sha256sum --status -c "$stamp" 2>/dev/null; then
  echo "== python: pip install -r $requirements"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  sha256sum "$requirements" > "$stamp"
fi

echo "== python: pip install ./python"
log=build/python-package.log
# A build folder of its own, kept: with the same virtualenv (no build isolation) a re-run only
# rebuilds what changed.
CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) "$venv/bin/pip" install --no-build-isolation --no-deps \
  --disable-pip-version-check --force-reinstall --config-settings=build-dir="$PWD/build/python-package" \
  ./python > "$log" 2>&1 \
  || { grep -E "error|Error" "$log" | head -40; exit 1; }

echo "== python: pytest"
# Exit status 5 (no tests collected) is a failure here: these folders always hold tests.
"$venv/bin/python" -m pytest -q -p no:cacheprovider python/tests examples/ray
