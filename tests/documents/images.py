"""Test helpers that render document images with Pillow (ID cards with an MRZ, blank scans)."""

from __future__ import annotations

import io
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

_MONO = Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf")


def mono_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu Sans Mono when installed (close to OCR-B), else Pillow's built-in scalable font."""
    if _MONO.exists():
        return ImageFont.truetype(str(_MONO), size)
    return ImageFont.load_default(size=size)


def render_id_card(
    mrz: str,
    *,
    font_size: int = 30,
    rotate: float = 0.0,
    noise: float = 0.0,
    blur: float = 0.0,
    seed: int = 0,
    fmt: str = "PNG",
) -> bytes:
    """An ID-card-like image: header, photo box, a few printed fields and the MRZ at the bottom.

    ``rotate`` tilts the whole card (degrees), ``noise`` (0..1) sprinkles grey speckles,
    ``blur`` applies a Gaussian blur of that radius; the result is encoded as ``fmt``.
    """
    rng = random.Random(seed)
    lines = mrz.splitlines()
    font = mono_font(font_size)
    small = mono_font(max(12, font_size * 2 // 3))
    char_w = font.getbbox("<")[2] or font_size * 0.6
    width = int(char_w * max(len(line) for line in lines) + 2 * font_size) + 40
    line_h = int(font_size * 1.45)
    height = max(int(width * 0.63), 260 + line_h * len(lines) + 40)
    card = Image.new("RGB", (width, height), (236, 240, 232))
    draw = ImageDraw.Draw(card)
    draw.rectangle((0, 0, width, 60), fill=(30, 70, 140))
    draw.text((20, 14), "UTOPIA  IDENTITY DOCUMENT", fill="white", font=small)
    draw.rectangle((20, 80, 200, 300), outline=(90, 90, 90), width=3, fill=(200, 205, 210))
    draw.ellipse((70, 110, 150, 190), fill=(150, 150, 160))
    for i, label in enumerate(("Surname / Nom", "Given names / Prenoms", "Date of birth", "Expiry")):
        draw.text((230, 90 + i * 45), label, fill=(80, 80, 80), font=small)
    top = height - line_h * len(lines) - 25
    for i, line in enumerate(lines):
        draw.text((20, top + i * line_h), line, fill=(10, 10, 10), font=font)
    if noise:
        pixels = card.load()
        assert pixels is not None
        for _ in range(int(width * height * noise * 0.05)):
            x, y = rng.randrange(width), rng.randrange(height)
            grey = rng.randrange(80, 220)
            pixels[x, y] = (grey, grey, grey)
    if blur:
        card = card.filter(ImageFilter.GaussianBlur(blur))
    if rotate:
        card = card.rotate(rotate, expand=True, fillcolor=(255, 255, 255), resample=Image.Resampling.BICUBIC)
    return encode(card, fmt)


def encode(image: Image.Image, fmt: str = "PNG", **params: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **params)
    return buf.getvalue()


def blank_page(width: int = 1240, height: int = 1754, fmt: str = "PNG", **params: object) -> bytes:
    """A white page with a line of text (A4 at 150 dpi by default)."""
    page = Image.new("RGB", (width, height), "white")
    ImageDraw.Draw(page).text((50, 50), "Proof of address", fill="black", font=mono_font(24))
    return encode(page, fmt, **params)
