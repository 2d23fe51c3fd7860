#!/usr/bin/env bash
# Set up .venv and render the two demo videos: out/demo_zh.mp4 and out/demo_en.mp4.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/avatar demo --directory out "$@"
