"""Batch throughput: the same manifest with 1 local worker, 2 local workers and a local Ray instance.

Each configuration renders every item of a fresh manifest (short Chinese news scripts from
THUCNews) into an empty folder. The configurations alternate run by run, so machine noise hits
them alike. The table gives the median items per minute and the ratio to 1 worker. Memory
against script length is measured by bench/long_script.py and bench/render_speed.py.

    .venv/bin/python -m bench.batch_throughput [--items 6] [--runs 2] [--size 512] [--record]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from avatar.batch import BatchOptions, run_batch
from bench.common import cut_at_sentence, record, thucnews_texts

CONFIGURATIONS = {"1 worker": {"workers": 1}, "2 workers": {"workers": 2},
                  "Ray local, 2 CPUs": {"workers": 2, "ray_address": "local"}}


def write_manifest(folder: Path, items: int, chars: int) -> Path:
    """Write a JSON Lines manifest of `items` scripts of about `chars` characters each."""
    import json

    articles = [text for text in thucnews_texts() if len(text) >= chars][:items]
    lines = [json.dumps({"id": f"news{number:02d}", "script": cut_at_sentence(text, chars)}, ensure_ascii=False)
             for number, text in enumerate(articles, start=1)]
    path = folder / "manifest.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=6)
    parser.add_argument("--chars", type=int, default=40, help="characters per script (about 10 s of speech)")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--record", action="store_true", help="append the table to docs/benchmarks.md")
    options = parser.parse_args()

    results: dict[str, list[tuple[float, float]]] = {name: [] for name in CONFIGURATIONS}
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        manifest = write_manifest(folder, options.items, options.chars)
        for run in range(options.runs):
            for name, changes in CONFIGURATIONS.items():
                outdir = folder / f"{name.replace(' ', '_').replace(',', '')}_{run}"
                started = time.perf_counter()
                report = run_batch(manifest, outdir, BatchOptions(size=options.size, **changes))
                wall = time.perf_counter() - started
                if report.count("done") != options.items:
                    raise SystemExit(f"{name}: {report.count('done')} of {options.items} items rendered")
                video = sum(item.duration_seconds or 0.0 for item in report.items)
                results[name].append((wall, video))
                print(f"run {run + 1} {name}: {wall:.1f} s for {options.items} items ({video:.1f} s of video)",
                      file=sys.stderr)

    baseline = statistics.median(wall for wall, _ in results["1 worker"])
    lines = ["| configuration | wall s | items / min | video s / wall s | vs 1 worker |", "|---|---|---|---|---|"]
    for name, runs in results.items():
        wall = statistics.median(run[0] for run in runs)
        video = statistics.median(run[1] for run in runs)
        lines.append(f"| {name} | {wall:.1f} | {60 * options.items / wall:.2f} | {video / wall:.2f} | "
                     f"{baseline / wall:.2f}x |")
    table = "\n".join(lines)
    print(table)
    if options.record:
        record("Batch throughput", f".venv/bin/python -m bench.batch_throughput --items {options.items} "
               f"--chars {options.chars} --runs {options.runs} --size {options.size}",
               f"Median of {options.runs} runs; {options.items} Chinese news scripts of about {options.chars} "
               "characters, default refiner. Ray starts a local instance inside each run, so its wall time "
               "includes the start.", table)


if __name__ == "__main__":
    main()
