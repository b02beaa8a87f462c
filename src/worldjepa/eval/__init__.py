"""Probes on frozen features: linear, attentive (V-JEPA 2), kNN, and collapse statistics."""

from worldjepa.eval.attentive_probe import AttentiveClassifier, AttentivePooler, train_attentive_probe
from worldjepa.eval.collapse import effective_rank, feature_std
from worldjepa.eval.features import extract_features, pixel_features
from worldjepa.eval.knn import knn_classify
from worldjepa.eval.linear_probe import train_linear_probe
from worldjepa.eval.probe_suite import PROBE_KINDS, run_probes

__all__ = [
    "PROBE_KINDS",
    "AttentiveClassifier",
    "AttentivePooler",
    "effective_rank",
    "extract_features",
    "feature_std",
    "knn_classify",
    "pixel_features",
    "run_probes",
    "train_attentive_probe",
    "train_linear_probe",
]
