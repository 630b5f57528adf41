"""Camera content for the fake device: a y4m file Chromium loops as the
camera picture, so a test knows exactly what a capture must show."""

from pathlib import Path

import numpy as np
from PIL import Image

WIDTH, HEIGHT = 640, 480


def write_y4m(image, path: Path, *, size: tuple[int, int] = (WIDTH, HEIGHT), fps: int = 30) -> Path:
    """4:2:0 frames (full-range JPEG YCbCr, as the header says): one image,
    or a list of them that Chromium plays in a loop."""
    width, height = size
    images = image if isinstance(image, (list, tuple)) else [image]
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in images:
            ycbcr = np.asarray(frame.convert("RGB").resize((width, height)).convert("YCbCr"))
            y = ycbcr[:, :, 0]
            # Average 2×2 blocks for the chroma planes.
            cb = ycbcr[:, :, 1].reshape(height // 2, 2, width // 2, 2).mean(axis=(1, 3)).astype(np.uint8)
            cr = ycbcr[:, :, 2].reshape(height // 2, 2, width // 2, 2).mean(axis=(1, 3)).astype(np.uint8)
            out.write(b"FRAME\n")
            out.write(y.tobytes() + cb.tobytes() + cr.tobytes())
    return path


def moving_scene(size: tuple[int, int] = (1280, 720), frames: int = 30) -> list[Image.Image]:
    """A picture that changes every frame, as a camera's does (a static one
    costs the encoder next to nothing): a gradient with a block crossing it."""
    width, height = size
    x = np.linspace(0, 255, width, dtype=np.float64)
    y = np.linspace(0, 255, height, dtype=np.float64)[:, None]
    base = np.stack([np.broadcast_to(x, (height, width)), np.broadcast_to(y, (height, width)),
                     np.full((height, width), 128.0)], axis=2)
    images = []
    for n in range(frames):
        frame = base.copy()
        left = int((width - width // 5) * n / max(1, frames - 1))
        frame[height // 3: 2 * height // 3, left: left + width // 5] = (240, 240, 240)
        frame[:, :, 2] = (frame[:, :, 2] + 4 * n) % 256
        images.append(Image.fromarray(frame.astype(np.uint8), "RGB"))
    return images


def split_colours(left=(220, 30, 30), right=(30, 60, 220)) -> Image.Image:
    """Left half one colour, right half another: a capture that arrives
    mirrored or from the wrong camera is plain to see."""
    image = Image.new("RGB", (WIDTH, HEIGHT), right)
    image.paste(Image.new("RGB", (WIDTH // 2, HEIGHT), left), (0, 0))
    return image


def mean_colour(image: Image.Image, box) -> tuple[float, float, float]:
    region = np.asarray(image.convert("RGB").crop(box), dtype=np.float64)
    return tuple(region.reshape(-1, 3).mean(axis=0))
