"""Photo-like test pictures and the altered copies a ring posts of them (issue 17): for the
tests, the demo data and bench/pictures.py. Deterministic: the same seed gives the same
picture (numpy's seeded generator, Pillow's drawing).

    from devtools.pictures import KINDS, jpeg, photo, variant

    original = photo(7)                          # 640x480, smooth gradients, shapes, noise
    copies = {kind: jpeg(variant(original, kind)) for kind in KINDS}
    unrelated = jpeg(photo(8))                   # another seed: another picture

The kinds of copy: "resized" (half size), "recompressed" (JPEG at quality 15), "text" (a
phone number written across the lower part, as ads carry), "mirrored" (left-right) and
"rotated" (90°). A copy's PDQ hash is within the matching distance of the original's (one of
the original's dihedral variants, for mirrored and rotated copies); another seed's is far.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

KINDS = ("resized", "recompressed", "text", "mirrored", "rotated")
CAPTION = "OPEN BO 0812-3456-7890"


def photo(seed: int, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A photo-like RGB picture: smooth colour gradients and waves, a dozen soft-edged shapes
    and sensor-like noise — enough texture for a PDQ quality near 100, unlike a flat picture."""
    rng = np.random.default_rng(seed)
    width, height = size
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    x /= width
    y /= height
    pixels = np.empty((height, width, 3), np.float32)
    for channel in range(3):
        layer = rng.uniform(70, 180) + rng.uniform(-60, 60) * x + rng.uniform(-60, 60) * y
        for _ in range(3):
            fx, fy = rng.uniform(0.5, 4.0, 2)
            phase = rng.uniform(0, 2 * np.pi)
            layer += rng.uniform(10, 35) * np.sin(2 * np.pi * (fx * x + fy * y) + phase)
        pixels[..., channel] = layer
    picture = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(picture)
    for _ in range(int(rng.integers(8, 15))):
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        rx, ry = rng.uniform(0.05, 0.25) * width, rng.uniform(0.05, 0.25) * height
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.ellipse([cx - rx, cy - ry, cx + rx, cy + ry], fill=colour)
        else:
            angles = np.sort(rng.uniform(0, 2 * np.pi, int(rng.integers(3, 6))))
            draw.polygon([(cx + rx * np.cos(a), cy + ry * np.sin(a)) for a in angles], fill=colour)
    picture = picture.filter(ImageFilter.GaussianBlur(radius=max(size) / 300))
    noisy = np.asarray(picture, np.float32) + rng.normal(0, 6, (height, width, 3))
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


def variant(image: Image.Image, kind: str) -> Image.Image:
    """An altered copy of `image`: one of KINDS."""
    width, height = image.size
    if kind == "resized":
        return image.resize((width // 2, height // 2), Image.Resampling.LANCZOS)
    if kind == "recompressed":
        return Image.open(io.BytesIO(jpeg(image, quality=15))).convert("RGB")
    if kind == "text":
        copy = image.copy()
        font = ImageFont.load_default(size=max(10, height // 20))
        ImageDraw.Draw(copy).text(
            (width // 20, int(height * 0.85)),
            CAPTION,
            fill=(255, 255, 255),
            font=font,
            stroke_width=1,
            stroke_fill=(0, 0, 0),
        )
        return copy
    if kind == "mirrored":
        return image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    if kind == "rotated":
        return image.transpose(Image.Transpose.ROTATE_90)
    raise ValueError(f"no kind of copy named {kind!r}; there are: {', '.join(KINDS)}")


def jpeg(image: Image.Image, quality: int = 85) -> bytes:
    """The picture as JPEG bytes, as a phone would upload it."""
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()
