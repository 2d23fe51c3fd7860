"""Long scripts: a 5-minute Chinese article against a 30-second script, and lip-sync drift.

Renders both scripts (Chinese news from THUCNews, cut at sentence ends) in child processes, so
that each peak memory (max RSS) belongs to one render, and reports the real-time factor
(wall time / video duration) and the peak memory ratio. Then cuts 20-second windows from the
start, middle and end of the 5-minute video and measures lip sync in each
(`avatar.lipsync.measure_lipsync`): a constant peak lag of 0 means audio and video do not drift.

    .venv/bin/python -m bench.long_script [--runs 2] [--size 512] [--refiner gan] [--record]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from avatar.lipsync import measure_lipsync_window
from bench.common import ROOT, record
from bench.render_speed import make_script

# Characters of Chinese news that the zh-baker voice reads in about 30 s and 5 min.
LENGTHS = {"30s": 100, "5min": 1470}
WINDOW_SECONDS = 20.0


def render(script: Path, output: Path, size: int, refiner: str) -> dict:
    command = [sys.executable, "-m", "bench.render_speed", "--child", str(script), str(output), str(size), refiner]
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"render of {script.name} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="renders per script (median reported)")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--refiner", default="gan", choices=["gan", "none"])
    parser.add_argument("--record", action="store_true", help="append the tables to docs/benchmarks.md")
    options = parser.parse_args()

    results: dict[str, list[dict]] = {name: [] for name in LENGTHS}
    drift: list[tuple[str, float, int, float]] = []
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        scripts = {}
        for name, chars in LENGTHS.items():
            scripts[name] = folder / f"{name}.txt"
            scripts[name].write_text(make_script(chars), encoding="utf-8")
        for run in range(options.runs):
            for name in LENGTHS:
                measurement = render(scripts[name], folder / f"{name}.mp4", options.size, options.refiner)
                results[name].append(measurement)
                print(f"{name} run {run + 1}: {measurement['wall']:.1f} s wall for {measurement['duration']:.1f} s, "
                      f"peak {measurement['peak_mib']:.0f} MiB", file=sys.stderr)
        duration = results["5min"][-1]["duration"]
        for label, start in (("start", 0.0), ("middle", duration / 2 - WINDOW_SECONDS / 2),
                             ("end", duration - WINDOW_SECONDS)):
            report = measure_lipsync_window(folder / "5min.mp4", start, WINDOW_SECONDS, folder)
            drift.append((label, start, report.peak_lag_frames, report.peak_correlation))

    def median(name: str, key: str) -> float:
        return statistics.median(run[key] for run in results[name])

    lines = ["| script | characters | video s | wall s | RTF | peak MiB |", "|---|---|---|---|---|---|"]
    for name, chars in LENGTHS.items():
        lines.append(f"| {name} | {chars} | {median(name, 'duration'):.1f} | {median(name, 'wall'):.1f} | "
                     f"{median(name, 'wall') / median(name, 'duration'):.3f} | {median(name, 'peak_mib'):.0f} |")
    lines += ["", f"Peak memory 5min / 30s: {median('5min', 'peak_mib') / median('30s', 'peak_mib'):.2f}x", "",
              "| 5-min window | starts at s | peak lag (frames) | correlation |", "|---|---|---|---|"]
    lines += [f"| {label} | {start:.1f} | {lag:+d} | {correlation:.2f} |" for label, start, lag, correlation in drift]
    table = "\n".join(lines)
    print(table)
    if options.record:
        record("Long scripts", f".venv/bin/python -m bench.long_script --runs {options.runs} --size {options.size} "
               f"--refiner {options.refiner}",
               f"Median of {options.runs} runs; lip sync measured on {WINDOW_SECONDS:.0f} s windows of the last "
               "5-minute render.", table)


if __name__ == "__main__":
    main()
