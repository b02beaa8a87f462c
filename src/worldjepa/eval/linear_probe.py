"""Linear probe: multinomial logistic regression on frozen, standardized features."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from worldjepa.eval.features import check_probe_data, resolve_num_classes


def train_linear_probe(
    train_x: Tensor,
    train_y: Tensor,
    test_x: Tensor,
    test_y: Tensor,
    num_classes: int | None = None,
    epochs: int = 100,
    lr: float = 1.0,
    weight_decay: float = 1e-3,
    seed: int = 0,
) -> dict[str, float]:
    """Fit softmax regression on train_x [N, D] -> train_y [N]; report accuracy on test_x [M, D].

    Features are standardized with the train split's statistics. The convex objective (mean cross
    entropy + weight_decay / 2 * ||W||^2) is minimised full-batch by L-BFGS for at most `epochs`
    iterations from a seeded small random start, so the result is deterministic.
    Returns accuracy (test), train_accuracy and loss (final training objective).
    """
    check_probe_data(train_x, train_y, test_x, test_y, ndim=2)
    num_classes = resolve_num_classes(num_classes, train_y, test_y)
    x, x_test = train_x.float(), test_x.float()
    y, y_test = train_y.to(x.device), test_y.to(x.device)
    mean = x.mean(0)
    std = x.std(0, unbiased=False)
    # A constant train feature carries nothing; dividing by ~0 would only blow test values up.
    std = torch.where(std > 1e-6, std, torch.ones_like(std))
    x, x_test = (x - mean) / std, (x_test - mean) / std

    generator = torch.Generator().manual_seed(seed)
    weight = (0.01 * torch.randn(x.shape[1], num_classes, generator=generator)).to(x.device).requires_grad_()
    bias = torch.zeros(num_classes, device=x.device, requires_grad=True)
    optimizer = torch.optim.LBFGS(
        [weight, bias], lr=lr, max_iter=epochs, history_size=20, line_search_fn="strong_wolfe"
    )

    def objective() -> Tensor:
        optimizer.zero_grad()
        loss = F.cross_entropy(x @ weight + bias, y) + 0.5 * weight_decay * weight.square().sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        optimizer.step(objective)
    with torch.no_grad():
        loss = F.cross_entropy(x @ weight + bias, y) + 0.5 * weight_decay * weight.square().sum()
        train_acc = ((x @ weight + bias).argmax(1) == y).float().mean()
        test_acc = ((x_test @ weight + bias).argmax(1) == y_test).float().mean()
    return {"accuracy": float(test_acc), "train_accuracy": float(train_acc), "loss": float(loss)}
