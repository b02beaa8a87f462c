"""Data: video decoding (PyAV), transforms, video and image datasets, the moving-digits set."""

from worldjepa.data.images import (
    PHOTOS,
    ArrayImageDataset,
    ImageFolder,
    load_digits_images,
    load_photos,
)
from worldjepa.data.moving_digits import generate_moving_digits, load_moving_digits, render_moving_digit
from worldjepa.data.transforms import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    RandomGrayscaleVideo,
    RandomResizedCropVideo,
    VideoTransform,
    item_generator,
)
from worldjepa.data.video import count_frames, read_video, write_video
from worldjepa.data.video_dataset import VIDEO_EXTENSIONS, VideoDataset, find_videos, sample_clip

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "PHOTOS",
    "VIDEO_EXTENSIONS",
    "ArrayImageDataset",
    "ImageFolder",
    "RandomGrayscaleVideo",
    "RandomResizedCropVideo",
    "VideoDataset",
    "VideoTransform",
    "count_frames",
    "find_videos",
    "generate_moving_digits",
    "item_generator",
    "load_digits_images",
    "load_moving_digits",
    "load_photos",
    "read_video",
    "render_moving_digit",
    "sample_clip",
    "write_video",
]
