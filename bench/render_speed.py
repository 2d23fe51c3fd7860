"""Time each render stage, the real-time factor and peak memory for a 30 s and a 3 min script.

Each render runs in its own process, so peak memory (max RSS) belongs to that render alone.
Real-time factor (RTF) = wall time of the whole render / video duration; below 1 is faster
than real time. Reports the median of `--runs` renders per length.

    .venv/bin/python -m bench.render_speed [--runs 3] [--size 512] [--record]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, cut_at_sentence, record, thucnews_texts

# Characters of Chinese news that the zh-baker voice reads in about 30 s and 3 min
# (measured: about 3.3 to 4.9 characters per second, pauses and numbers included).
LENGTHS = {"30s": 100, "3min": 880}
STAGES = ("portrait", "plan", "voice", "performance", "render", "write")


def make_script(max_chars: int) -> str:
    """Join THUCNews articles, cut at a sentence end, to about `max_chars` characters."""
    text = ""
    for article in thucnews_texts():
        if len(text) >= max_chars:
            break
        text += cut_at_sentence(article, max_chars - len(text)) + "\n\n"
    return text


def run_child(script_path: Path, output: Path, size: int) -> None:
    """Render once in this process and print the measurements as one JSON line."""
    from avatar.pipeline import RenderSettings, render_script

    started = time.perf_counter()
    result = render_script(script_path.read_text(encoding="utf-8"), output, RenderSettings(size=size))
    wall = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"wall": wall, "duration": result.duration, "frames": result.num_frames,
                      "peak_mib": peak_mib, "stages": result.stage_seconds}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="renders per length (median reported)")
    parser.add_argument("--size", type=int, default=512, help="output longer side in pixels")
    parser.add_argument("--record", action="store_true", help="append the table to docs/benchmarks.md")
    parser.add_argument("--child", nargs=3, metavar=("SCRIPT", "OUTPUT", "SIZE"), help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        run_child(Path(options.child[0]), Path(options.child[1]), int(options.child[2]))
        return

    results: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, chars in LENGTHS.items():
            script_path = Path(folder) / f"{name}.txt"
            script_path.write_text(make_script(chars), encoding="utf-8")
            for run in range(options.runs):
                command = [sys.executable, "-m", "bench.render_speed", "--child", str(script_path),
                           str(Path(folder) / f"{name}.mp4"), str(options.size)]
                completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
                if completed.returncode != 0:
                    raise SystemExit(f"render {name} run {run} failed:\n{completed.stderr[-3000:]}")
                measurement = json.loads(completed.stdout.strip().splitlines()[-1])
                results.setdefault(name, []).append(measurement)
                print(f"{name} run {run + 1}: {measurement['wall']:.1f} s wall for {measurement['duration']:.1f} s",
                      file=sys.stderr)

    lines = [f"| script | video s | wall s | RTF | peak MiB | {' | '.join(STAGES)} |",
             "|---|---|---|---|---|" + "---|" * len(STAGES)]
    for name, runs in results.items():
        def median(key: str, runs: list[dict] = runs) -> float:
            return statistics.median(run[key] for run in runs)

        stages = [statistics.median(run["stages"].get(stage, 0.0) for run in runs) for stage in STAGES]
        lines.append(f"| {name} | {median('duration'):.1f} | {median('wall'):.1f} | "
                     f"{median('wall') / median('duration'):.3f} | {median('peak_mib'):.0f} | "
                     + " | ".join(f"{value:.2f}" for value in stages) + " |")
    ratio = statistics.median(r["peak_mib"] for r in results["3min"]) / statistics.median(
        r["peak_mib"] for r in results["30s"])
    lines.append("")
    lines.append(f"Peak memory 3min / 30s: {ratio:.2f}x")
    table = "\n".join(lines)
    print(table)
    if options.record:
        record("Render speed", f".venv/bin/python -m bench.render_speed --runs {options.runs} --size {options.size}",
               f"Median of {options.runs} runs per script; stage columns in seconds.", table)


if __name__ == "__main__":
    main()
