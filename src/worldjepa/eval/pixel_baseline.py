"""The pixel-space baseline for physical surprise: a small conv net that predicts the pixels of the
next M frames from C frames, trained on the same possible videos; its surprise is its pixel error."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader

from worldjepa.data.video_dataset import VideoDataset
from worldjepa.errors import DataError


class PixelPredictor(nn.Module):
    """A two-level conv U-Net: frames [B, 3, C, S, S] -> the next [B, 3, M, S, S].

    The output is the last context frame plus a predicted change, so standing still costs nothing
    to learn. S must be a multiple of 4.
    """

    def __init__(self, context_frames: int, future_frames: int, width: int = 16):
        super().__init__()
        self.context_frames, self.future_frames = context_frames, future_frames
        c_in, w = 3 * context_frames, width

        def conv(a: int, b: int, stride: int = 1) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(a, b, 3, stride, 1), nn.GELU())

        self.down0, self.down1, self.down2 = conv(c_in, w), conv(w, 2 * w, 2), conv(2 * w, 2 * w, 2)
        self.middle = conv(2 * w, 2 * w)
        self.up1, self.up0 = conv(4 * w, 2 * w), conv(3 * w, w)
        self.out = nn.Conv2d(w, 3 * future_frames, 3, 1, 1)

    def forward(self, context: Tensor) -> Tensor:
        b, _, c, s, _ = context.shape
        x0 = self.down0(context.reshape(b, 3 * c, s, s))
        x1 = self.down1(x0)
        x = self.middle(self.down2(x1))
        x = self.up1(torch.cat([F.interpolate(x, scale_factor=2.0), x1], 1))
        x = self.up0(torch.cat([F.interpolate(x, scale_factor=2.0), x0], 1))
        delta = self.out(x).view(b, 3, self.future_frames, s, s)
        return context[:, :, -1:] + delta


class PixelScorer:
    """A trained PixelPredictor as a surprise scorer (see `worldjepa.eval.surprise`)."""

    def __init__(self, model: PixelPredictor, size: int, stride: int = 2, device: str | torch.device = "cpu"):
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.context_frames, self.future_frames = model.context_frames, model.future_frames
        self.size, self.stride = size, stride

    @torch.no_grad()
    def window_errors(self, clips: Tensor) -> Tensor:
        """clips [W, 3, C + M, S, S] -> mean absolute pixel error per predicted frame [W, M]."""
        clips = clips.to(self.device)
        c = self.context_frames
        pred = self.model(clips[:, :, :c])
        return (pred - clips[:, :, c:]).abs().mean(dim=(1, 3, 4)).cpu()


def train_pixel_predictor(
    dataset: VideoDataset,
    context_frames: int,
    future_frames: int,
    steps: int = 1500,
    batch_size: int = 32,
    lr: float = 2e-3,
    seed: int = 0,
    device: str | torch.device = "cpu",
) -> PixelPredictor:
    """Fit a PixelPredictor with L1 on the clips of `dataset` (items {"video": [3, T, S, S]} with
    T >= context_frames + future_frames); AdamW, cosine learning rate. A dataset smaller than one
    batch trains on batches of all its clips."""
    if len(dataset) == 0:
        raise DataError("The pixel baseline has no clips to train on: the dataset is empty.")
    batch_size = min(batch_size, len(dataset))
    torch.manual_seed(seed)
    device = torch.device(device)
    model = PixelPredictor(context_frames, future_frames).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    generator = torch.Generator().manual_seed(seed)
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, drop_last=True, generator=generator)
    step, epoch = 0, 0
    model.train()
    while step < steps:
        dataset.set_epoch(epoch)
        for batch in loader:
            video = batch["video"].to(device)
            pred = model(video[:, :, :context_frames])
            loss = (pred - video[:, :, context_frames : context_frames + future_frames]).abs().mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            step += 1
            if step == steps:
                break
        epoch += 1
    return model.eval()
