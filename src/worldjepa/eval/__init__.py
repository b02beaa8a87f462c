"""Probes on frozen features: linear, attentive (V-JEPA 2, with its official and transformers file
formats), kNN, probes trained on folders of labelled videos, and collapse statistics; `wall_push`, how
much of a push into the wall a Two-Rooms world model lets through, and `door_edges`, how much wider than
the real one its door is."""

from worldjepa.eval.attentive_probe import (
    AttentiveClassifier,
    AttentivePooler,
    ProbeConfig,
    train_attentive_probe,
)
from worldjepa.eval.collapse import effective_rank, feature_std
from worldjepa.eval.door_edges import door_edges
from worldjepa.eval.features import extract_features, frozen_encoder, pixel_features
from worldjepa.eval.knn import knn_classify
from worldjepa.eval.linear_probe import train_linear_probe
from worldjepa.eval.official_probe import from_hf_state, load_official_probe, save_official_probe, to_hf_state
from worldjepa.eval.probe_files import load_probe, save_probe
from worldjepa.eval.probe_suite import PROBE_KINDS, run_probes, run_probes_over_seeds
from worldjepa.eval.video_probe import evaluate_video_probe, train_video_probe
from worldjepa.eval.wall_push import wall_push

__all__ = [
    "PROBE_KINDS",
    "AttentiveClassifier",
    "AttentivePooler",
    "ProbeConfig",
    "door_edges",
    "effective_rank",
    "evaluate_video_probe",
    "extract_features",
    "feature_std",
    "from_hf_state",
    "frozen_encoder",
    "knn_classify",
    "load_official_probe",
    "load_probe",
    "pixel_features",
    "run_probes",
    "run_probes_over_seeds",
    "save_official_probe",
    "save_probe",
    "to_hf_state",
    "train_attentive_probe",
    "train_linear_probe",
    "train_video_probe",
    "wall_push",
]
