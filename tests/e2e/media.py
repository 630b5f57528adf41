"""Camera content for the fake device: a y4m file Chromium loops as the
camera picture, so a test knows exactly what a capture must show."""

from pathlib import Path

import numpy as np
from PIL import Image

WIDTH, HEIGHT = 640, 480


def write_y4m(image: Image.Image, path: Path) -> Path:
    """One 4:2:0 frame (full-range JPEG YCbCr, as the header says)."""
    image = image.convert("RGB").resize((WIDTH, HEIGHT))
    ycbcr = np.asarray(image.convert("YCbCr"))
    y = ycbcr[:, :, 0]
    # Average 2×2 blocks for the chroma planes.
    cb = ycbcr[:, :, 1].reshape(HEIGHT // 2, 2, WIDTH // 2, 2).mean(axis=(1, 3)).astype(np.uint8)
    cr = ycbcr[:, :, 2].reshape(HEIGHT // 2, 2, WIDTH // 2, 2).mean(axis=(1, 3)).astype(np.uint8)
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F30:1 Ip A1:1 C420jpeg\n".encode())
        out.write(b"FRAME\n")
        out.write(y.tobytes() + cb.tobytes() + cr.tobytes())
    return path


def split_colours(left=(220, 30, 30), right=(30, 60, 220)) -> Image.Image:
    """Left half one colour, right half another: a capture that arrives
    mirrored or from the wrong camera is plain to see."""
    image = Image.new("RGB", (WIDTH, HEIGHT), right)
    image.paste(Image.new("RGB", (WIDTH // 2, HEIGHT), left), (0, 0))
    return image


def mean_colour(image: Image.Image, box) -> tuple[float, float, float]:
    region = np.asarray(image.convert("RGB").crop(box), dtype=np.float64)
    return tuple(region.reshape(-1, 3).mean(axis=0))
