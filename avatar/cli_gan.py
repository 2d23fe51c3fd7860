"""The face GAN commands: `avatar train-gan` (base model or a creator's profile) and `avatar finetune` (from ratings)."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

from avatar.errors import AvatarError
from avatar.i18n import translate as tr
from face_gan import DEFAULT_FINE_TUNE_STEPS, DEFAULT_HOLDOUT

DEFAULT_RUN = Path("runs") / "face_gan"
DEFAULT_BASE_STEPS = 20000


def default_video_folder() -> Path:
    """$AVATAR_GAN_DATA, or ../shared/data/videos beside the repository."""
    configured = os.environ.get("AVATAR_GAN_DATA")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[1].parent / "shared" / "data" / "videos"


def add_commands(commands, common: argparse.ArgumentParser, helptext: Callable[[str, str], str]) -> None:
    train = commands.add_parser(
        "train-gan", parents=[common],
        help=helptext("train the face GAN, or fine-tune it on your own clip (--video)",
                      "训练人脸 GAN，或用你自己的视频微调（--video）"))
    train.add_argument("--video", type=Path, metavar="CLIP",
                       help=helptext("fine-tune on this 1-3 minute talking clip and write an avatar profile to -o",
                                     "用这段 1 到 3 分钟的说话视频微调，并把数字人档案写入 -o"))
    train.add_argument("-o", "--output", type=Path,
                       help=helptext("profile folder to write (with --video)", "要写入的数字人档案目录（配合 --video）"))
    train.add_argument("--init", type=Path, metavar="CHECKPOINT",
                       help=helptext("generator to start from (default with --video: checkpoints/face_gan.pt)",
                                     "起始模型（配合 --video 时默认 checkpoints/face_gan.pt）"))
    train.add_argument("--steps", type=int, default=None,
                       help=helptext(f"train up to this step (default: {DEFAULT_BASE_STEPS}; with --video "
                                     f"{DEFAULT_FINE_TUNE_STEPS})",
                                     f"训练到第几步（默认 {DEFAULT_BASE_STEPS}；配合 --video 时 {DEFAULT_FINE_TUNE_STEPS}）"))
    train.add_argument("--data", type=Path, default=None,
                       help=helptext("folder of training clips (default: ../shared/data/videos)",
                                     "训练视频目录（默认 ../shared/data/videos）"))
    train.add_argument("--run", type=Path, default=DEFAULT_RUN,
                       help=helptext(f"run folder; an existing run resumes (default: {DEFAULT_RUN})",
                                     f"训练目录；已有的训练会接着继续（默认 {DEFAULT_RUN}）"))
    train.add_argument("--holdout", nargs="+", default=None, metavar="CLIP",
                       help=helptext(f"clip names kept out of training for validation (default: {', '.join(DEFAULT_HOLDOUT)} "
                                     "when the folder has them, else the last clip by name)",
                                     f"不参与训练、用于验证的视频名（默认：目录中有 {'、'.join(DEFAULT_HOLDOUT)} 时用它们，否则用按名称排序的最后一段）"))
    train.add_argument("--batch-size", type=int, default=8, help=helptext("pairs per step (default: 8)", "每步样本数（默认 8）"))
    train.add_argument("--max-frames", type=int, default=None, metavar="N",
                       help=helptext("use only the first N frames of each clip, for a quick check",
                                     "每段视频只用前 N 帧，用于快速检查"))
    train.add_argument("--export", type=Path, metavar="CHECKPOINT",
                       help=helptext("write the trained generator and its manifest here",
                                     "把训练好的生成器及说明文件写到这里"))


    finetune = commands.add_parser(
        "finetune", parents=[common],
        help=helptext("fine-tune the face GAN from realism ratings collected in the studio",
                      "根据工作室收集的真实感评分微调人脸 GAN"))
    finetune.add_argument("--ratings", type=Path, required=True, metavar="DB",
                          help=helptext("ratings database (SQLite)", "评分数据库（SQLite）"))
    finetune.add_argument("--base", type=Path, default=None, metavar="CHECKPOINT",
                          help=helptext("checkpoint to start from (default: checkpoints/face_gan.pt)",
                                        "起始模型（默认 checkpoints/face_gan.pt）"))
    finetune.add_argument("--output", type=Path, default=None, metavar="CHECKPOINT",
                          help=helptext("where to write the new checkpoint (default: BASE.ftN.pt beside the base)",
                                        "新模型的保存位置（默认在起始模型旁写入 BASE.ftN.pt）"))
    finetune.add_argument("--clips", type=Path, default=None, metavar="FOLDER",
                          help=helptext("folder that relative clip paths in the ratings start from (default: the database's folder)",
                                        "评分中相对视频路径的起始目录（默认数据库所在目录）"))
    finetune.add_argument("--data", type=Path, default=None,
                          help=helptext("folder of training clips for the generator (default: ../shared/data/videos)",
                                        "微调生成器用的训练视频目录（默认 ../shared/data/videos）"))
    finetune.add_argument("--head-steps", type=int, default=300, help=helptext("realism head steps (default: 300)", "评分头训练步数（默认 300）"))
    finetune.add_argument("--steps", type=int, default=200, help=helptext("generator steps (default: 200)", "生成器微调步数（默认 200）"))
    finetune.add_argument("--max-frames", type=int, default=None, metavar="N",
                          help=helptext("use only the first N frames of each training clip", "每段训练视频只用前 N 帧"))


def run(options: argparse.Namespace) -> bool:
    """Run a face GAN command; False when `options.command` is not one of them."""
    if options.command == "finetune":
        _finetune(options)
        return True
    if options.command != "train-gan":
        return False
    for option, value in (("--steps", options.steps), ("--batch-size", options.batch_size),
                          ("--max-frames", options.max_frames)):
        if value is not None and value < 1:
            raise AvatarError("invalid_count", option=option, value=value)
    # Each mode has its own options; one given to the other mode would be silently ignored.
    if options.video is not None:
        given = [flag for flag, value in (("--data", options.data), ("--run", options.run != DEFAULT_RUN or None),
                                          ("--holdout", options.holdout), ("--export", options.export)) if value]
        if given:
            raise AvatarError("gan_options_conflict", options=", ".join(given), mode="--video")
    elif options.output is not None or options.init is not None:
        given = [flag for flag, value in (("-o", options.output), ("--init", options.init)) if value is not None]
        raise AvatarError("gan_options_need_video", options=", ".join(given))
    if options.video is not None:
        _personalise(options)
    else:
        _train_base(options)
    return True


class _StepBar:
    """A tqdm bar over training steps on a terminal; plain lines otherwise."""

    def __init__(self, label: str) -> None:
        from tqdm import tqdm

        self._bar = tqdm(desc=tr(label), unit=" step", leave=False, disable=not sys.stderr.isatty(), file=sys.stderr)
        self._quiet = self._bar.disable

    def __call__(self, step: int, total: int, losses: dict) -> None:
        self._bar.total = total
        self._bar.update(step - self._bar.n)
        self._bar.set_postfix({key: f"{value:.3f}" for key, value in losses.items() if key in ("l1", "d", "g")})
        if self._quiet:
            print(f"step {step}/{total} " + " ".join(f"{key}={value:.4f}" for key, value in losses.items()), flush=True)

    def close(self) -> None:
        self._bar.close()


def _print_validation(step: int, run: Path, history: list[dict]) -> None:
    if not history:
        return
    last = history[-1]
    print(tr("done_train_gan", steps=step, run=str(run), warp=last["warp_psnr"], gan=last["gan_psnr"],
             warp_mouth=last["warp_mouth_psnr"], gan_mouth=last["gan_mouth_psnr"]))


def _train_base(options: argparse.Namespace) -> None:
    from face_gan.pipeline import data_summary, export_checkpoint, train_base
    from face_gan.train import TrainConfig

    data = options.data or default_video_folder()
    if options.export is not None:
        _check_export(options.export)
    config = TrainConfig(steps=options.steps or DEFAULT_BASE_STEPS, batch_size=options.batch_size)
    bar = _StepBar("progress_train_gan")
    try:
        state, training, validation, problems = train_base(
            data, options.run, config, tuple(options.holdout) if options.holdout else None,
            max_frames=options.max_frames, report=bar)
    finally:
        bar.close()
    for problem in problems:
        print(tr("warning_prefix") + tr("gan_clip_left_out", reason=problem), file=sys.stderr)
    _print_validation(state.step, options.run, state.history)
    if options.export is not None:
        command = "avatar " + shlex.join(options.arguments)
        export_checkpoint(options.run, options.export, data_summary(training, validation, data), command)
        print(tr("done_export_gan", path=str(options.export), manifest=str(options.export.with_suffix(".json"))))


def _check_export(path: Path) -> None:
    """Reject an export path before training: a folder, a non-.pt name, or a file that is not ours to replace."""
    import json

    from avatar.fileio import check_output_path
    from face_gan.refiner import load_checkpoint

    check_output_path(path, ".pt")
    if path.exists():
        try:
            load_checkpoint(path)
        except AvatarError:
            raise AvatarError("export_taken", path=str(path)) from None
    manifest = path.with_suffix(".json")
    if manifest.exists():
        try:
            owned = str(json.loads(manifest.read_text(encoding="utf-8")).get("model", "")).startswith("face_gan")
        except (OSError, ValueError, AttributeError):
            owned = False
        if not owned:
            raise AvatarError("export_taken", path=str(manifest))


def _personalise(options: argparse.Namespace) -> None:
    from face_gan.profile import personalise
    from face_gan.refiner import default_gan_checkpoint

    if options.output is None:
        raise AvatarError("profile_output_required")
    for path in (options.video, options.init):
        if path is not None and path.is_dir():
            raise AvatarError("path_is_directory", path=str(path))
    if not options.video.is_file():
        raise AvatarError("file_not_found", path=str(options.video))
    if options.init is not None and not options.init.is_file():
        raise AvatarError("gan_init_missing", path=str(options.init))
    init = options.init
    if init is None and default_gan_checkpoint().is_file():
        init = default_gan_checkpoint()
    bar = _StepBar("progress_train_gan")
    try:
        profile, clip = personalise(options.video, options.output, init, steps=options.steps or DEFAULT_FINE_TUNE_STEPS,
                                    max_frames=options.max_frames, report=bar)
    finally:
        bar.close()
    if clip.skipped:
        print(tr("warning_prefix") + tr("gan_frames_skipped", video=str(options.video), skipped=clip.skipped,
                                        used=len(clip.crops)), file=sys.stderr)
    validation = profile.info.get("validation")
    if validation:
        _print_validation(profile.info["steps"], options.output / "run", [validation])
    print(tr("done_profile", path=shlex.quote(str(options.output))))


def _finetune(options: argparse.Namespace) -> None:
    from face_gan.finetune import FinetuneConfig, check_finetune_inputs, finetune_from_ratings
    from face_gan.pipeline import finetune_clips
    from face_gan.refiner import default_gan_checkpoint

    for option, value in (("--steps", options.steps), ("--head-steps", options.head_steps)):
        if value < 1:
            raise AvatarError("invalid_count", option=option, value=value)
    base = options.base or default_gan_checkpoint()
    check_finetune_inputs(options.ratings, base)  # fail in a second, not after extracting training clips
    data = options.data or default_video_folder()
    training, validation = finetune_clips(data, options.max_frames)
    bars: dict[str, object] = {}

    def report(phase: str, done: int, total: int) -> None:
        from tqdm import tqdm

        if phase not in bars:
            bars[phase] = tqdm(total=total, desc=tr(f"progress_finetune_{phase}"), leave=False,
                               disable=not sys.stderr.isatty(), file=sys.stderr)
        bars[phase].update(done - bars[phase].n)  # type: ignore[attr-defined]

    try:
        output, manifest = finetune_from_ratings(
            options.ratings, base, training, validation, output=options.output, clip_root=options.clips,
            config=FinetuneConfig(head_steps=options.head_steps, generator_steps=options.steps), report=report)
    finally:
        for bar in bars.values():
            bar.close()  # type: ignore[attr-defined]
    for problem in manifest["ratings"]["unreadable_clips"]:
        print(tr("warning_prefix") + problem, file=sys.stderr)
    accuracy = manifest["realism_head"]["held_out_accuracy"]
    print(tr("done_finetune", path=str(output), accuracy="-" if accuracy is None else f"{accuracy:.2f}",
             before=manifest["reconstruction_before"]["gan_mouth_psnr"],
             after=manifest["reconstruction_after"]["gan_mouth_psnr"]))
