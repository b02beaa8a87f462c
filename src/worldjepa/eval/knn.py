"""Weighted k-nearest-neighbour classification on frozen features (DINO's kNN evaluation)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from worldjepa.errors import ConfigError
from worldjepa.eval.features import check_probe_data, resolve_num_classes


@torch.no_grad()
def knn_classify(
    train_x: Tensor,
    train_y: Tensor,
    test_x: Tensor,
    test_y: Tensor,
    k: int = 20,
    temperature: float = 0.07,
    num_classes: int | None = None,
    chunk_size: int = 1024,
) -> dict[str, float]:
    """Classify test_x [M, D] by its k most cosine-similar rows of train_x [N, D].

    Each neighbour votes for its label with weight exp(similarity / temperature); the class with the
    largest total wins. Test rows are processed `chunk_size` at a time to bound memory at
    [chunk_size, N]. Returns accuracy.
    """
    check_probe_data(train_x, train_y, test_x, test_y, ndim=2)
    if k < 1 or temperature <= 0 or chunk_size < 1:
        raise ConfigError(
            f"need k >= 1, temperature > 0 and chunk_size >= 1, got k={k}, temperature={temperature}, "
            f"chunk_size={chunk_size}."
        )
    num_classes = resolve_num_classes(num_classes, train_y, test_y)
    train = F.normalize(train_x.float(), dim=1)
    test = F.normalize(test_x.float(), dim=1)
    train_y, test_y = train_y.to(train.device), test_y.to(train.device)
    k = min(k, train.shape[0])
    correct = 0
    for start in range(0, test.shape[0], chunk_size):
        queries = test[start : start + chunk_size]
        similarity, index = (queries @ train.T).topk(k, dim=1)  # [m, k]
        votes = torch.zeros(queries.shape[0], num_classes, device=train.device)
        votes.scatter_add_(1, train_y[index], (similarity / temperature).exp())
        correct += int((votes.argmax(1) == test_y[start : start + chunk_size]).sum())
    return {"accuracy": correct / test.shape[0]}
