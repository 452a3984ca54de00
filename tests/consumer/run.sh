#!/usr/bin/env bash
# Installs the built recur into a scratch prefix, then configures, builds and runs
# tests/consumer against it with find_package(recur). Args: BUILD_DIR SOURCE_DIR.
set -euo pipefail
build_dir=$1
source_dir=$2
work=$build_dir/consumer-test
rm -rf "$work"
cmake --install "$build_dir" --prefix "$work/prefix" > /dev/null
cmake -S "$source_dir/tests/consumer" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" > /dev/null
cmake --build "$work/build" > /dev/null
LD_LIBRARY_PATH="$work/prefix/lib:${LD_LIBRARY_PATH:-}" "$work/build/consumer" "$work/model.recur"
