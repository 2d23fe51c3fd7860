"""Time each render stage, the real-time factor and peak memory for a 30 s and a 3 min script.

Each render runs in its own process, so peak memory (max RSS) belongs to that render alone.
Real-time factor (RTF) = wall time of the whole render / video duration; below 1 is faster
than real time. Reports the median of `--runs` renders per length and refiner; the refiners
alternate run by run, and their wall times are compared as a ratio.

    .venv/bin/python -m bench.render_speed [--runs 3] [--size 512] [--lengths 30s,3min] [--refiners gan,none] [--record]
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


def run_child(script_path: Path, output: Path, size: int, refiner: str) -> None:
    """Render once in this process and print the measurements as one JSON line."""
    from avatar.pipeline import RenderSettings, render_script

    started = time.perf_counter()
    result = render_script(script_path.read_text(encoding="utf-8"), output, RenderSettings(size=size, refiner=refiner))
    wall = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"wall": wall, "duration": result.duration, "frames": result.num_frames,
                      "peak_mib": peak_mib, "stages": result.stage_seconds}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="renders per length (median reported)")
    parser.add_argument("--size", type=int, default=512, help="output longer side in pixels")
    parser.add_argument("--record", action="store_true", help="append the table to docs/benchmarks.md")
    parser.add_argument("--lengths", default=",".join(LENGTHS), help="scripts to render (default: 30s,3min)")
    parser.add_argument("--refiners", default="gan,none", help="refiners to compare, each on every script")
    parser.add_argument("--child", nargs=4, metavar=("SCRIPT", "OUTPUT", "SIZE", "REFINER"), help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        run_child(Path(options.child[0]), Path(options.child[1]), int(options.child[2]), options.child[3])
        return
    lengths = {name: LENGTHS[name] for name in options.lengths.split(",")}
    refiners = options.refiners.split(",")

    results: dict[tuple[str, str], list[dict]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, chars in lengths.items():
            script_path = Path(folder) / f"{name}.txt"
            script_path.write_text(make_script(chars), encoding="utf-8")
            # Alternate the refiners run by run, so machine noise hits both alike.
            for run, refiner in ((run, refiner) for run in range(options.runs) for refiner in refiners):
                command = [sys.executable, "-m", "bench.render_speed", "--child", str(script_path),
                           str(Path(folder) / f"{name}.mp4"), str(options.size), refiner]
                completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
                if completed.returncode != 0:
                    raise SystemExit(f"render {name} run {run} failed:\n{completed.stderr[-3000:]}")
                measurement = json.loads(completed.stdout.strip().splitlines()[-1])
                results.setdefault((name, refiner), []).append(measurement)
                print(f"{name} {refiner} run {run + 1}: {measurement['wall']:.1f} s wall for "
                      f"{measurement['duration']:.1f} s", file=sys.stderr)

    lines = [f"| script | refiner | video s | wall s | RTF | peak MiB | {' | '.join(STAGES)} |",
             "|---|---|---|---|---|---|" + "---|" * len(STAGES)]
    for (name, refiner), runs in results.items():
        def median(key: str, runs: list[dict] = runs) -> float:
            return statistics.median(run[key] for run in runs)

        stages = [statistics.median(run["stages"].get(stage, 0.0) for run in runs) for stage in STAGES]
        lines.append(f"| {name} | {refiner} | {median('duration'):.1f} | {median('wall'):.1f} | "
                     f"{median('wall') / median('duration'):.3f} | {median('peak_mib'):.0f} | "
                     + " | ".join(f"{value:.2f}" for value in stages) + " |")
    lines.append("")

    def median_of(name: str, refiner: str, key: str) -> float:
        return statistics.median(run[key] for run in results[(name, refiner)])

    for refiner in refiners:
        if "3min" in lengths and "30s" in lengths:
            ratio = median_of("3min", refiner, "peak_mib") / median_of("30s", refiner, "peak_mib")
            lines.append(f"Peak memory 3min / 30s ({refiner}): {ratio:.2f}x  ")
    if len(refiners) == 2:
        for name in lengths:
            ratio = median_of(name, refiners[0], "wall") / median_of(name, refiners[1], "wall")
            lines.append(f"Wall time {refiners[0]} / {refiners[1]} ({name}): {ratio:.2f}x  ")
    table = "\n".join(lines)
    print(table)
    if options.record:
        record("Render speed", f".venv/bin/python -m bench.render_speed --runs {options.runs} --size {options.size} "
               f"--lengths {options.lengths} --refiners {options.refiners}",
               f"Median of {options.runs} runs per script; stage columns in seconds.", table)


if __name__ == "__main__":
    main()
