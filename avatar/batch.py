"""Batch rendering: many scripts from one manifest, in local worker processes or on a Ray cluster.

A manifest is CSV (a header row) or JSON Lines (one object per line) with these columns:

- `id` (required): letters, digits, `.`, `-`, `_`; names the default output `OUTDIR/ID.mp4`;
- `script` (the text itself) or `script_file` (a UTF-8 file): exactly one of them;
- `portrait` (an image) or `avatar` (a profile folder): at most one; neither uses the default portrait;
- `voice`, `preset`, `layout`, `output`, and optionally `lang`, `background`, `headline`, `ticker`, `seed`.

Input paths are resolved relative to the manifest's folder. They must stay inside the allowed roots:
that folder, the output folder and any `--allow-root`. `output` is resolved relative to the output
folder and must stay inside it. Every row is checked before anything renders: a rejected
row names its row number and never stops the others.

The run then goes through four steps:

1. Skip items already done: the MP4 exists, its timeline records this item's fingerprint (a hash
   of the text and every setting), and the streams check out (video and audio present, durations
   within a frame of the timeline). A broken or outdated output is rendered again.
2. Render the rest in parallel: `workers` local processes (spawned, one BLAS thread each), or Ray
   tasks on a cluster. Each item's seed comes from its id, so a render is the same wherever it runs.
3. Record every item's outcome (done, skipped, failed with its reason, rejected) in
   OUTDIR/batch_status.json and .csv, rewritten atomically after each item.
4. Outputs are written under temporary names and renamed when complete (see `render_script`), so
   no half-written MP4 ever carries the final name.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import logging
import os
import re
import signal
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from avatar.errors import AvatarError
from avatar.fileio import write_text_atomic
from avatar.i18n import translate

if TYPE_CHECKING:
    from avatar.layout import Layout

logger = logging.getLogger(__name__)

COLUMNS = ("id", "script", "script_file", "portrait", "avatar", "voice", "preset", "layout", "output", "lang",
           "background", "headline", "ticker", "seed")
# Columns holding input paths, resolved relative to the manifest and checked against the allowed roots.
PATH_COLUMNS = ("script_file", "portrait", "avatar", "background", "layout")
STATUS_NAME = "batch_status"
STATUS_FIELDS = ("row", "id", "status", "output", "duration_seconds", "render_seconds", "key", "reason", "worker")
MAX_ID_LENGTH = 120
_ID = re.compile(r"^\w[\w.\-]*$")
# Output names with control characters or backslashes: a newline or a Windows separator in a file name.
_UNSAFE_OUTPUT = re.compile(r"[\x00-\x1f\x7f\\]")
# Seconds an output's streams may differ from its timeline: one frame plus the AAC encoder's padding.
_DURATION_SLACK = 0.06


@dataclass(frozen=True)
class BatchOptions:
    """Settings shared by every item of a batch; the rows add their own.

    Attributes:
        size, fps, refiner, loudness_lufs: as for `avatar render`.
        workers: local worker processes (ignored with Ray, where the cluster's CPUs decide).
        ray_address: None renders locally; "local" starts a Ray instance on this machine;
            anything else ("auto", "HOST:PORT", "ray://HOST:PORT") joins that cluster.
        ray_cpus: CPUs Ray reserves per item.
        ray_gpus: GPUs Ray reserves per item (fractions share one GPU).
        language: the UI language of the reasons written to the status report.
    """

    size: int = 512
    fps: int = 25
    refiner: str | None = None
    loudness_lufs: float = -16.0
    workers: int = 1
    ray_address: str | None = None
    ray_cpus: float = 1.0
    ray_gpus: float = 0.0
    language: str = "en"


@dataclass(frozen=True)
class BatchItem:
    """One valid manifest row, with its paths resolved and its script read."""

    row: int
    id: str
    script: str
    output: Path
    script_file: Path | None = None
    portrait: Path | None = None
    avatar: Path | None = None
    voice: str | None = None
    preset: str = "news"
    layout: str | None = None
    language: str = "auto"
    background: str | None = None
    headline: str | None = None
    ticker: str | None = None
    seed: int = 0
    layout_files: tuple[Path, ...] = ()  # a layout template and the images it names

    def settings(self, options: BatchOptions):
        """Return the RenderSettings of this item."""
        from avatar.pipeline import RenderSettings

        return RenderSettings(portrait=self.portrait, avatar=self.avatar, language=self.language, fps=options.fps,
                              size=options.size, background=self.background, voice=self.voice, seed=self.seed,
                              loudness_lufs=options.loudness_lufs, preset=self.preset, refiner=options.refiner,
                              layout=self.layout or "full", headline=self.headline, ticker=self.ticker)

    def fingerprint(self, options: BatchOptions) -> str:
        """Return a hash of everything that shapes this item's video, to tell a stale output from a done one."""
        from avatar import __version__

        settings = self.settings(options)
        inputs = {name: _file_stamp(getattr(self, name)) for name in ("portrait", "background")}
        # An edited template, or an image it names, makes the output stale like an edited script.
        inputs["layout"] = [_file_stamp(path) for path in self.layout_files]
        described = {"version": __version__, "script": self.script, "settings": _jsonable(asdict(settings)),
                     "inputs": inputs}
        return hashlib.sha256(json.dumps(described, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


@dataclass
class ItemStatus:
    """The outcome of one manifest row, as written to the status report."""

    row: int
    id: str
    status: str  # "done", "skipped", "failed", "rejected", or "pending" until the run reaches it
    output: str = ""
    duration_seconds: float | None = None
    render_seconds: float | None = None
    key: str = ""
    reason: str = ""
    worker: str = ""


@dataclass
class BatchReport:
    """Every row's outcome, in manifest order, and where the report files are."""

    items: list[ItemStatus] = field(default_factory=list)
    json_path: Path | None = None
    csv_path: Path | None = None

    def count(self, status: str) -> int:
        return sum(item.status == status for item in self.items)


# ---- 1. The manifest


def read_manifest(manifest: Path, outdir: Path, allowed_roots: tuple[Path, ...] = ()) -> tuple[list[BatchItem], list[ItemStatus]]:
    """Read and check every row of `manifest`; return the valid items and the rejected rows.

    Raises:
        AvatarError: the manifest itself is unusable (missing, not UTF-8, unknown format or
            columns, no rows). Problems of single rows are returned as rejections instead.
    """
    rows = list(_manifest_rows(manifest))
    if not rows:
        raise AvatarError("batch_manifest_empty", path=str(manifest))
    base = manifest.resolve().parent
    outdir = outdir.resolve()
    roots = (base, outdir, *(root.resolve() for root in allowed_roots))
    from voice.synthesize import list_voices

    voices = tuple(info.id for info in list_voices())
    items: list[BatchItem] = []
    rejected: list[ItemStatus] = []
    first_row_of_id: dict[str, int] = {}
    first_row_of_output: dict[Path, int] = {}
    for number, row in rows:
        try:
            if isinstance(row, AvatarError):
                raise row
            item = _parse_row(number, row, base, outdir, roots, voices)
            if item.id.casefold() in first_row_of_id:
                raise AvatarError("batch_duplicate_id", row=number, value=item.id,
                                  first=first_row_of_id[item.id.casefold()])
            if item.output in first_row_of_output:
                raise AvatarError("batch_duplicate_output", row=number, path=str(item.output),
                                  first=first_row_of_output[item.output])
        except AvatarError as error:
            identifier = row.get("id") if isinstance(row, dict) else None
            reason = error.message()
            if not error.key.startswith("batch_"):
                # Messages shared with `avatar render` (a bad layout, an unreadable script) name no row.
                reason = translate("batch_row_problem", row=number, reason=reason)
            rejected.append(ItemStatus(row=number, id=str(identifier or ""), status="rejected", key=error.key,
                                       reason=reason))
            continue
        first_row_of_id[item.id.casefold()] = number
        first_row_of_output[item.output] = number
        items.append(item)
    return items, rejected


def _manifest_rows(manifest: Path) -> Iterator[tuple[int, dict | AvatarError]]:
    """Yield (row number as a person counts it, row) pairs; a malformed row is yielded as its error."""
    if manifest.is_dir():
        raise AvatarError("path_is_directory", path=str(manifest))
    if not manifest.is_file():
        raise AvatarError("file_not_found", path=str(manifest))
    try:
        text = manifest.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise AvatarError("batch_manifest_not_utf8", path=str(manifest)) from None
    suffix = manifest.suffix.lower()
    if suffix == ".csv":
        first_line = text.split("\n", 1)[0]
        # Spreadsheets set to a European locale export with semicolons.
        delimiter = ";" if ";" in first_line and "," not in first_line else ","
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        header = [name.strip().lower() for name in next(reader, [])]
        while header and not header[-1]:
            header.pop()  # empty columns a spreadsheet leaves after the last one
        _check_columns(manifest, header)
        # Rows are counted as records, the way a spreadsheet numbers them: the header is row 1,
        # and a cell with line breaks does not shift the rows after it.
        for number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue  # a blank row, or one with only empty cells
            if any(cell.strip() for cell in cells[len(header):]):
                yield number, AvatarError("batch_row_extra_cells", row=number, cells=len(cells) - len(header))
                continue
            yield number, {name: cell for name, cell in zip(header, cells, strict=False) if cell.strip()}
    elif suffix in (".jsonl", ".ndjson"):
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                yield number, AvatarError("batch_row_not_json", row=number, reason=error.msg)
                continue
            if not isinstance(row, dict):
                yield number, AvatarError("batch_row_not_json", row=number, reason="not an object")
                continue
            _check_columns(manifest, list(row), number)
            yield number, {name: value for name, value in row.items() if value not in (None, "")}
    else:
        raise AvatarError("batch_manifest_format", path=str(manifest))


def _check_columns(manifest: Path, names: list[str], row: int | None = None) -> None:
    # A misspelt column ("portait") would otherwise be ignored and render with the default,
    # and a repeated one would silently lose one of its values.
    unknown = [name or '""' for name in names if name not in COLUMNS]
    if unknown:
        raise AvatarError("batch_unknown_columns", path=str(manifest), columns=", ".join(map(str, unknown)),
                          known=", ".join(COLUMNS), row=row or 1)
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise AvatarError("batch_repeated_columns", path=str(manifest), columns=", ".join(repeated))


def _parse_row(number: int, row: dict, base: Path, outdir: Path, roots: tuple[Path, ...],
               voices: tuple[str, ...]) -> BatchItem:
    from avatar.pipeline import check_seed
    from emotion.arc import PRESETS

    def text(name: str) -> str | None:
        value = row.get(name)
        if value is None:
            return None
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise AvatarError("batch_bad_type", row=number, column=name, value=json.dumps(value))
        return str(value).strip() or None

    identifier = text("id")
    if identifier is None:
        raise AvatarError("batch_missing_id", row=number)
    if len(identifier) > MAX_ID_LENGTH or not _ID.match(identifier):
        raise AvatarError("batch_bad_id", row=number, value=identifier, limit=MAX_ID_LENGTH)

    def inside_roots(name: str, value: str, path: Path) -> None:
        if not any(path.resolve().is_relative_to(root) for root in roots):
            raise AvatarError("batch_path_outside", row=number, column=name, path=value,
                              roots=", ".join(str(root) for root in roots))

    def input_path(name: str, kind: str = "file") -> Path | None:
        value = text(name)
        if value is None:
            return None
        path = (base / Path(value).expanduser()).resolve()
        inside_roots(name, value, path)
        if not path.exists():
            raise AvatarError("batch_input_missing", row=number, column=name, path=str(path))
        if kind == "file" and not path.is_file():
            raise AvatarError("batch_bad_value", row=number, column=name, value=value, reason=translate("batch_need_file"))
        if kind == "folder" and not path.is_dir():
            raise AvatarError("batch_bad_value", row=number, column=name, value=value,
                              reason=translate("batch_need_folder"))
        return path

    script, script_file = text("script"), input_path("script_file")
    if (script is None) == (script_file is None):
        raise AvatarError("batch_script_choice", row=number)
    if script_file is not None:
        try:
            script = script_file.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise AvatarError("script_not_utf8", path=str(script_file)) from None
    portrait, avatar = input_path("portrait"), input_path("avatar", kind="folder")
    if portrait is not None and avatar is not None:
        raise AvatarError("batch_portrait_and_avatar", row=number)

    layout = text("layout")
    layout_files: tuple[Path, ...] = ()
    if layout is not None and layout.lower().endswith(".json"):
        layout = str(input_path("layout"))
    if layout is not None or text("headline") or text("ticker"):
        from avatar.layout import load_layout

        # A misspelt layout or a headline for a layout without a lower third fails now, not mid-batch.
        loaded = load_layout(layout or "full")
        loaded.check_text(text("headline"), text("ticker"))
        if layout is not None and layout.lower().endswith(".json"):
            layout_files = _template_files(loaded)
            for image in layout_files[1:]:
                inside_roots("layout", str(image), image)
    background = text("background")
    if background is not None and background.lower() != "portrait":
        from avatar.compose import Background

        if not background.startswith("#"):
            background = str(input_path("background"))
        Background.parse(background)  # a bad colour or an unreadable image fails now
    voice = text("voice")
    if voice is not None and voice not in voices:
        raise AvatarError("batch_bad_value", row=number, column="voice", value=voice, reason=", ".join(voices))

    output_value = text("output") or f"{identifier}.mp4"
    if _UNSAFE_OUTPUT.search(output_value):
        raise AvatarError("batch_bad_output_name", row=number, value=output_value)
    output = (outdir / Path(output_value).expanduser()).resolve()
    if not output.is_relative_to(outdir):
        raise AvatarError("batch_output_outside", row=number, path=output_value, outdir=str(outdir))
    if output.suffix.lower() != ".mp4":
        raise AvatarError("batch_bad_value", row=number, column="output", value=output_value, reason=".mp4")
    if output.is_dir():
        raise AvatarError("batch_bad_value", row=number, column="output", value=output_value,
                          reason=translate("batch_need_file"))

    preset = text("preset") or "news"
    if preset not in PRESETS:
        raise AvatarError("batch_bad_value", row=number, column="preset", value=preset, reason=", ".join(PRESETS))
    language = text("lang") or "auto"
    if language not in ("auto", "zh", "en"):
        raise AvatarError("batch_bad_value", row=number, column="lang", value=language, reason="auto, zh, en")
    seed_value = text("seed")
    if seed_value is None:
        # Seeded from the id, so an item renders the same in any worker, on any node, in any order.
        seed = int(hashlib.sha256(identifier.encode()).hexdigest()[:8], 16)
    else:
        try:
            seed = int(seed_value)
            check_seed(seed)
        except (ValueError, AvatarError):
            raise AvatarError("batch_bad_value", row=number, column="seed", value=seed_value,
                              reason="0 .. 4294967295") from None
    return BatchItem(row=number, id=identifier, script=script, output=output, script_file=script_file,
                     portrait=portrait, avatar=avatar, preset=preset, layout=layout,
                     language=language, background=background, headline=text("headline"), ticker=text("ticker"),
                     seed=seed, voice=voice, layout_files=layout_files)


# ---- 2. Resuming


def verify_output(item: BatchItem, fingerprint: str) -> str | None:
    """Return None when `item`'s output is complete and made with `fingerprint`, else why it must be rendered.

    The streams are checked by reading their packets, not by decoding them, so checking a
    folder of long videos takes seconds: the video must have the timeline's frame count, and
    the audio must reach the timeline's duration.
    """
    from avatar.media import stream_packets
    from avatar.pipeline import sidecar_paths

    if not item.output.is_file():
        return "missing"
    subtitles, timeline_path = sidecar_paths(item.output)
    try:
        timeline = json.loads(timeline_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "timeline unreadable"
    if timeline.get("batch_fingerprint") != fingerprint:
        return "settings or script changed"
    if not subtitles.is_file():
        return "subtitles missing"
    try:
        frames, _ = stream_packets(item.output, "v")
        _, audio_end = stream_packets(item.output, "a")
    except AvatarError as error:
        return error.message("en")
    if frames != timeline.get("num_frames"):
        return f"video has {frames} frames, the timeline {timeline.get('num_frames')}"
    duration = float(timeline.get("duration_seconds", -1))
    if abs(audio_end - duration) > _DURATION_SLACK:
        return f"audio reaches {audio_end} s, the timeline {duration} s"
    return None


# ---- 3. Rendering one item (runs in a worker process or a Ray task)


def render_item(item: BatchItem, options: BatchOptions, fingerprint: str) -> ItemStatus:
    """Render one item and return its status, "failed" with the reason when the render fails.

    `fingerprint` comes from the caller, where the inputs were checked, and goes into the timeline.
    Only an interrupt (KeyboardInterrupt) propagates.
    """
    from avatar.pipeline import render_script

    started = time.perf_counter()
    status = ItemStatus(row=item.row, id=item.id, status="failed", output=str(item.output),
                        worker=f"{os.uname().nodename}:{os.getpid()}")
    try:
        result = render_script(item.script, item.output, item.settings(options), script_path=item.script_file,
                               timeline_extra={"batch_id": item.id, "batch_fingerprint": fingerprint})
    except AvatarError as error:
        logger.warning("item %s (row %d) failed: %s", item.id, item.row, error)
        status.key, status.reason = error.key, error.message(options.language)
    except Exception as error:  # noqa: BLE001 - one item's crash is recorded and the batch goes on
        logger.error("item %s crashed:\n%s", item.id, traceback.format_exc())
        status.key, status.reason = "internal", f"{type(error).__name__}: {error}"
    else:
        status.status, status.duration_seconds = "done", round(result.duration, 3)
    status.render_seconds = round(time.perf_counter() - started, 2)
    return status


def stop_on_sigterm() -> None:
    """Make SIGTERM (what `kill` and service managers send) stop like Ctrl-C.

    Renders then remove their unfinished files, and the batch writes its report.
    """
    def interrupt(number: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def _init_worker(language: str, verbose: bool) -> None:
    import torch

    from avatar import i18n

    # Parallel items, not parallel threads: one thread per process keeps cores from contending,
    # and keeps the GAN's float sums in one order, so frames match whatever the worker count.
    torch.set_num_threads(1)
    stop_on_sigterm()
    i18n.set_language(language)
    logging.basicConfig(level=logging.INFO if verbose else logging.ERROR,
                        format="%(levelname)s %(name)s: %(message)s")


# ---- 4. The run


def run_batch(manifest: Path, outdir: Path, options: BatchOptions, allowed_roots: tuple[Path, ...] = (),
              on_item: Callable[[ItemStatus, int, int], None] | None = None) -> BatchReport:
    """Render every valid row of `manifest` into `outdir`; return and write the status report.

    The report has one row per manifest row from the start: rows still to render are
    "pending", so a run that is stopped leaves a report of what it finished and what it did not.
    `on_item(status, finished, total)` is called as each row is settled, for progress display.

    Raises:
        AvatarError: an unusable manifest, or another batch writing to `outdir` now.
    """
    # The manifest is checked before OUTDIR is created, so a rejected manifest leaves nothing behind.
    items, rejected = read_manifest(manifest, outdir, allowed_roots)
    with _outdir_lock(outdir):
        return _run_items(manifest, outdir, options, items, rejected, on_item)


def _run_items(manifest: Path, outdir: Path, options: BatchOptions, items: list[BatchItem],
               rejected: list[ItemStatus], on_item: Callable[[ItemStatus, int, int], None] | None) -> BatchReport:
    report = BatchReport(json_path=outdir / f"{STATUS_NAME}.json", csv_path=outdir / f"{STATUS_NAME}.csv")
    by_row: dict[int, ItemStatus] = {status.row: status for status in rejected}
    total = len(items) + len(rejected)
    notify = on_item or (lambda status, finished, count: None)
    finished = len(rejected)

    def settle(status: ItemStatus) -> None:
        nonlocal finished
        by_row[status.row] = status
        finished += 1
        report.items = [by_row[row] for row in sorted(by_row)]
        write_report(report, manifest, options)
        notify(status, finished, total)

    for number, status in enumerate(rejected, start=1):
        notify(status, number, total)

    # 1. Skip what is already done.
    pending = []
    fingerprints = {item.id: item.fingerprint(options) for item in items}
    skipped = []
    for item in items:
        reason = verify_output(item, fingerprints[item.id])
        if reason is None:
            skipped.append(ItemStatus(row=item.row, id=item.id, status="skipped", output=str(item.output)))
        else:
            logger.info("item %s needs rendering: %s", item.id, reason)
            pending.append(item)
            by_row[item.row] = ItemStatus(row=item.row, id=item.id, status="pending", output=str(item.output))
    report.items = [by_row[row] for row in sorted(by_row)]
    write_report(report, manifest, options)
    for status in skipped:
        settle(status)

    # 2. Render the rest.
    if pending:
        if options.ray_address is not None:
            _run_on_ray(pending, fingerprints, options, settle)
        else:
            _run_locally(pending, fingerprints, options, settle)
    report.items = [by_row[row] for row in sorted(by_row)]
    write_report(report, manifest, options)
    return report


@contextlib.contextmanager
def _outdir_lock(outdir: Path) -> Iterator[None]:
    """Hold OUTDIR/.batch.lock, so that two batches never write one folder at once."""
    import fcntl

    outdir.mkdir(parents=True, exist_ok=True)
    with (outdir / ".batch.lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AvatarError("batch_outdir_busy", path=str(outdir)) from None
        yield


def _run_locally(items: list[BatchItem], fingerprints: dict[str, str], options: BatchOptions,
                 settle: Callable[[ItemStatus], None]) -> None:
    queue = list(items)
    attempts: dict[str, int] = {}
    verbose = logging.getLogger().isEnabledFor(logging.INFO)
    with _one_thread_per_worker():
        while queue:
            queue = _run_pool(queue, attempts, fingerprints, options, settle, verbose)


@contextlib.contextmanager
def _one_thread_per_worker() -> Iterator[None]:
    """Start workers with one OpenMP/BLAS thread each, as Ray does for a task with one CPU.

    The variables must be set before a worker imports numpy and torch, so they go into the
    environment that spawned workers inherit. A value the user set is kept.
    """
    names = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    saved = {name: os.environ.get(name) for name in names}
    for name in names:
        os.environ.setdefault(name, "1")
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)


def _run_pool(queue: list[BatchItem], attempts: dict[str, int], fingerprints: dict[str, str], options: BatchOptions,
              settle: Callable[[ItemStatus], None], verbose: bool) -> list[BatchItem]:
    """Render `queue` in one process pool; return the items to try again in a fresh pool."""
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    from avatar import i18n

    retry: list[BatchItem] = []
    # Spawned, not forked: the parent may hold threads (torch, mediapipe) that a fork would copy mid-work.
    executor = ProcessPoolExecutor(max_workers=max(1, min(options.workers, len(queue))),
                                   mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_init_worker, initargs=(i18n.ui_language(), verbose))
    futures = {executor.submit(render_item, item, options, fingerprints[item.id]): item for item in queue}
    try:
        remaining = set(futures)
        while remaining:
            finished, remaining = wait(remaining, return_when=FIRST_COMPLETED)
            for future in finished:
                item = futures[future]
                try:
                    settle(future.result())
                except BrokenProcessPool:
                    # A worker died (killed, out of memory): every unfinished item of the pool fails
                    # with it. Each is tried once more in a fresh pool; an item that kills twice fails.
                    attempts[item.id] = attempts.get(item.id, 0) + 1
                    logger.warning("a worker process died while item %s was pending (attempt %d)", item.id,
                                   attempts[item.id])
                    if attempts[item.id] >= 2:
                        settle(_failure(item, "batch_worker_died", options))
                    else:
                        retry.append(item)
    except KeyboardInterrupt:
        # A terminal's Ctrl-C reaches the workers too, but `kill -INT` reaches only this process.
        # Interrupted workers remove their unfinished files, which a terminated one would leave.
        for process in list(getattr(executor, "_processes", {}).values()):
            with contextlib.suppress(OSError):
                os.kill(process.pid, signal.SIGINT)
        executor.shutdown(wait=True, cancel_futures=True)
        # Items that finished while the interrupt arrived still go into the report.
        for future in futures:
            if future.done() and not future.cancelled() and future.exception() is None:
                status = future.result()
                if status.status == "done":
                    settle(status)
        raise
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
    return retry


def _run_on_ray(items: list[BatchItem], fingerprints: dict[str, str], options: BatchOptions,
                settle: Callable[[ItemStatus], None]) -> None:
    try:
        import ray
    except ImportError:
        raise AvatarError("batch_ray_missing") from None

    started_here = not ray.is_initialized()
    if started_here:
        try:
            # Ray's own start-up lines only with -v: the batch prints its own progress.
            quiet = {"log_to_driver": False, "logging_level": logger.getEffectiveLevel()}
            if options.ray_address == "local":
                ray.init(num_cpus=max(1, options.workers), include_dashboard=False, **quiet)
            else:
                ray.init(address=options.ray_address, **quiet)
        except Exception as error:  # noqa: BLE001 - Ray raises many types for an unreachable cluster
            raise AvatarError("batch_ray_connect", address=options.ray_address, reason=str(error)) from None
    try:
        remote = ray.remote(_render_on_ray).options(num_cpus=options.ray_cpus, num_gpus=options.ray_gpus,
                                                   max_retries=1)
        from avatar import i18n

        language = i18n.ui_language()
        pending = {remote.remote(item, options, fingerprints[item.id], language): item for item in items}
        while pending:
            finished, _ = ray.wait(list(pending), num_returns=1)
            for reference in finished:
                item = pending.pop(reference)
                try:
                    settle(ray.get(reference))
                except Exception as error:  # noqa: BLE001 - a lost node or worker fails this item only
                    logger.error("item %s failed on Ray: %s", item.id, error)
                    settle(_failure(item, "batch_worker_died", options))
    finally:
        if started_here:
            ray.shutdown()


def _render_on_ray(item: BatchItem, options: BatchOptions, fingerprint: str, language: str) -> ItemStatus:
    _init_worker(language, verbose=False)
    return render_item(item, options, fingerprint)


def _failure(item: BatchItem, key: str, options: BatchOptions) -> ItemStatus:
    return ItemStatus(row=item.row, id=item.id, status="failed", output=str(item.output), key=key,
                      reason=translate(key, options.language))


def write_report(report: BatchReport, manifest: Path, options: BatchOptions) -> None:
    """Write the status report as JSON (with a summary) and CSV (one row per item), atomically."""
    rows = [asdict(item) for item in report.items]
    summary = {status: report.count(status) for status in ("done", "skipped", "failed", "rejected", "pending")}
    document = {"manifest": str(manifest.resolve()), "updated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "options": _jsonable(asdict(options)), "summary": summary, "items": rows}
    assert report.json_path is not None and report.csv_path is not None
    write_text_atomic(report.json_path, json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=STATUS_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    # A BOM, so that spreadsheet programs read the Chinese reasons as UTF-8.
    write_text_atomic(report.csv_path, "\ufeff" + buffer.getvalue())


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, Path):
        return str(value)
    return value


def _template_files(layout: Layout) -> tuple[Path, ...]:
    """Return a loaded layout's template file and the images it names (backdrop, logo)."""
    files = [layout.path]
    if layout.background is not None and layout.background.path is not None:
        files.append(layout.background.path)
    if layout.logo is not None:
        files.append(layout.logo.image)
    return tuple(files)


def _file_stamp(path: Path | str | None) -> list | None:
    """Size and modification time of an input file: a replaced portrait makes the output stale."""
    if path is None or (isinstance(path, str) and path.startswith("#")):
        return None
    try:
        stat = Path(path).stat()
    except OSError:
        return None
    return [stat.st_size, stat.st_mtime_ns]
