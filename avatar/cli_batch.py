"""The `avatar batch` command: render every row of a manifest, locally or on a Ray cluster.

Exit status: 0 when every row is rendered or already done, 3 when some row failed or was
rejected (the others are still rendered, and the status report lists which and why), 2 for an
unusable manifest or bad options.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from avatar.errors import AvatarError
from avatar.i18n import translate as tr
from face_gan import REFINERS

EXIT_ITEMS_FAILED = 3
MAX_WORKERS = 64


def add_commands(commands, common: argparse.ArgumentParser, helptext: Callable[[str, str], str]) -> None:
    batch = commands.add_parser(
        "batch", parents=[common],
        help=helptext("render every script of a manifest (CSV or JSON Lines)", "批量渲染清单（CSV 或 JSON Lines）中的全部文稿"))
    batch.add_argument("manifest", type=Path,
                       help=helptext("manifest file, .csv or .jsonl (columns: docs/batch.md)",
                                     "清单文件，.csv 或 .jsonl（各列说明见 docs/batch.zh-CN.md）"))

    batch.add_argument("-o", "--output", required=True, type=Path, metavar="OUTDIR",
                       help=helptext("output folder; batch_status.json and .csv are written there too",
                                     "输出目录；状态报告 batch_status.json 和 .csv 也写在这里"))
    batch.add_argument("--workers", type=int, default=1,
                       help=helptext("local worker processes (default: 1); with --ray-address local, CPUs of the local cluster",
                                     "本机并行的工作进程数（默认 1）；配合 --ray-address local 时为本地集群的 CPU 数"))
    batch.add_argument("--ray-address", metavar="ADDR",
                       help=helptext("render on a Ray cluster: HOST:PORT, auto, or local (start one on this machine)",
                                     "在 Ray 集群上渲染：HOST:PORT、auto，或 local（在本机启动一个）"))
    batch.add_argument("--ray-cpus", type=float, default=1.0,
                       help=helptext("CPUs Ray reserves per item (default: 1)", "Ray 为每个条目预留的 CPU 数（默认 1）"))
    batch.add_argument("--ray-gpus", type=float, default=0.0,
                       help=helptext("GPUs Ray reserves per item, e.g. 0.25 to share one GPU by four (default: 0)",
                                     "Ray 为每个条目预留的 GPU 数，如 0.25 表示四个条目共用一块 GPU（默认 0）"))

    batch.add_argument("--allow-root", type=Path, action="append", default=[], metavar="DIR",
                       help=helptext("another folder that manifest paths may point into (repeatable)",
                                     "清单中的路径还可以指向的目录（可重复）"))
    batch.add_argument("--size", type=int, default=512,
                       help=helptext("longer side of each video in pixels, 256 to 1920 (default: 512)",
                                     "每个视频的长边像素数，256 到 1920（默认 512）"))
    batch.add_argument("--fps", type=int, default=25, help=helptext("frames per second (default: 25)", "帧率（默认 25）"))
    batch.add_argument("--refiner", default=None, choices=list(REFINERS),
                       help=helptext("face refiner for every item (default: as avatar render)",
                                     "所有条目使用的人脸精修（默认与 avatar render 相同）"))

    batch.add_argument("--check", action="store_true",
                       help=helptext("only check the manifest and list rejected rows; render nothing",
                                     "只检查清单并列出被拒绝的行，不渲染"))


def run(options: argparse.Namespace) -> int | None:
    """Run `avatar batch`; None when `options.command` is another command."""
    if options.command != "batch":
        return None
    from avatar import i18n
    from avatar.batch import BatchOptions, read_manifest, run_batch, stop_on_sigterm
    from avatar.pipeline import FPS_RANGE, SIZE_RANGE

    if not 1 <= options.workers <= MAX_WORKERS:
        raise AvatarError("batch_invalid_workers", value=options.workers, high=MAX_WORKERS)
    if not SIZE_RANGE[0] <= options.size <= SIZE_RANGE[1]:
        raise AvatarError("invalid_size", value=options.size, low=SIZE_RANGE[0], high=SIZE_RANGE[1])
    if not FPS_RANGE[0] <= options.fps <= FPS_RANGE[1]:
        raise AvatarError("invalid_fps", value=options.fps, low=FPS_RANGE[0], high=FPS_RANGE[1])
    if options.output.exists() and not options.output.is_dir():
        raise AvatarError("batch_output_not_folder", path=str(options.output))
    if options.ray_cpus <= 0 or options.ray_gpus < 0:
        raise AvatarError("batch_invalid_resources", cpus=options.ray_cpus, gpus=options.ray_gpus)
    for root in options.allow_root:
        if not root.is_dir():
            raise AvatarError("batch_allow_root_missing", path=str(root))
    roots = tuple(options.allow_root)

    if options.check:
        items, rejected = read_manifest(options.manifest, options.output, roots)
        for status in rejected:
            print(tr("error_prefix") + status.reason, file=sys.stderr)
        if rejected:
            print(tr("batch_check_rejected", rejected=len(rejected), count=len(items)))
            return EXIT_ITEMS_FAILED
        print(tr("batch_check_ok", count=len(items)))
        return 0

    stop_on_sigterm()
    settings = BatchOptions(size=options.size, fps=options.fps, refiner=options.refiner, workers=options.workers,
                            ray_address=options.ray_address, ray_cpus=options.ray_cpus, ray_gpus=options.ray_gpus,
                            language=i18n.ui_language())
    progress = _BatchProgress()
    try:
        report = run_batch(options.manifest, options.output, settings, roots, on_item=progress)
    finally:
        progress.close()
    print(tr("batch_summary", done=report.count("done"), skipped=report.count("skipped"),
             failed=report.count("failed"), rejected=report.count("rejected"), json=str(report.json_path),
             csv=str(report.csv_path)))
    return EXIT_ITEMS_FAILED if report.count("failed") or report.count("rejected") else 0


class _BatchProgress:
    """A bar of items done with the time left on a terminal, and one line per item either way."""

    def __init__(self) -> None:
        self._bar = None
        self._terminal = sys.stderr.isatty() and os.environ.get("TERM") != "dumb"

    def __call__(self, status, finished: int, total: int) -> None:
        from tqdm import tqdm

        if self._bar is None:
            self._bar = tqdm(total=total, desc=tr("batch_progress"), unit="item", disable=not self._terminal,
                             file=sys.stderr)
        details = ""
        if status.status == "done":
            details = f" ({status.duration_seconds:.1f} s / {status.render_seconds:.1f} s)"
        elif status.reason:
            details = tr("batch_item_reason", reason=status.reason)
        line = tr("batch_item_line", finished=finished, total=total, row=status.row, id=status.id or "-",
                  status=tr(f"batch_status_{status.status}"), details=details)
        # Lines go through tqdm so that they print above the bar instead of through it.
        tqdm.write(line, file=sys.stderr)
        self._bar.update(finished - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
