"""Run every probe kind on every label of one set of frozen tokens."""

from __future__ import annotations

import statistics
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


def run_probes_over_seeds(
    train_tokens: Tensor,
    train_labels: Mapping[str, Tensor],
    test_tokens: Tensor,
    test_labels: Mapping[str, Tensor],
    kinds: Sequence[str] = PROBE_KINDS,
    seeds: Sequence[int] = (0,),
    **kwargs: Any,
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, list[float]]]]:
    """run_probes once per probe seed on the same tokens (other kwargs as run_probes takes them).

    A probe trained to 100 % train accuracy on a thousand clips lands on a different test accuracy
    for each initialisation and shuffle (the attentive probe by several points), so a single seed
    is a noisy measurement. Returns (mean accuracy as results[label][kind], every seed's accuracy
    as lists results[label][kind] = [accuracy per seed, in the order of `seeds`]).
    """
    if not seeds:
        raise ConfigError("give at least one probe seed.")
    runs = [
        run_probes(train_tokens, train_labels, test_tokens, test_labels, kinds, seed=s, **kwargs)
        for s in seeds
    ]
    per_seed = {
        label: {kind: [run[label][kind] for run in runs] for kind in scores}
        for label, scores in runs[0].items()
    }
    mean = {
        label: {kind: statistics.fmean(accs) for kind, accs in scores.items()}
        for label, scores in per_seed.items()
    }
    return mean, per_seed
