#!/usr/bin/env bash
# Set up .venv, run the linter and the test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "==> ruff"
.venv/bin/ruff check emotion voice avatar face_gan tests bench
echo "==> pytest"
# One BLAS/OpenMP thread per process: on 2 cores, spin-waiting threads slow everything down.
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} OMP_WAIT_POLICY=PASSIVE
.venv/bin/python -m pytest "$@"
