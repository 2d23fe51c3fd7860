"""Measure the shipped emotion classifiers: dev macro-F1 against the reference points, and speed.

Quality: the dev scores recorded in each checkpoint's manifest (`checkpoints/emotion_<lang>.json`,
written by `avatar train-emotion`) are re-checked by classifying the dev split again with the
shipped checkpoint. Speed: milliseconds per sentence when a batch of dev sentences is classified
at once (the way the planner and `avatar analyze` call it), median of `--runs` runs, with one
and with two torch threads. Dev posts are split into sentences first, because the planner
classifies sentences and many posts hold several. Target: under 5 ms per sentence.

    .venv/bin/python -m bench.emotion_classifier [--runs 5] [--record]
"""

from __future__ import annotations

import argparse
import json
import statistics

import torch

from bench.common import record, require_data
from emotion import corpora
from emotion.classifier import EmotionClassifier, checkpoint_dir, checkpoint_path
from emotion.metrics import evaluate
from emotion.training import SPEED_SENTENCES, speed_sentences, time_classifier

SPEED_TARGET_MS = 5.0
REFERENCE_ORDER = ("majority", "lexicon", "tfidf", "bilstm")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--record", action="store_true", help="append the tables to docs/benchmarks.md")
    options = parser.parse_args()
    require_data()

    quality_rows, speed_rows = [], []
    for language in ("zh", "en"):
        manifest = json.loads((checkpoint_dir() / f"emotion_{language}.json").read_text(encoding="utf-8"))
        classifier = EmotionClassifier.load(checkpoint_path(language), language)
        rows = corpora.load(language, "dev")
        texts = [row.text for row in rows]
        report = evaluate([row.primary for row in rows], [p.label for p in classifier.predict(texts)])
        scores = manifest["dev_scores"]
        chosen = manifest["chosen"]
        quality_rows.append(
            f"| {language} | {len(rows)} | "
            + " | ".join(f"{scores[name]:.3f}" for name in REFERENCE_ORDER)
            + f" | {chosen} | {report.macro_f1:.3f} | {report.macro_f1 - scores['tfidf']:+.3f} |"
        )
        sample = speed_sentences(texts)
        for threads in (1, 2):
            torch.set_num_threads(threads)
            timings = time_classifier(classifier, sample, options.runs)
            median = statistics.median(timings)
            speed_rows.append(f"| {language} | {chosen} | {threads} | {len(sample)} | {median:.2f} | "
                              f"{min(timings):.2f}-{max(timings):.2f} | {'yes' if median < SPEED_TARGET_MS else 'no'} |")

    quality = ("| language | dev rows | majority | lexicon | TF-IDF + LR | BiLSTM | shipped model | shipped macro-F1 "
               "| vs TF-IDF |\n|---|---|---|---|---|---|---|---|---|\n" + "\n".join(quality_rows))
    speed = ("| language | model | torch threads | sentences | ms per sentence (median) | range | under 5 ms |\n"
             "|---|---|---|---|---|---|---|\n" + "\n".join(speed_rows))
    print(quality)
    print()
    print(speed)
    if options.record:
        command = f".venv/bin/python -m bench.emotion_classifier --runs {options.runs} --record"
        record("Emotion classifier: dev macro-F1", command,
               "Macro-F1 over the classes present in each dev split (six for Chinese, which has no disgust). "
               "Reference columns come from the checkpoint manifests; the shipped column is re-measured.", quality)
        record("Emotion classifier: speed", command,
               f"Batched classification of the first {SPEED_SENTENCES} sentences of the dev posts per language, median of "
               f"{options.runs} runs.", speed)


if __name__ == "__main__":
    main()
