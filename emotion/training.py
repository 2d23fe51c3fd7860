"""Train, compare and ship the emotion classifier of one language (`avatar train-emotion`).

Phases of `train_language`:

1. Load the corpora and the dev split (`emotion.corpora`).
2. Score three reference points on dev: a constant majority label, the lexicon labeller, and
   TF-IDF + logistic regression (its C chosen on dev from `emotion.tfidf.C_GRID`).
3. Train the candidate models: the embedding + BiLSTM baseline, the CNN (Chinese only) and the
   fine-tuned MiniLM, which reads Chinese through English glosses. Then build the ensembles that
   average any of them, with and without TF-IDF.
4. Choose the candidate with the best dev macro-F1 (reference points are not candidates).
5. Write the checkpoint atomically, score it again as users load it, measure its speed
   (milliseconds per sentence, batched) and write the manifest: data, command, epochs, every
   dev score and sha256.

The ensembles use equal weights fixed in advance, not weights fitted on dev. So the dev score
of the chosen model is tuned on the split it is reported on only through the choice among the
candidates, TF-IDF's C and the epoch kept by early stopping.
"""

from __future__ import annotations

import io
import itertools
import json
import logging
import platform
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch

from avatar.errors import AvatarError
from avatar.fileio import atomic_path, file_sha256, write_text_atomic
from emotion import corpora
from emotion.classifier import CHECKPOINT_FORMAT, EmotionClassifier, checkpoint_dir
from emotion.metrics import Report, evaluate
from emotion.types import EMOTIONS, Language

logger = logging.getLogger(__name__)

# Epochs per model kind: enough for the dev score to peak (early stopping keeps the best).
EPOCHS = {"bilstm": 6, "cnn": 7, "minilm": 3}
# Token models trained per language. English skips the CNN, which cost 10 minutes and scored
# below its MiniLM in trials; Chinese trains it because its MiniLM only reads English glosses.
TOKEN_MODELS = {"zh": ("bilstm", "cnn"), "en": ("bilstm",)}
# MiniLM top layers fine-tuned per language: the glossed Chinese is further from what the
# encoder was trained on, so more of it adapts.
MINILM_LAYERS = {"zh": 4, "en": 2}
SPEED_SENTENCES = 2000


def _labels(probabilities: np.ndarray) -> list[str]:
    return [EMOTIONS[i] for i in probabilities.argmax(1)]


def _data_files(language: Language, root: Path) -> list[Path]:
    if language == "zh":
        return [root / corpora.SMP2020_FILE, root / corpora.NLPCC_FILE]
    return [root / name for name in (*corpora.GOEMOTIONS_FILES.values(), corpora.GOEMOTIONS_LABELS)]


def train_language(
    language: Language,
    output_dir: Path | None = None,
    data_dir: Path | None = None,
    limit: int | None = None,
    epochs: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Train and ship the classifier for `language`; returns the manifest."""
    from emotion.lexicon import label_sentence
    from emotion.models import ModelConfig
    from emotion.tfidf import C_GRID, fit_tfidf
    from emotion.train import MAX_TOKENS, TrainSettings, predict_proba, train_classifier

    say = progress or (lambda message: None)
    started = time.perf_counter()
    output_dir = output_dir or checkpoint_dir()
    root = data_dir or corpora.data_root()

    # 1. Data.
    files = _data_files(language, root)
    for path in files:
        if not path.is_file():
            raise AvatarError("emotion_data_missing", path=str(path))
    train_rows, dev_rows = corpora.load(language, "train", root), corpora.load(language, "dev", root)
    if limit:
        train_rows = train_rows[:limit]
        dev_rows = dev_rows[: max(200, limit // 5)]
    gold = [row.primary for row in dev_rows]
    dev_texts = [row.text for row in dev_rows]
    say(f"[{language}] {len(train_rows)} training rows, {len(dev_rows)} dev rows")

    # 2. Reference points.
    scores: dict[str, Report] = {}
    majority = Counter(row.primary for row in train_rows).most_common(1)[0][0]
    scores["majority"] = evaluate(gold, [majority] * len(gold))
    scores["lexicon"] = evaluate(gold, [label_sentence(text, language).emotion for text in dev_texts])
    tfidf_models = {c: fit_tfidf(language, [r.text for r in train_rows], [r.primary for r in train_rows], c)
                    for c in C_GRID}
    tfidf_probabilities = {c: model.predict_proba(dev_texts) for c, model in tfidf_models.items()}
    best_c = max(C_GRID, key=lambda c: evaluate(gold, _labels(tfidf_probabilities[c])).macro_f1)
    tfidf, tfidf_dev = tfidf_models[best_c], tfidf_probabilities[best_c]
    scores["tfidf"] = evaluate(gold, _labels(tfidf_dev))
    for name in ("majority", "lexicon", "tfidf"):
        say(f"[{language}] {name}: dev macro-F1 {scores[name].macro_f1:.4f}")

    # 3. Candidates: (probabilities on dev, checkpoint components, history).
    candidates: dict[str, tuple[np.ndarray, list[dict], list[dict]]] = {}
    for kind in TOKEN_MODELS[language]:
        # The BiLSTM reads order itself and ignores token pairs, so it gets no pair buckets.
        settings = TrainSettings(kind=kind, epochs=epochs or EPOCHS[kind],
                                 bigram_buckets=0 if kind == "bilstm" else TrainSettings.bigram_buckets)
        trained = train_classifier(train_rows, dev_rows, settings, progress=lambda m, k=kind: say(f"[{language}] {k} {m}"))
        probabilities = predict_proba(trained.model, [trained.vocabulary.encode(t, MAX_TOKENS) for t in dev_texts])
        component = {"kind": kind, "weight": 1.0, "config": ModelConfig(**asdict(trained.config)).to_dict(),
                     "tokens": trained.vocabulary.tokens, "bigram_buckets": trained.vocabulary.bigram_buckets,
                     "state": {k: v.half() for k, v in trained.model.state_dict().items()},
                     "settings": asdict(settings)}
        candidates[kind] = (probabilities, [component], trained.history)
    from emotion.minilm import MiniLMConfig, MiniLMTraining, predict_minilm, train_minilm

    training = MiniLMTraining(epochs=epochs or EPOCHS["minilm"])
    config = MiniLMConfig(trainable_layers=MINILM_LAYERS[language], gloss=language == "zh")
    model, history, _ = train_minilm(train_rows, dev_rows, config, training, progress=lambda m: say(f"[{language}] {m}"))
    component = {"kind": "minilm", "weight": 1.0, "config": model.config.to_dict(),
                 "state": {k: v.half() for k, v in model.trained_state().items()}, "settings": asdict(training)}
    candidates["minilm"] = (predict_minilm(model, dev_texts), [component], history)
    # Ensembles: every combination of the trained models, with and without TF-IDF.
    tfidf_component = tfidf.to_state() | {"weight": 1.0}
    singles = list(candidates)
    for size in range(1, len(singles) + 1):
        for members in itertools.combinations(singles, size):
            for with_tfidf in (False, True):
                if size == 1 and not with_tfidf:
                    continue
                name = "+".join([*members, "tfidf"] if with_tfidf else members)
                parts = [candidates[m][0] for m in members] + ([tfidf_dev] if with_tfidf else [])
                components = [c for m in members for c in candidates[m][1]] + ([tfidf_component] if with_tfidf else [])
                candidates[name] = (sum(parts) / len(parts), components, [])
    for name, (probabilities, _, _) in candidates.items():
        scores[name] = evaluate(gold, _labels(probabilities))
        say(f"[{language}] {name}: dev macro-F1 {scores[name].macro_f1:.4f}")

    # 4. Choose.
    chosen = max(candidates, key=lambda name: scores[name].macro_f1)
    _, components, history = candidates[chosen]

    # 5. Save, then measure the saved model the way it is used.
    output_dir.mkdir(parents=True, exist_ok=True)
    path = output_dir / f"emotion_{language}.pt"
    buffer = io.BytesIO()
    torch.save({"format": CHECKPOINT_FORMAT, "version": 1, "language": language, "components": components}, buffer)
    with atomic_path(path) as temporary:
        temporary.write_bytes(buffer.getvalue())
    shipped, speed = score_shipped(path, language, dev_rows)
    manifest = {
        "checkpoint": path.name,
        "sha256": file_sha256(path),
        "bytes": path.stat().st_size,
        "language": language,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "avatar train-emotion " + " ".join(sys.argv[2:]) if sys.argv[1:2] == ["train-emotion"] else
                   f"avatar train-emotion --lang {language}",
        "data": [{"file": file.name, "sha256": file_sha256(file)} for file in files],
        "split": {"train_rows": len(train_rows), "dev_rows": len(dev_rows),
                  "dev": "GoEmotions dev file" if language == "en" else
                         f"{corpora.DEV_PERCENT}% of rows by sha256(source:id) (emotion/corpora.py)",
                  "limit": limit},
        "label_rule": "multi-label rows train on all labels; evaluation uses the label with the highest arousal",
        "chosen": chosen,
        "components": [part["kind"] for part in components],
        "epochs": {name: len(entry[2]) for name, entry in candidates.items() if "+" not in name},
        "history": {name: entry[2] for name, entry in candidates.items() if "+" not in name},
        "tfidf_c": best_c,
        "dev_macro_f1": round(shipped.macro_f1, 4),
        "dev_scores": {name: round(report.macro_f1, 4) for name, report in scores.items()},
        "margin_over_tfidf": round(shipped.macro_f1 - scores["tfidf"].macro_f1, 4),
        "dev_report": shipped.to_dict(),
        "speed_ms_per_sentence": speed,
        "machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads",
        "seconds": round(time.perf_counter() - started),
    }
    write_text_atomic(output_dir / f"emotion_{language}.json", json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    say(f"[{language}] chose {chosen}: dev macro-F1 {shipped.macro_f1:.4f} as shipped "
        f"(TF-IDF {scores['tfidf'].macro_f1:.4f}), {speed:.2f} ms per sentence")
    return manifest | {"checkpoint": str(path)}


def score_shipped(path: Path, language: Language, dev_rows: list) -> tuple[Report, float]:
    """Score a saved checkpoint on dev through the loader, as users get it; also time it.

    The loader quantizes MiniLM weights to int8 (`emotion.minilm.quantize_for_inference`), so
    this score differs slightly from the candidate's float score in `dev_scores`.
    """
    texts = [row.text for row in dev_rows]
    classifier = EmotionClassifier.load(path, language)
    report = evaluate([row.primary for row in dev_rows], [p.label for p in classifier.predict(texts)])
    timings = time_classifier(classifier, speed_sentences(texts), runs=3)
    return report, round(float(np.median(timings)), 3)


def rescore_language(language: Language, output_dir: Path | None = None, data_dir: Path | None = None,
                     progress: Callable[[str], None] | None = None) -> dict:
    """Score the shipped checkpoint again and update its manifest, without training.

    For after a change to inference (batching, quantization) that leaves the weights as they
    are: the manifest's `dev_macro_f1`, `dev_report`, `margin_over_tfidf` and speed are replaced,
    and `rescored` records when and with which command.
    """
    output_dir = output_dir or checkpoint_dir()
    path = output_dir / f"emotion_{language}.pt"
    manifest_path = output_dir / f"emotion_{language}.json"
    if not path.is_file() or not manifest_path.is_file():
        raise AvatarError("emotion_checkpoint_missing", path=str(path))
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if manifest.get("sha256") != file_sha256(path):
        raise AvatarError("emotion_checkpoint_invalid", path=str(path), reason="its sha256 differs from its manifest")
    try:
        dev_rows = corpora.load(language, "dev", data_dir or corpora.data_root())
    except FileNotFoundError as error:
        raise AvatarError("emotion_data_missing", path=str(error.filename)) from None
    if manifest["split"].get("limit"):
        dev_rows = dev_rows[: manifest["split"]["dev_rows"]]
    report, speed = score_shipped(path, language, dev_rows)
    manifest.update({
        "dev_macro_f1": round(report.macro_f1, 4),
        "margin_over_tfidf": round(report.macro_f1 - manifest["dev_scores"]["tfidf"], 4),
        "dev_report": report.to_dict(),
        "speed_ms_per_sentence": speed,
        "rescored": {"at": datetime.now(UTC).isoformat(timespec="seconds"),
                     "command": f"avatar train-emotion --lang {language} --rescore"},
    })
    write_text_atomic(manifest_path, json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    if progress:
        progress(f"[{language}] rescored {manifest['chosen']}: dev macro-F1 {report.macro_f1:.4f}, "
                 f"{speed:.2f} ms per sentence")
    return manifest | {"checkpoint": str(path)}


def speed_sentences(texts: list[str], limit: int = SPEED_SENTENCES) -> list[str]:
    """Split dev texts into sentences for timing, up to `limit`.

    Weibo posts and Reddit comments often contain several sentences, while the planner classifies
    one sentence at a time.
    """
    from emotion.segment import is_speakable, split_sentences

    return [part for text in texts for part in split_sentences(text) if is_speakable(part)][:limit]


def time_classifier(classifier: EmotionClassifier, sentences: list[str], runs: int) -> list[float]:
    """Classify `sentences` as one batch `runs` times; return milliseconds per sentence of each run."""
    classifier.predict(sentences[:64])  # warm-up: first calls allocate and load lazily
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        classifier.predict(sentences)
        timings.append((time.perf_counter() - started) * 1000 / len(sentences))
    return timings
