"""The emotion commands of the `avatar` CLI: plan, analyze, train-emotion, eval-emotion.

`avatar.cli` builds the parser and handles errors; this module adds these commands to it and
runs them.
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path

from avatar.errors import AvatarError
from avatar.i18n import translate as tr
from avatar.i18n import ui_language

LABEL_NAMES_ZH = {"neutral": "中性", "happy": "开心", "sad": "悲伤", "angry": "愤怒", "surprised": "惊讶",
                  "fearful": "恐惧", "disgusted": "厌恶"}


def add_commands(commands, common: argparse.ArgumentParser, helptext: Callable[[str, str], str]) -> None:
    from emotion.arc import DEFAULT_PRESET, PRESETS

    plan = commands.add_parser("plan", parents=[common],
                               help=helptext("write the editable emotion plan of a script", "生成文稿的可编辑情绪计划"))
    plan.add_argument("script", help=helptext("UTF-8 text or SSML file; - reads standard input",
                                              "UTF-8 文本或 SSML 文件；- 表示从标准输入读取"))
    plan.add_argument("-o", "--output", type=Path,
                      help=helptext("plan file to write: .json or .csv (default: print a table)",
                                    "要写入的计划文件：.json 或 .csv（默认打印表格）"))
    plan.add_argument("--lang", default="auto", choices=["auto", "zh", "en"],
                      help=helptext("main language (default: auto)", "主要语言（默认 auto）"))
    add_preset_option(plan, helptext, DEFAULT_PRESET, PRESETS)

    analyze = commands.add_parser("analyze", parents=[common],
                                  help=helptext("report the emotions in a script or a file of texts",
                                                "分析文稿或逐行文本中的情绪"))
    analyze.add_argument("file", help=helptext("UTF-8 text file (one text per line, or a script); - reads standard input",
                                               "UTF-8 文本文件（每行一条文本，或一篇文稿）；- 表示从标准输入读取"))
    analyze.add_argument("--json", action="store_true",
                         help=helptext("print one JSON object per input line", "每个输入行输出一个 JSON 对象"))
    analyze.add_argument("--plot", type=Path, metavar="PNG",
                         help=helptext("also draw the distribution as a PNG chart", "另外把情绪分布画成 PNG 图表"))
    analyze.add_argument("--lang", default="auto", choices=["auto", "zh", "en"],
                         help=helptext("language of the texts (default: detect per text)", "文本语言（默认逐条检测）"))

    train = commands.add_parser("train-emotion", parents=[common],
                                help=helptext("train the emotion classifiers", "训练情绪分类器"))
    train.add_argument("--lang", default="all", choices=["all", "zh", "en"],
                       help=helptext("which language to train (default: both)", "训练哪种语言（默认两种都训练）"))
    train.add_argument("--output", type=Path, default=None,
                       help=helptext("checkpoint folder (default: checkpoints/)", "模型保存目录（默认 checkpoints/）"))
    train.add_argument("--data", type=Path, default=None,
                       help=helptext("emotion_text corpus folder (default: ../shared/data/emotion_text)",
                                     "emotion_text 语料目录（默认 ../shared/data/emotion_text）"))
    train.add_argument("--limit", type=int, default=None, metavar="N",
                       help=helptext("train on the first N rows only, for a quick check", "只用前 N 条训练，用于快速检查"))
    train.add_argument("--rescore", action="store_true",
                       help=helptext("do not train: score the existing checkpoint again on dev and update its manifest",
                                     "不训练：在开发集上重新评估现有模型并更新其说明文件"))
    train.add_argument("--epochs", type=int, default=None,
                       help=helptext("epochs per model (default: each model's own)", "每个模型的训练轮数（默认各模型自己的设置）"))

    evaluate = commands.add_parser("eval-emotion", parents=[common],
                                   help=helptext("score the emotion classifier on labelled texts",
                                                 "在标注文本上评估情绪分类器"))
    evaluate.add_argument("file", help=helptext(
        "labelled file: JSON Lines with text and label, TSV/CSV with text and label columns, "
        "or dev:zh / dev:en for the held-out dev split",
        "标注文件：含 text 与 label 的 JSON Lines、含 text 和 label 列的 TSV/CSV，或 dev:zh / dev:en 表示留出的开发集"))
    evaluate.add_argument("--lang", default="auto", choices=["auto", "zh", "en"],
                          help=helptext("language of the texts (default: detect per text)", "文本语言（默认逐条检测）"))
    evaluate.add_argument("--json", action="store_true", help=helptext("print the report as JSON", "以 JSON 输出结果"))


def add_preset_option(command: argparse.ArgumentParser, helptext, default: str, presets: dict) -> None:
    command.add_argument("--preset", default=default, choices=list(presets),
                         help=helptext(f"style of the emotion arc: news (calm anchor), vlog (lively), "
                                       f"storytelling (wide range); default: {default}",
                                       f"情绪风格：news（沉稳播报）、vlog（活泼）、storytelling（起伏大）；默认 {default}"))


def run(options: argparse.Namespace, read_text: Callable[[str], str]) -> bool:
    """Run an emotion command; False when `options.command` is not one of them."""
    if options.command == "plan":
        _plan(options, read_text)
    elif options.command == "analyze":
        _analyze(options)
    elif options.command == "train-emotion":
        _train(options)
    elif options.command == "eval-emotion":
        _evaluate(options)
    else:
        return False
    return True


def _plan(options: argparse.Namespace, read_text: Callable[[str], str]) -> None:
    from avatar.fileio import check_output_path
    from emotion.planfile import plan_rows, write_plan
    from emotion.planner import plan_script

    if options.output is not None:
        suffix = options.output.suffix.lower()
        if suffix not in (".json", ".csv"):
            raise AvatarError("invalid_output", path=str(options.output), suffix=".json / .csv")
        inputs = () if options.script == "-" else (Path(options.script),)
        check_output_path(options.output, suffix, inputs)
    plan = plan_script(read_text(options.script), options.lang, preset=options.preset)
    for notice in plan.warnings:
        print(tr("warning_prefix") + notice.message(), file=sys.stderr)
    if options.output is not None:
        write_plan(plan, options.output)
        print(tr("done_plan", path=str(options.output), count=len(plan.segments), preset=plan.preset))
        return
    for row in plan_rows(plan):
        print(f"{row['index']:>3}  {_left(_label_name(row['emotion']), 9)} {row['intensity']:.2f}  "
              f"{row['source']:<10} {row['text']}")


def _label_name(label: str) -> str:
    return LABEL_NAMES_ZH[label] if ui_language() == "zh" else label


def _width(text: str) -> int:
    """Return the terminal width of `text`: Chinese characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(character) in "WF" else 1 for character in text)


def _left(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _right(text: str, width: int) -> str:
    return " " * max(0, width - _width(text)) + text


def _open_lines(source: str):
    if source == "-":
        return sys.stdin
    path = Path(source)
    if path.is_dir():
        raise AvatarError("path_is_directory", path=source)
    if not path.is_file():
        raise AvatarError("analyze_input_missing", path=source)
    return path.open(encoding="utf-8-sig", errors="strict")


def _count_lines(source: str) -> int | None:
    if source == "-":
        return None
    with open(source, "rb") as handle:
        return sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))


def _analyze(options: argparse.Namespace) -> None:
    from tqdm import tqdm

    from avatar.fileio import check_output_path
    from emotion.analyze import Distribution, analyze

    if options.plot is not None:
        check_output_path(options.plot, ".png", () if options.file == "-" else (Path(options.file),))
    total_lines = _count_lines(options.file) if Path(options.file).is_file() else None
    distribution = Distribution()
    unit = "line" if options.json else "sentence"
    handle = _open_lines(options.file)
    skipped: list[int] = []
    # The bar counts input lines; it goes to stderr, so stdout stays clean JSON or table.
    bar = tqdm(total=total_lines, unit=tr("unit_lines"), desc=tr("progress_analyze"), file=sys.stderr,
               disable=not sys.stderr.isatty() or (total_lines or 0) < 2000, leave=False)
    last_line = 0
    try:
        for row in analyze(handle, unit, options.lang, skipped=skipped):
            if distribution.total == 0 and not options.json:
                # The header waits for the first row, so a file that fails prints only the error.
                print(f"{_right(tr('analyze_col_line'), 6)}  {_left(tr('analyze_col_lang'), 4)} "
                      f"{_left(tr('analyze_col_label'), 9)} {_right(tr('analyze_col_intensity'), 5)} "
                      f"{_right(tr('analyze_col_valence'), 6)}  {_left(tr('analyze_col_source'), 10)} "
                      f"{tr('analyze_col_text')}")
            distribution.add(row)
            if options.json:
                print(json.dumps(row.to_dict(), ensure_ascii=False))
            else:
                print(f"{row.line:>6}  {row.language:<4} {_left(_label_name(row.label), 9)} {row.intensity:>5.2f} "
                      f"{row.valence:>6.2f}  {row.source:<10} {row.text}")
            bar.update(row.line - last_line)
            last_line = row.line
    except UnicodeDecodeError:
        raise AvatarError("analyze_not_utf8", path=options.file) from None
    finally:
        bar.close()
        if handle is not sys.stdin:
            handle.close()
    if skipped:
        line_numbers = ", ".join(str(number) for number in skipped[:10]) + (" …" if len(skipped) > 10 else "")
        print(tr("warning_prefix") + tr("warn_analyze_skipped", count=len(skipped), lines=line_numbers),
              file=sys.stderr)
    if distribution.total == 0:
        raise AvatarError("analyze_nothing", path=options.file)
    if not options.json:
        _print_distribution(distribution)
    if options.plot is not None:
        plot_distribution(distribution, options.plot, Path(options.file).name)
        print(tr("done_plot", path=str(options.plot)), file=sys.stderr if options.json else sys.stdout)


def _print_distribution(distribution) -> None:
    print()
    print(tr("analyze_distribution", total=distribution.total, valence=distribution.mean_valence))
    languages = sorted(distribution.by_language)
    header = f"{_left(tr('analyze_col_label'), 10)} {_right(tr('analyze_col_count'), 7)} " \
             f"{_right(tr('analyze_col_share'), 7)} {_right(tr('analyze_col_mean_intensity'), 9)}" \
             + "".join(f" {lang:>7}" for lang in languages)
    print(header)
    for label, count, share, intensity in distribution.rows():
        per_language = "".join(f" {distribution.by_language[lang][label]:>7}" for lang in languages)
        print(f"{_left(_label_name(label), 10)} {count:>7} {share:>7.1%} {intensity:>9.2f}{per_language}")


def plot_distribution(distribution, path: Path, title: str) -> None:
    """Draw the label shares as a bar chart PNG (written atomically)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib import pyplot as plt

    from avatar.compose import font_path
    from avatar.fileio import atomic_path
    from emotion.types import EMOTIONS

    font = font_manager.FontProperties(fname=str(font_path()))
    rows = distribution.rows()
    colours = ["#9e9e9e", "#f4b400", "#4285f4", "#db4437", "#ab47bc", "#00897b", "#6d4c41"]
    figure, axis = plt.subplots(figsize=(7, 4), dpi=120)
    axis.bar([_label_name(label) for label in EMOTIONS], [share * 100 for _, _, share, _ in rows], color=colours)
    for position, (_, count, share, _) in enumerate(rows):
        axis.text(position, share * 100, str(count), ha="center", va="bottom", fontsize=9)
    axis.set_ylabel(tr("plot_share_axis"), fontproperties=font)
    axis.set_title(tr("plot_title", name=title, total=distribution.total), fontproperties=font)
    for label in axis.get_xticklabels():
        label.set_fontproperties(font)
    figure.tight_layout()
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png")
    plt.close(figure)


def _train(options: argparse.Namespace) -> None:
    from emotion.training import rescore_language, train_language

    languages = ("zh", "en") if options.lang == "all" else (options.lang,)
    for language in languages:
        if options.rescore:
            rescore_language(language, output_dir=options.output, data_dir=options.data,
                             progress=lambda message: print(message, flush=True))
            continue
        result = train_language(language, output_dir=options.output, data_dir=options.data, limit=options.limit,
                                epochs=options.epochs, progress=lambda message: print(message, flush=True))
        print(tr("done_train_emotion", lang=language, model=result["chosen"], f1=result["dev_macro_f1"],
                 path=result["checkpoint"]))


def _evaluate(options: argparse.Namespace) -> None:
    from emotion.evaluation import evaluate_file

    report, count = evaluate_file(options.file, options.lang)
    if options.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        return
    from emotion.metrics import format_report

    print(format_report(report, tr("eval_title", path=options.file, count=count)))
