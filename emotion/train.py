"""Train the sentence emotion classifiers.

Phases of `train_classifier`:

1. Build the vocabulary from the training texts only.
2. Turn each row's labels into a soft target: a multi-label row spreads its mass evenly, so
   "happy and surprised" teaches both without inventing an order between them.
3. Weight the loss per class by (mean frequency / class frequency) ** `class_weight_power`,
   because macro-F1 counts the rare classes (surprised, fearful, disgusted) as much as the common ones.
4. Train with AdamW, evaluate dev macro-F1 after each epoch, and keep the best epoch's weights
   (early stopping with `patience`).

Training is deterministic for a given seed on one thread.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from emotion.corpora import LabelledText
from emotion.metrics import Report, evaluate
from emotion.models import ModelConfig, build_model
from emotion.tokens import PAD, Vocabulary
from emotion.types import EMOTIONS

logger = logging.getLogger(__name__)

MAX_TOKENS = 160


@dataclass
class TrainSettings:
    kind: str = "cnn"
    epochs: int = 8
    batch_size: int = 64
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    class_weight_power: float = 0.5
    min_count: int = 2
    bigram_buckets: int = 50_000
    patience: int = 2
    seed: int = 0
    model: dict = field(default_factory=dict)  # extra ModelConfig fields


@dataclass
class TrainedClassifier:
    """A trained model with what it needs to run and what it scored."""

    model: torch.nn.Module
    config: ModelConfig
    vocabulary: Vocabulary
    settings: TrainSettings
    history: list[dict]
    dev_report: Report
    epochs_run: int


def soft_targets(rows: Sequence[LabelledText]) -> torch.Tensor:
    targets = torch.zeros(len(rows), len(EMOTIONS))
    for i, row in enumerate(rows):
        for label in row.labels:
            targets[i, EMOTIONS.index(label)] = 1.0 / len(row.labels)
    return targets


def class_weights(targets: torch.Tensor, power: float) -> torch.Tensor:
    counts = targets.sum(0)
    present = counts > 0
    weights = torch.zeros_like(counts)
    weights[present] = (counts[present].mean() / counts[present]) ** power
    return weights / weights[present].mean()


def collate(encoded: Sequence[tuple[list[int], list[int]]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad a batch of (ids, pairs) into two tensors."""
    longest = max(len(ids) for ids, _ in encoded)
    longest_pairs = max(len(pairs) for _, pairs in encoded) or 1
    ids = torch.full((len(encoded), longest), PAD, dtype=torch.long)
    pairs = torch.full((len(encoded), longest_pairs), PAD, dtype=torch.long)
    for i, (token_ids, pair_ids) in enumerate(encoded):
        ids[i, : len(token_ids)] = torch.tensor(token_ids)
        if pair_ids:
            pairs[i, : len(pair_ids)] = torch.tensor(pair_ids)
    return ids, pairs


def length_batches(lengths: Sequence[int], batch_size: int, rng: random.Random | None) -> list[list[int]]:
    """Batches of similar length (less padding); shuffled batch order when `rng` is given."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    batches = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
    if rng is not None:
        rng.shuffle(batches)
    return batches


@torch.no_grad()
def predict_proba(
    model: torch.nn.Module, encoded: Sequence[tuple[list[int], list[int]]], batch_size: int = 256
) -> np.ndarray:
    model.eval()
    probabilities = np.zeros((len(encoded), len(EMOTIONS)), dtype=np.float32)
    for batch in length_batches([len(ids) for ids, _ in encoded], batch_size, None):
        ids, pairs = collate([encoded[i] for i in batch])
        probabilities[batch] = torch.softmax(model(ids, pairs), dim=1).numpy()
    return probabilities


def labels_from(probabilities: np.ndarray) -> list[str]:
    return [EMOTIONS[i] for i in probabilities.argmax(1)]


def train_classifier(
    train_rows: Sequence[LabelledText],
    dev_rows: Sequence[LabelledText],
    settings: TrainSettings,
    progress: Callable[[str], None] | None = None,
) -> TrainedClassifier:
    """Train one token model and return it at its best dev epoch."""
    random.seed(settings.seed)
    torch.manual_seed(settings.seed)
    rng = random.Random(settings.seed)

    # 1. Vocabulary from the training texts only.
    vocabulary = Vocabulary.build((row.text for row in train_rows), settings.min_count, settings.bigram_buckets)
    encoded_train = [vocabulary.encode(row.text, MAX_TOKENS) for row in train_rows]
    encoded_dev = [vocabulary.encode(row.text, MAX_TOKENS) for row in dev_rows]
    gold_dev = [row.primary for row in dev_rows]

    # 2-3. Soft targets and class weights.
    targets = soft_targets(train_rows)
    weights = class_weights(targets, settings.class_weight_power)

    config = ModelConfig(kind=settings.kind, vocab_size=vocabulary.size, **settings.model)
    model = build_model(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay)
    steps_per_epoch = math.ceil(len(train_rows) / settings.batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=settings.learning_rate, total_steps=settings.epochs * steps_per_epoch, pct_start=0.1
    )

    # 4. Train, keeping the best epoch by dev macro-F1.
    history: list[dict] = []
    best_f1, best_state, best_report, stale = -1.0, None, None, 0
    for epoch in range(1, settings.epochs + 1):
        model.train()
        started, total_loss = time.perf_counter(), 0.0
        for batch in length_batches([len(ids) for ids, _ in encoded_train], settings.batch_size, rng):
            ids, pairs = collate([encoded_train[i] for i in batch])
            log_probabilities = torch.log_softmax(model(ids, pairs), dim=1)
            loss = -(targets[batch] * log_probabilities * weights).sum(1).mean()
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            scheduler.step()
            total_loss += loss.item() * len(batch)
        report = evaluate(gold_dev, labels_from(predict_proba(model, encoded_dev)))
        entry = {
            "epoch": epoch,
            "train_loss": round(total_loss / len(train_rows), 4),
            "dev_macro_f1": round(report.macro_f1, 4),
            "seconds": round(time.perf_counter() - started, 1),
        }
        history.append(entry)
        logger.info("epoch %d: loss %.4f, dev macro-F1 %.4f", epoch, entry["train_loss"], report.macro_f1)
        if progress:
            progress(f"epoch {epoch}/{settings.epochs}: loss {entry['train_loss']:.4f}, dev macro-F1 {report.macro_f1:.4f}")
        if report.macro_f1 > best_f1:
            best_f1, best_report, stale = report.macro_f1, report, 0
            best_state = {name: value.detach().clone() for name, value in model.state_dict().items()}
        else:
            stale += 1
            if stale >= settings.patience:
                break
    assert best_state is not None and best_report is not None
    model.load_state_dict(best_state)
    model.eval()
    return TrainedClassifier(model, config, vocabulary, settings, history, best_report, len(history))
