"""The `avatar` command line: render, say, normalize, voices, demo, the emotion commands
(plan, analyze, train-emotion, eval-emotion in `avatar.cli_emotion`) and train-gan
(`avatar.cli_gan`).

Errors a user can fix are shown as one readable line in the UI language (Chinese or
English, from the locale or `--ui-lang`) and exit with status 2. An unexpected failure
writes its traceback to a log file, prints where it is, and exits with status 1.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import traceback
from pathlib import Path
from typing import NoReturn

from avatar import cli_batch, cli_emotion, cli_gan, i18n
from avatar.cli_emotion import add_preset_option
from avatar.errors import AvatarError
from avatar.i18n import translate as tr
from emotion.arc import DEFAULT_PRESET, PRESETS
from face_gan import DEFAULT_REFINER, REFINERS

logger = logging.getLogger("avatar")

EXIT_USAGE = 2
EXIT_INTERNAL = 1
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a tool killed by a closed pipe


class _Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors in the UI language.

    argparse prints its whole usage block and English text; a user needs the
    problem and where to look for the options.
    """

    # argparse's own phrases, in the order they are tried, and their Chinese wording.
    PHRASES = (
        ("invalid choice: ", "无效的选项值："),
        ("invalid int value: ", "不是整数："),
        ("invalid float value: ", "不是数字："),
        ("the following arguments are required: ", "缺少必需的参数："),
        ("unrecognized arguments: ", "无法识别的参数："),
        ("expected one argument", "需要一个值"),
        ("argument ", "参数 "),
        ("choose from ", "可选："),
    )

    def error(self, message: str) -> NoReturn:
        if i18n.ui_language() == "zh":
            for english, chinese in self.PHRASES:
                message = message.replace(english, chinese)
        self.exit(EXIT_USAGE, tr("error_prefix") + message + tr("see_help", command=self.prog) + "\n")


def _help(en: str, zh: str) -> str:
    return zh if i18n.ui_language() == "zh" else en


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser; help text follows the UI language."""
    from avatar import __version__

    # The common options work before or after the command ("avatar -v render" and
    # "avatar render -v"); SUPPRESS keeps the subcommand's unset default from hiding the first.
    common = _Parser(add_help=False)
    common.add_argument("--ui-lang", choices=["zh", "en"], default=argparse.SUPPRESS,
                        help=_help("language of messages (default: from the locale)", "界面语言（默认跟随系统区域设置）"))
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help=_help("log each stage", "输出详细日志"))
    parser = _Parser(
        prog="avatar",
        parents=[common],
        description=_help("Turn a script into a video of a presenter who speaks it with emotion.",
                          "把文稿变成带情感朗读的虚拟主播视频。"),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    render = commands.add_parser("render", parents=[common], help=_help("render a script to MP4", "把文稿渲染成 MP4 视频"))
    render.add_argument("script", help=_help("UTF-8 text file; - reads standard input", "UTF-8 文本文件；- 表示从标准输入读取"))
    render.add_argument("-o", "--output", required=True, type=Path,
                        help=_help("output MP4; OUT.srt and OUT.timeline.json are written beside it",
                                   "输出 MP4 文件；同目录下还会生成 OUT.srt 和 OUT.timeline.json"))
    _add_render_options(render)
    _add_voice_options(render)
    render.add_argument("--plan", type=Path, metavar="PLAN",
                        help=_help("emotion plan file (.json or .csv from 'avatar plan') to use instead of the classifier",
                                   "使用情绪计划文件（avatar plan 生成的 .json 或 .csv）代替自动判断"))

    say = commands.add_parser("say", parents=[common], help=_help("speak text to a WAV file", "把文字合成为 WAV 语音"))
    say.add_argument("text", help=_help("text to speak; - reads standard input", "要朗读的文字；- 表示从标准输入读取"))
    say.add_argument("-o", "--output", required=True, type=Path, help=_help("output WAV file", "输出 WAV 文件"))
    say.add_argument("--lang", default="auto", choices=["auto", "zh", "en"],
                     help=_help("main language, which selects the voice (default: auto)", "主要语言，决定使用的声音（默认 auto）"))
    say.add_argument("--emotion", metavar="LABEL[:INTENSITY]",
                     help=_help("emotion for every sentence, e.g. happy or sad:0.8 (default: from the text)",
                                "所有句子的情绪，如 happy 或 sad:0.8（默认根据文字判断）"))
    say.add_argument("--seed", type=int, default=0, help=_help("seed for voice variation", "语音随机种子"))
    _add_voice_options(say)

    normalize = commands.add_parser("normalize", parents=[common],
                                    help=_help("print the text exactly as the voice will read it",
                                               "显示声音实际朗读的文字"))
    normalize.add_argument("text", help=_help("text or SSML; - reads standard input", "文字或 SSML；- 表示从标准输入读取"))
    normalize.add_argument("--lang", default="auto", choices=["auto", "zh", "en"],
                           help=_help("main language, which selects the voice (default: auto)",
                                      "主要语言，决定使用的声音（默认 auto）"))

    commands.add_parser("voices", parents=[common], help=_help("list the voices", "列出可用的声音"))

    demo = commands.add_parser("demo", parents=[common], help=_help("render the two demo videos into out/", "在 out/ 中渲染两段演示视频"))
    demo.add_argument("-d", "--directory", type=Path, default=Path("out"),
                      help=_help("output folder (default: out)", "输出目录（默认 out）"))
    demo.add_argument("--size", type=int, default=512, help=_help("longer side in pixels", "视频长边像素数"))
    cli_emotion.add_commands(commands, common, _help)
    cli_gan.add_commands(commands, common, _help)
    cli_batch.add_commands(commands, common, _help)
    commands.add_parser("studio", parents=[common], add_help=False,
                        help=_help("open the studio in a browser (options: avatar studio --help)",
                                   "启动浏览器工作室（选项见 avatar studio --help）"))
    return parser


def _add_render_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--portrait", type=Path,
                         help=_help("portrait image (default: the embedded portrait)", "肖像图片（默认使用内置肖像）"))
    command.add_argument("--lang", default="auto", choices=["auto", "zh", "en"],
                         help=_help("main language, which selects the voice (default: auto)", "主要语言，决定使用的声音（默认 auto）"))
    command.add_argument("--fps", type=int, default=25,
                         help=_help("frames per second, 1 to 60 (default: 25)", "帧率，1 到 60（默认 25）"))
    command.add_argument("--size", type=int, default=512,
                         help=_help("longer side of the video in pixels, 256 to 1920, rounded down to even (default: 512)",
                                    "视频长边像素数，256 到 1920，取不大于它的偶数（默认 512）"))
    command.add_argument("--background", metavar="COLOR|IMAGE",
                         help=_help("replace the portrait's background with #RRGGBB or an image",
                                    "用 #RRGGBB 颜色或图片替换肖像背景"))
    command.add_argument("--emotion", metavar="LABEL[:INTENSITY]",
                         help=_help("emotion for every sentence without a tag (default: from the text)",
                                    "没有标签的句子统一使用的情绪（默认根据文字判断）"))
    command.add_argument("--seed", type=int, default=0,
                         help=_help("seed for voice variation, blinks and head motion", "语音、眨眼和头部动作的随机种子"))
    add_preset_option(command, _help, DEFAULT_PRESET, PRESETS)
    command.add_argument("--refiner", default=None, choices=list(REFINERS),
                         help=_help(f"gan: the face GAN refines mouth and expression; none: warp only "
                                    f"(default: gan with --avatar, else {DEFAULT_REFINER})",
                                    f"gan：用人脸 GAN 精修嘴部和表情；none：只做变形（默认：使用 --avatar 时为 gan，否则为 {DEFAULT_REFINER}）"))
    command.add_argument("--gan-checkpoint", type=Path, metavar="CHECKPOINT",
                         help=_help("generator checkpoint for --refiner gan (default: checkpoints/face_gan.pt, or the profile's)",
                                    "--refiner gan 使用的生成器模型（默认 checkpoints/face_gan.pt，或档案中的模型）"))
    command.add_argument("--layout", default="full", metavar="NAME|TEMPLATE.json",
                         help=_help("full (default), news, vertical, square, or a layout template (docs/layouts.md)",
                                    "版式：full（默认）、news、vertical、square，或版式模板文件（见 docs/layouts.zh-CN.md）"))
    command.add_argument("--headline", metavar="TEXT",
                         help=_help("headline for the lower third of layouts that have one (news)",
                                    "下方标题栏的文字（用于有标题栏的版式，如 news）"))
    command.add_argument("--ticker", metavar="TEXT",
                         help=_help("text of the scrolling ticker (default: the template's)",
                                    "滚动字幕条的文字（默认使用模板中的文字）"))
    command.add_argument("--avatar", type=Path, metavar="PROFILE",
                         help=_help("avatar profile folder from 'avatar train-gan --video' (its portrait and generator)",
                                    "avatar train-gan --video 生成的数字人档案目录（使用其中的肖像和生成器）"))


def _add_voice_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--voice", metavar="ID",
                         help=_help("voice id from 'avatar voices' (default: by language)",
                                    "声音编号，见 avatar voices（默认按语言选择）"))
    command.add_argument("--speed", type=float, default=1.0,
                         help=_help("speaking rate, 0.5 to 2 (default: 1, the voice's normal pace)",
                                    "语速，0.5 到 2（默认 1，即正常语速）"))
    command.add_argument("--loudness", type=float, default=-16.0, metavar="LUFS",
                         help=_help("target loudness in LUFS, -40 to -5 (default: -16, for online video)",
                                    "目标响度（LUFS），-40 到 -5（默认 -16，适合网络视频）"))


def _normalize(options: argparse.Namespace) -> None:
    from emotion.planner import plan_script
    from voice.normalize import normalize_text

    text = _read_stdin() if options.text == "-" else options.text
    plan = plan_script(text, options.lang, labeller="none")
    _print_notices(plan.warnings)
    for segment in plan.segments:
        source = segment.spoken_text if segment.spoken_text is not None else segment.text
        print(normalize_text(source, plan.language))


def _voices() -> None:
    from voice.synthesize import list_voices

    header = (tr("voices_id"), tr("voices_language"), tr("voices_rate"), tr("voices_licence"))
    rows = [(voice.id, voice.language, str(voice.sample_rate), voice.licence) for voice in list_voices()]
    width = [max(len(row[column]) for row in [header, *rows]) for column in range(3)]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width[column]) for column, cell in enumerate(row[:3])) + "  " + row[3])


def _read_stdin(shown: str = "-") -> str:
    """Read standard input as UTF-8 (a BOM is dropped), rejecting other encodings like a file."""
    try:
        return sys.stdin.buffer.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise AvatarError("script_not_utf8", path=shown) from None


def _read_script(source: str) -> str:
    if source == "-":
        return _read_stdin()
    path = Path(source)
    if path.is_dir():
        raise AvatarError("path_is_directory", path=source)
    if not path.is_file():
        raise AvatarError("file_not_found", path=source)
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise AvatarError("script_not_utf8", path=source) from None
    except OSError as error:
        raise AvatarError("file_unreadable", path=source, reason=error.strerror or str(error)) from None


class _ProgressPrinter:
    """Progress bars on standard error, one per stage, switched off when stderr is not a terminal."""

    LABELS = {"plan": "progress_plan", "voice": "progress_voice", "render": "progress_render"}

    def __init__(self) -> None:
        from tqdm import tqdm

        self._tqdm = tqdm
        self._bars: dict[str, object] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        bar = self._bars.get(stage)
        if bar is None:
            bar = self._tqdm(total=total, desc=tr(self.LABELS.get(stage, stage)), unit="", leave=False,
                             disable=not sys.stderr.isatty(), file=sys.stderr)
            self._bars[stage] = bar
        bar.update(done - bar.n)  # type: ignore[attr-defined]
        if done >= total:
            bar.close()  # type: ignore[attr-defined]

    def close(self) -> None:
        for bar in self._bars.values():
            bar.close()  # type: ignore[attr-defined]


def _render(script_source: str, output: Path, options: argparse.Namespace) -> None:
    from avatar.pipeline import RenderSettings, render_script
    from emotion.planner import parse_emotion

    settings = RenderSettings(
        portrait=options.portrait, language=options.lang, fps=options.fps, size=options.size,
        background=options.background, seed=options.seed,
        emotion=parse_emotion(options.emotion) if options.emotion else None,
        voice=options.voice, loudness_lufs=options.loudness, preset=options.preset,
        plan=getattr(options, "plan", None), refiner=options.refiner, avatar=options.avatar,
        gan_checkpoint=options.gan_checkpoint, speed=options.speed,
        layout=options.layout, headline=options.headline, ticker=options.ticker,
    )
    script = _read_script(script_source)
    progress = _ProgressPrinter()
    started = time.perf_counter()
    try:
        result = render_script(script, output, settings, progress,
                               script_path=None if script_source == "-" else Path(script_source))
    finally:
        progress.close()
    _print_notices((*result.plan.warnings, *result.notices), result.failures)
    print(tr("done_render", path=str(output), seconds=result.duration, segments=len(result.plan.segments),
             sentences=_count_sentences(len(result.plan.segments)), wall=time.perf_counter() - started))
    print(tr("done_files", srt=str(result.subtitles), timeline=str(result.timeline)))


def _count_sentences(count: int) -> str:
    """Return "1 sentence" or "N sentences" for the English message (Chinese has no plural)."""
    return f"{count} sentence" if count == 1 else f"{count} sentences"


def _print_notices(notices, failures: tuple[tuple[int, str], ...] = ()) -> None:
    for notice in notices:
        print(tr("warning_prefix") + notice.message(), file=sys.stderr)
    for index, reason in failures:
        print(tr("warning_prefix") + tr("warn_sentence_failed", index=index + 1, reason=reason), file=sys.stderr)


def _say(options: argparse.Namespace) -> None:
    from avatar.pipeline import speak_text
    from emotion.planner import parse_emotion

    text = _read_stdin() if options.text == "-" else options.text
    emotion = parse_emotion(options.emotion) if options.emotion else None
    utterance, plan = speak_text(text, options.output, options.lang, emotion, voice=options.voice, speed=options.speed,
                                 seed=options.seed, loudness_lufs=options.loudness)
    _print_notices(plan.warnings, utterance.failures)
    print(tr("done_say", path=str(options.output), seconds=utterance.duration, sample_rate=utterance.sample_rate))


def _demo(options: argparse.Namespace) -> None:
    from importlib import resources

    assets = resources.files("avatar") / "assets"
    for language in ("zh", "en"):
        script = (assets / f"demo_{language}.txt").read_text(encoding="utf-8")
        output = options.directory / f"demo_{language}.mp4"
        namespace = argparse.Namespace(portrait=None, lang=language, fps=25, size=options.size, background=None,
                                       seed=0, emotion=None, voice=None, loudness=-16.0, speed=1.0, preset=DEFAULT_PRESET,
                                       refiner=None, avatar=None, gan_checkpoint=None, layout="full",
                                       headline=None, ticker=None)
        _render_text(script, output, namespace)


def _render_text(script: str, output: Path, options: argparse.Namespace) -> None:
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8", delete=False) as handle:
        handle.write(script)
    try:
        _render(handle.name, output, options)
    finally:
        Path(handle.name).unlink(missing_ok=True)


def _write_crash_log() -> Path:
    import tempfile

    from voice.cache import cache_dir

    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        folder = Path(tempfile.gettempdir())
    path = folder / "avatar-crash.log"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(sys.argv)}\n")
        handle.write(traceback.format_exc())
    return path


def _silence_native_logs() -> None:
    """Send what native libraries write to file descriptor 2 to /dev/null, keeping Python's stderr.

    mediapipe and LiteRT log start-up chatter ("Created TensorFlow Lite XNNPACK delegate",
    "Feedback manager requires…") from C++ straight to descriptor 2, before their logging can
    be configured, and no environment variable turns it off. Python's `sys.stderr` moves to a
    duplicate of the original descriptor, so our own messages and progress bars still show.
    """
    try:
        original = os.dup(2)
        devnull = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    sys.stderr.flush()
    os.dup2(devnull, 2)
    os.close(devnull)
    sys.stderr = os.fdopen(original, "w", buffering=1, encoding=sys.stderr.encoding or "utf-8",
                           errors="backslashreplace")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit status."""
    arguments = sys.argv[1:] if argv is None else argv
    # Read --ui-lang before building the parser, so help text is in that language too.
    if "--ui-lang" in arguments:
        position = arguments.index("--ui-lang")
        if position + 1 < len(arguments) and arguments[position + 1] in i18n.SUPPORTED:
            i18n.set_language(arguments[position + 1])
    if arguments[:1] == ["studio"]:
        # The studio has its own options (host, port, auth, ...), parsed by studio_app.
        import studio_app

        studio_app.main(arguments[1:])
        return 0
    options = build_parser().parse_args(arguments)
    options.arguments = list(arguments)  # recorded in manifests as the command that made them
    options.verbose = getattr(options, "verbose", False)
    if getattr(options, "ui_lang", None):
        i18n.set_language(options.ui_lang)
    if not options.verbose and argv is None:
        _silence_native_logs()
    # Without -v only errors are logged: what a user must know arrives as translated notices.
    logging.basicConfig(level=logging.INFO if options.verbose else logging.ERROR,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        if options.command == "render":
            _render(options.script, options.output, options)
        elif options.command == "say":
            _say(options)
        elif options.command == "normalize":
            _normalize(options)
        elif options.command == "voices":
            _voices()
        elif options.command == "demo":
            _demo(options)
        elif options.command == "batch":
            return cli_batch.run(options)
        elif not cli_gan.run(options):
            cli_emotion.run(options, _read_script)
        return 0
    except AvatarError as error:
        print(tr("error_prefix") + error.message(), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(tr("interrupted"), file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader of our output went away (`avatar analyze FILE | head`), so stop quietly as
        # Unix tools do. stdout goes to /dev/null so that the interpreter's final flush cannot fail.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except Exception as error:  # noqa: BLE001 - the last line of defence: log it, then tell the user where
        log = _write_crash_log()
        print(tr("error_prefix") + tr("unexpected_error", reason=f"{type(error).__name__}: {error}", log=str(log)),
              file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
