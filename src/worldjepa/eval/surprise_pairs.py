"""Pairwise violation-of-expectation accuracy: is the impossible twin more surprising than the possible?

A folder of pairs holds `NAME_possible.mp4` and `NAME_impossible.mp4` (any extension PyAV reads).
A pair's property is its `pairs.json` entry's (as `worldjepa.data.physics` writes), else NAME's
prefix before the first "_" when that is a known property, else none ("all" only). Permanence pairs
whose entry names their variant get an accuracy per variant as well: "vanish" and "appear" are
different events (the other properties' variants, such as "square->circle", name values, not events).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

from worldjepa.data.physics import PERMANENCE_VARIANTS, PROPERTIES
from worldjepa.data.video import read_video
from worldjepa.data.video_dataset import VIDEO_EXTENSIONS
from worldjepa.errors import DataError
from worldjepa.eval.surprise import SurpriseCurve, surprise_curve

SUMMARIES = ("max", "mean")
TIE_TOLERANCE = 1e-5  # relative


def find_pairs(folder: str | Path) -> list[tuple[str, str | None, str | None, Path, Path]]:
    """(name, property or None, variant or None, possible path, impossible path) for every complete
    pair, by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"pairs folder {folder} does not exist; pass a folder of NAME_possible.mp4 files")
    index = {}
    if (folder / "pairs.json").is_file():
        try:
            index = json.loads((folder / "pairs.json").read_text())
        except ValueError as e:
            raise DataError(f"cannot read {folder / 'pairs.json'}: {e}; fix or delete it") from None
    pairs = []
    for possible in sorted(folder.iterdir()):
        stem, suffix = possible.stem, possible.suffix.lower()
        if suffix not in VIDEO_EXTENSIONS or not stem.endswith("_possible"):
            continue
        name = stem[: -len("_possible")]
        impossible = possible.with_name(f"{name}_impossible{possible.suffix}")
        if not impossible.is_file():
            continue
        prefix = name.split("_", 1)[0]
        entry = index.get(name, {})
        prop = entry.get("property", prefix if prefix in PROPERTIES else None)
        pairs.append((name, prop, entry.get("variant"), possible, impossible))
    if not pairs:
        raise DataError(
            f"no pairs in {folder}: expected files named NAME_possible.mp4 and NAME_impossible.mp4 "
            "(make some with `worldjepa physics-bench` or worldjepa.data.physics.generate_physics_pairs)"
        )
    return pairs


def _accuracy(wins: list[float]) -> float:
    return sum(wins) / len(wins)


def pair_credit(impossible: float, possible: float) -> float:
    """1 when the impossible twin is more surprising, 0 when less, 0.5 on a tie.

    Ties are common with the max summary: twins are identical before the violation, so when the
    peak of both comes before it (an earlier bounce, say), their maxima are equal, up to float
    rounding that depends on which windows share a batch (hence the tolerance). The model has not
    told the twins apart, which is worth what a coin flip is.
    """
    if math.isclose(impossible, possible, rel_tol=TIE_TOLERANCE, abs_tol=1e-12):
        return 0.5
    return 1.0 if impossible > possible else 0.0


def score_pairs(
    folder: str | Path, scorers: dict[str, object], progress: Callable[[int, int], None] | None = None
) -> dict:
    """Score every pair of `folder` under each named scorer.

    Returns {"pairs": N, "properties": [...], "variants": ["permanence/<variant>", ...], "models":
    {model: {summary: {"all": acc, <property>: acc, ..., "property_mean": mean over properties,
    "permanence/<variant>": acc, ...}}}, "scores": [{"name", "property", "variant", <model>:
    {"possible": {"max", "mean"}, "impossible": {...}}}]}. A pair is won when the impossible twin's
    summary is larger (see `pair_credit` for ties).
    """
    pairs = find_pairs(folder)
    rows = []
    for done, (name, prop, variant, possible, impossible) in enumerate(pairs, start=1):
        videos = {"possible": read_video(possible)[0], "impossible": read_video(impossible)[0]}
        row: dict = {"name": name, "property": prop, "variant": variant}
        for model, scorer in scorers.items():
            curves: dict[str, SurpriseCurve] = {k: surprise_curve(scorer, v) for k, v in videos.items()}
            row[model] = {k: {"max": c.max, "mean": c.mean} for k, c in curves.items()}
        rows.append(row)
        if progress is not None:
            progress(done, len(pairs))
    properties = [p for p in PROPERTIES if any(r["property"] == p for r in rows)]
    properties += sorted({r["property"] for r in rows if r["property"] not in (*PROPERTIES, None)})
    found = {_variant_group(r) for r in rows}
    variants = [g for g in (f"permanence/{v}" for v in PERMANENCE_VARIANTS) if g in found]
    models = {}
    for model in scorers:
        models[model] = {}
        for summary in SUMMARIES:
            won = [
                (r, pair_credit(r[model]["impossible"][summary], r[model]["possible"][summary])) for r in rows
            ]
            accuracy = {"all": _accuracy([w for _, w in won])}
            for prop in properties:
                accuracy[prop] = _accuracy([w for r, w in won if r["property"] == prop])
            if properties:
                accuracy["property_mean"] = sum(accuracy[p] for p in properties) / len(properties)
            for group in variants:
                accuracy[group] = _accuracy([w for r, w in won if _variant_group(r) == group])
            models[model][summary] = accuracy
    return {
        "pairs": len(rows),
        "properties": properties,
        "variants": variants,
        "models": models,
        "scores": rows,
    }


def _variant_group(row: dict) -> str | None:
    """The pair's variant group, "permanence/vanish" or "permanence/appear"; None for other pairs."""
    if row["property"] == "permanence" and row["variant"] in PERMANENCE_VARIANTS:
        return f"permanence/{row['variant']}"
    return None
