"""Render every curated Chinese news script and every English script, recording duration, RTF and failures.

Portraits rotate through `../shared/data/portraits`. Each render is also checked for lip sync from the
output file alone (`avatar.lipsync`), and one frame from the middle of each video is saved as PNG
in the output folder so a person can look at it. Rendered files stay in the output folder, which
must be outside the repository (the data may not be redistributed).

    .venv/bin/python -m bench.real_input --out /tmp/real_input [--size 512] [--record]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bench.common import ROOT, record, require_data, zh_news_scripts


def middle_frame_png(video: Path, png: Path) -> None:
    """Save the frame at the middle of `video` as a PNG."""
    import imageio_ffmpeg
    import numpy as np
    from PIL import Image

    reader = imageio_ffmpeg.read_frames(str(video))
    meta = next(reader)
    frames, _ = imageio_ffmpeg.count_frames_and_secs(str(video))
    width, height = meta["size"]
    for index, raw in enumerate(reader):
        if index == frames // 2:
            Image.fromarray(np.frombuffer(raw, np.uint8).reshape(height, width, 3)).save(png)
            break
    reader.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the videos and frames (outside the repo)")
    parser.add_argument("--size", type=int, default=512, help="output longer side in pixels")
    parser.add_argument("--limit", type=int, default=0, help="render only the first N scripts (0: all)")
    parser.add_argument("--record", action="store_true", help="append the table to docs/benchmarks.md")
    options = parser.parse_args()

    from avatar.errors import AvatarError
    from avatar.lipsync import measure_lipsync
    from avatar.pipeline import RenderSettings, render_script

    data = require_data()
    if options.out.resolve().is_relative_to(ROOT):
        raise SystemExit("--out must be outside the repository: rendered test data may not be committed")
    options.out.mkdir(parents=True, exist_ok=True)
    portraits = sorted((data / "portraits").iterdir())
    jobs = [(f"zh{index + 1:02d}_{category}", text) for index, (category, text) in enumerate(zh_news_scripts())]
    jobs += [(path.stem, path.read_text(encoding="utf-8")) for path in sorted((data / "scripts_en").glob("*.txt"))]
    if options.limit:
        jobs = jobs[: options.limit]

    rows = []
    for index, (name, text) in enumerate(jobs):
        portrait = portraits[index % len(portraits)]
        video = options.out / f"{name}.mp4"
        started = time.perf_counter()
        try:
            result = render_script(text, video, RenderSettings(portrait=portrait, size=options.size))
        except AvatarError as error:
            rows.append(f"| {name} | {portrait.name} | failed: {error.message('en')} | | | | |")
            print(f"{name}: failed: {error.message('en')}", file=sys.stderr)
            continue
        wall = time.perf_counter() - started
        lipsync = measure_lipsync(video)
        middle_frame_png(video, options.out / f"{name}.png")
        silence = lipsync.max_silence_opening_ratio
        rows.append(
            f"| {name} | {portrait.name} | {result.duration:.1f} | {wall:.1f} | {wall / result.duration:.2f} | "
            f"{lipsync.peak_lag_frames:+d} / {lipsync.peak_correlation:.2f} | "
            f"{'no pause found' if silence is None else f'{silence:.2f}'} |"
        )
        print(rows[-1], file=sys.stderr)

    table = "\n".join(["| script | portrait | video s | wall s | RTF | lip-sync lag / corr | silence mouth ratio |",
                       "|---|---|---|---|---|---|---|", *rows])
    print(table)
    if options.record:
        record("Real input", f".venv/bin/python -m bench.real_input --out /tmp/real_input --size {options.size}",
               "One run per script. Lip sync is measured on the output file: the lag (frames) and value of the "
               "peak cross-correlation between mouth opening and loudness; the silence ratio is the largest mouth "
               "opening in a pause of 300 ms or more over the median opening during speech.", table)


if __name__ == "__main__":
    main()
