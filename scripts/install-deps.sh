#!/usr/bin/env bash
# Installs every Debian package recur needs to build, test and benchmark (`fuzz` as the first
# argument adds libFuzzer). Idempotent:
# does nothing when all packages are present; otherwise runs `apt-get update` once and installs.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git ca-certificates
  libdnnl-dev ocl-icd-opencl-dev libxsimd-dev xtl-dev  # oneDNN: bench/ baseline; its CMake config needs OpenCL headers
  libbenchmark-dev doctest-dev
  nlohmann-json3-dev libcli11-dev libxxhash-dev
  libonnx-dev libprotobuf-dev protobuf-compiler
  libhdf5-dev libzip-dev
  libcpp-httplib-dev libboost-dev  # the service: Beast server, httplib client
  clang-14 libclang-rt-14-dev libomp-14-dev  # the TSan stage: clang's TSan, libomp + libarcher
  python3-dev python3-venv python3-torch  # the Python package and its tests (scripts/python-tests.sh)
)
# `install-deps.sh fuzz` adds libFuzzer for scripts/fuzz.sh (clang-14 is in the base list).
if [ "${1:-}" = fuzz ]; then
  PACKAGES+=(libfuzzer-14-dev)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

apt_line="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages; run as root:" >&2
  echo "  apt-get update && $apt_line" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
$apt_line
