"""Sentence emotion classifiers in PyTorch.

Every model maps a batch of token ids `[batch, tokens]` and hashed token-pair ids
`[batch, pairs]` (see `emotion.tokens`) to logits over `EMOTIONS` (`[batch, 7]`).

- `BiLSTMClassifier`: the baseline. Embedding, a bidirectional LSTM, then max and mean pooling.
- `CNNClassifier`: a TextCNN (Kim, 2014) with widths 1-4 and max pooling, beside a fastText-style
  mean of token and token-pair embeddings (Joulin et al., 2017). The bag catches the n-grams
  that make TF-IDF strong on these corpora; the convolutions add order and context.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from emotion.tokens import PAD
from emotion.types import EMOTIONS


@dataclass
class ModelConfig:
    """Hyperparameters that define a model's shape; stored in the checkpoint."""

    kind: str  # "bilstm" or "cnn"
    vocab_size: int
    dim: int = 128
    hidden: int = 128
    widths: list[int] = field(default_factory=lambda: [1, 2, 3, 4])
    dropout: float = 0.4

    def to_dict(self) -> dict:
        return asdict(self)


def _masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    mask = mask.unsqueeze(-1).to(values.dtype)
    return (values * mask).sum(1) / mask.sum(1).clamp(min=1.0)


def _masked_max(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return values.masked_fill(~mask.unsqueeze(-1), -1e4).max(1).values


class BiLSTMClassifier(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.embedding = nn.Embedding(config.vocab_size, config.dim, padding_idx=PAD)
        self.lstm = nn.LSTM(config.dim, config.hidden, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(config.dropout)
        self.feature_size = 4 * config.hidden
        self.output = nn.Linear(self.feature_size, len(EMOTIONS))

    def forward(self, ids: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
        return self.output(self.dropout(self.features(ids, pairs)))

    def features(self, ids: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
        mask = ids != PAD
        lengths = mask.sum(1).clamp(min=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(
            self.dropout(self.embedding(ids)), lengths, batch_first=True, enforce_sorted=False
        )
        states, _ = self.lstm(packed)
        states, _ = nn.utils.rnn.pad_packed_sequence(states, batch_first=True, total_length=ids.shape[1])
        return torch.cat([_masked_max(states, mask), _masked_mean(states, mask)], dim=1)


class CNNClassifier(nn.Module):
    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.embedding = nn.Embedding(config.vocab_size, config.dim, padding_idx=PAD)
        self.convolutions = nn.ModuleList(
            nn.Conv1d(config.dim, config.hidden, width, padding=width // 2) for width in config.widths
        )
        self.dropout = nn.Dropout(config.dropout)
        self.feature_size = config.hidden * len(config.widths) + config.dim
        self.output = nn.Linear(self.feature_size, len(EMOTIONS))

    def forward(self, ids: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
        return self.output(self.dropout(self.features(ids, pairs)))

    def features(self, ids: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
        mask = ids != PAD
        embedded = self.embedding(ids)
        # The bag: mean over token and pair embeddings together.
        pair_mask = pairs != PAD
        bag = (embedded * mask.unsqueeze(-1)).sum(1) + (self.embedding(pairs) * pair_mask.unsqueeze(-1)).sum(1)
        bag = bag / (mask.sum(1) + pair_mask.sum(1)).clamp(min=1).unsqueeze(-1)
        sequence = self.dropout(embedded).transpose(1, 2)
        pooled = []
        for convolution in self.convolutions:
            features = torch.relu(convolution(sequence))[:, :, : ids.shape[1]].transpose(1, 2)
            pooled.append(_masked_max(features, mask))
        return torch.cat([*pooled, bag], dim=1)


MODEL_KINDS: dict[str, type[nn.Module]] = {"bilstm": BiLSTMClassifier, "cnn": CNNClassifier}


def build_model(config: ModelConfig) -> nn.Module:
    return MODEL_KINDS[config.kind](config)
