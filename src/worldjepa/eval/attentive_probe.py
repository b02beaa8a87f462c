"""V-JEPA 2's attentive probe: learned queries cross-attend to frozen tokens, then a linear head.

Module and parameter names mirror facebookresearch/vjepa2 `src/models/attentive_pooler.py`, so an
official probe checkpoint loads key by key (`pooler.query_tokens`, `pooler.blocks.{i}.attn.qkv`,
`pooler.cross_attention_block.xattn.{q,kv}`, `linear`, ...). The Hugging Face `VJEPA2AttentivePooler`
holds the same maths under other names (separate q/k/v projections: concatenate them into qkv / kv).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from worldjepa.errors import ConfigError
from worldjepa.eval.features import check_probe_data, resolve_num_classes
from worldjepa.nn import MLP, Block


class _CrossAttention(nn.Module):
    """Queries attend to tokens; as in the official pooler there is no output projection."""

    def __init__(self, dim: int, num_heads: int, qkv_bias: bool):
        super().__init__()
        self.num_heads = num_heads
        self.q = nn.Linear(dim, dim, bias=qkv_bias)
        self.kv = nn.Linear(dim, 2 * dim, bias=qkv_bias)

    def forward(self, queries: Tensor, x: Tensor) -> Tensor:
        """queries [B, Q, D], tokens x [B, N, D] -> [B, Q, D]."""
        b, nq, d = queries.shape
        heads, head_dim = self.num_heads, d // self.num_heads
        q = self.q(queries).reshape(b, nq, heads, head_dim).transpose(1, 2)
        k, v = self.kv(x).reshape(b, x.shape[1], 2, heads, head_dim).permute(2, 0, 3, 1, 4)
        return F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, nq, d)


class _CrossAttentionBlock(nn.Module):
    """Only the tokens are normalised before attention; the queries enter raw (official layout)."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float, qkv_bias: bool, eps: float):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.xattn = _CrossAttention(dim, num_heads, qkv_bias)
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = MLP(dim, int(dim * mlp_ratio))

    def forward(self, queries: Tensor, x: Tensor) -> Tensor:
        queries = queries + self.xattn(queries, self.norm1(x))
        return queries + self.mlp(self.norm2(queries))


class AttentivePooler(nn.Module):
    """`depth - 1` self-attention blocks over the tokens, then learned queries cross-attend to them.

    V-JEPA 2's frozen evaluations use depth=4 (3 self-attention blocks + the cross-attention block).
    `generator` makes the initialisation reproducible without touching the global RNG.
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int = 4,
        depth: int = 1,
        mlp_ratio: float = 4.0,
        num_queries: int = 1,
        qkv_bias: bool = True,
        init_std: float = 0.02,
        layer_norm_eps: float = 1e-5,
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        if embed_dim % num_heads or depth < 1 or num_queries < 1:
            raise ConfigError(
                f"attentive pooler needs embed_dim divisible by num_heads, depth >= 1 and num_queries >= 1; "
                f"got embed_dim={embed_dim}, num_heads={num_heads}, depth={depth}, num_queries={num_queries}."
            )
        self.init_std = init_std
        self.query_tokens = nn.Parameter(torch.zeros(1, num_queries, embed_dim))
        self.cross_attention_block = _CrossAttentionBlock(
            embed_dim, num_heads, mlp_ratio, qkv_bias, layer_norm_eps
        )
        self.blocks = nn.ModuleList(
            Block(embed_dim, num_heads, mlp_ratio, qkv_bias, norm_eps=layer_norm_eps)
            for _ in range(depth - 1)
        )
        nn.init.trunc_normal_(self.query_tokens, std=init_std, generator=generator)
        for module in self.modules():
            _init_module(module, init_std, generator)
        self._rescale_blocks()

    @torch.no_grad()
    def _rescale_blocks(self) -> None:
        # Residual-branch outputs shrink with depth as in the official pooler, whose quirk gives the
        # cross-attention block the depth of the last self-attention block (or 1 if there is none).
        for layer_id, block in enumerate(self.blocks, start=1):
            block.attn.proj.weight.div_(math.sqrt(2.0 * layer_id))
            block.mlp.fc2.weight.div_(math.sqrt(2.0 * layer_id))
        self.cross_attention_block.mlp.fc2.weight.div_(math.sqrt(2.0 * max(len(self.blocks), 1)))

    def forward(self, tokens: Tensor) -> Tensor:
        """tokens [B, N, D] -> pooled [B, num_queries, D]."""
        for block in self.blocks:
            tokens = block(tokens)
        queries = self.query_tokens.expand(tokens.shape[0], -1, -1)
        return self.cross_attention_block(queries, tokens)


@dataclass
class ProbeConfig:
    """Everything that fixes an AttentiveClassifier's architecture (saved beside its weights)."""

    embed_dim: int
    num_classes: int
    num_heads: int = 4
    depth: int = 1
    mlp_ratio: float = 4.0
    num_queries: int = 1
    qkv_bias: bool = True
    init_std: float = 0.02
    layer_norm_eps: float = 1e-5


class AttentiveClassifier(nn.Module):
    """AttentivePooler + linear head: tokens [B, N, D] -> logits [B, num_classes].

    With several queries their pooled outputs are averaged before the head (one query, the official
    setting, is unchanged by this). `self.config` (a ProbeConfig) rebuilds the same architecture.
    """

    def __init__(
        self,
        embed_dim: int,
        num_classes: int,
        num_heads: int = 4,
        depth: int = 1,
        mlp_ratio: float = 4.0,
        num_queries: int = 1,
        qkv_bias: bool = True,
        init_std: float = 0.02,
        layer_norm_eps: float = 1e-5,
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        self.config = ProbeConfig(
            embed_dim,
            num_classes,
            num_heads,
            depth,
            mlp_ratio,
            num_queries,
            qkv_bias,
            init_std,
            layer_norm_eps,
        )
        self.pooler = AttentivePooler(
            embed_dim, num_heads, depth, mlp_ratio, num_queries, qkv_bias, init_std, layer_norm_eps, generator
        )
        self.linear = nn.Linear(embed_dim, num_classes)
        _init_module(self.linear, init_std, generator)

    @classmethod
    def from_config(
        cls, config: ProbeConfig, generator: torch.Generator | None = None
    ) -> AttentiveClassifier:
        return cls(**asdict(config), generator=generator)

    def forward(self, tokens: Tensor) -> Tensor:
        return self.linear(self.pooler(tokens).mean(1))


def _init_module(module: nn.Module, std: float, generator: torch.Generator | None) -> None:
    if isinstance(module, nn.Linear):
        nn.init.trunc_normal_(module.weight, std=std, generator=generator)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


def train_attentive_probe(
    train_tokens: Tensor,
    train_y: Tensor,
    test_tokens: Tensor,
    test_y: Tensor,
    num_classes: int | None = None,
    epochs: int = 20,
    batch_size: int = 64,
    lr: float = 1e-3,
    weight_decay: float = 0.01,
    depth: int = 1,
    num_heads: int = 4,
    num_queries: int = 1,
    warmup_frac: float = 0.1,
    seed: int = 0,
    progress: bool = False,
) -> dict:
    """Train an AttentiveClassifier on frozen tokens [N, K, D] and report test accuracy.

    AdamW (no decay on biases and norms, as in V-JEPA 2's evals), linear warmup over `warmup_frac`
    of the steps then cosine decay to zero. Runs on the tokens' device. Initialisation and shuffling
    come from `seed` alone, so a seed gives the same numbers on CPU.
    Returns accuracy, train_accuracy, loss (mean over the last epoch) and model (eval mode).
    """
    check_probe_data(train_tokens, train_y, test_tokens, test_y, ndim=3)
    if epochs < 1 or batch_size < 1 or not 0.0 <= warmup_frac < 1.0:
        raise ConfigError(
            f"need epochs >= 1, batch_size >= 1 and 0 <= warmup_frac < 1, got epochs={epochs}, "
            f"batch_size={batch_size}, warmup_frac={warmup_frac}."
        )
    num_classes = resolve_num_classes(num_classes, train_y, test_y)
    device = train_tokens.device
    generator = torch.Generator().manual_seed(seed)
    model = AttentiveClassifier(
        train_tokens.shape[-1], num_classes, num_heads, depth, num_queries=num_queries, generator=generator
    ).to(device)
    decay = [p for name, p in model.named_parameters() if "bias" not in name and p.ndim != 1]
    no_decay = [p for name, p in model.named_parameters() if "bias" in name or p.ndim == 1]
    optimizer = torch.optim.AdamW(
        [{"params": decay}, {"params": no_decay, "weight_decay": 0.0}], lr=lr, weight_decay=weight_decay
    )
    x, y = train_tokens.float(), train_y.to(device)
    steps_per_epoch = math.ceil(x.shape[0] / batch_size)
    total_steps = epochs * steps_per_epoch
    warmup_steps = int(warmup_frac * total_steps)

    epoch_range = range(epochs)
    if progress:
        from rich.progress import track

        epoch_range = track(epoch_range, description="Attentive probe")
    model.train()
    step, epoch_loss = 0, float("nan")
    for _ in epoch_range:
        order = torch.randperm(x.shape[0], generator=generator).to(device)
        losses = []
        for start in range(0, x.shape[0], batch_size):
            for group in optimizer.param_groups:
                group["lr"] = lr * _warmup_cosine(step, warmup_steps, total_steps)
            index = order[start : start + batch_size]
            loss = F.cross_entropy(model(x[index]), y[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(loss.detach())
            step += 1
        epoch_loss = float(torch.stack(losses).mean())
    model.eval()
    return {
        "accuracy": probe_accuracy(model, test_tokens.to(device).float(), test_y.to(device), batch_size),
        "train_accuracy": probe_accuracy(model, x, y, batch_size),
        "loss": epoch_loss,
        "model": model,
    }


def _warmup_cosine(step: int, warmup_steps: int, total_steps: int) -> float:
    """Learning-rate factor: linear ramp to 1 over warmup_steps, then cosine down to 0."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return 0.5 * (1.0 + math.cos(math.pi * progress))


@torch.no_grad()
def probe_accuracy(model: nn.Module, tokens: Tensor, labels: Tensor, batch_size: int = 64) -> float:
    """Top-1 accuracy of `model` on tokens [N, K, D] with labels [N], in chunks of 4 * batch_size."""
    correct = 0
    for start in range(0, tokens.shape[0], 4 * batch_size):
        logits = model(tokens[start : start + 4 * batch_size])
        correct += int((logits.argmax(1) == labels[start : start + 4 * batch_size]).sum())
    return correct / tokens.shape[0]
