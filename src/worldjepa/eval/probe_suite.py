"""Run every probe kind on every label of one set of frozen tokens."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from torch import Tensor

from worldjepa.errors import ConfigError, DataError, suggest
from worldjepa.eval.attentive_probe import train_attentive_probe
from worldjepa.eval.features import check_probe_data
from worldjepa.eval.knn import knn_classify
from worldjepa.eval.linear_probe import train_linear_probe

PROBE_KINDS = ("linear", "attentive", "knn")


def run_probes(
    train_tokens: Tensor,
    train_labels: Mapping[str, Tensor],
    test_tokens: Tensor,
    test_labels: Mapping[str, Tensor],
    kinds: Sequence[str] = PROBE_KINDS,
    seed: int = 0,
    attentive_kwargs: Mapping[str, Any] | None = None,
    linear_kwargs: Mapping[str, Any] | None = None,
    knn_kwargs: Mapping[str, Any] | None = None,
) -> dict[str, dict[str, float]]:
    """Test accuracy as results[label_key][kind], for tokens [N, K, D] and labels {key: [N]}.

    The attentive probe reads all K tokens; the linear probe and kNN read their mean [N, D].
    The *_kwargs are passed on to train_attentive_probe, train_linear_probe and knn_classify.
    """
    if isinstance(kinds, str):
        kinds = [kinds]
    for kind in kinds:
        if kind not in PROBE_KINDS:
            raise ConfigError(
                f"unknown probe kind {kind!r}; choose from {PROBE_KINDS}." + suggest(kind, PROBE_KINDS)
            )
    missing = sorted(set(train_labels) ^ set(test_labels))
    if missing:
        raise DataError(
            f"labels {missing} are in only one of the train and test splits; give both the same keys."
        )
    if not train_labels:
        raise DataError("no labels to probe; pass at least one label key.")

    for key, train_y in train_labels.items():
        check_probe_data(train_tokens, train_y, test_tokens, test_labels[key], ndim=3)

    train_mean, test_mean = train_tokens.float().mean(1), test_tokens.float().mean(1)
    results: dict[str, dict[str, float]] = {}
    for key, train_y in train_labels.items():
        test_y = test_labels[key]
        scores = {}
        for kind in kinds:
            if kind == "linear":
                out = train_linear_probe(
                    train_mean, train_y, test_mean, test_y, seed=seed, **(linear_kwargs or {})
                )
            elif kind == "knn":
                out = knn_classify(train_mean, train_y, test_mean, test_y, **(knn_kwargs or {}))
            else:
                out = train_attentive_probe(
                    train_tokens, train_y, test_tokens, test_y, seed=seed, **(attentive_kwargs or {})
                )
            scores[kind] = out["accuracy"]
        results[key] = scores
    return results
