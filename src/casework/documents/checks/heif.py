"""HEIC/HEIF photos (what phones take by default) opened through Pillow with pillow-heif.

Registering the opener once lets every image check (sanity, OCR, 2D-Doc) read them like JPEG.
Without the library the sanity check still recognises the type and sends it to a person.
"""

from __future__ import annotations

import functools


@functools.cache
def register_heif() -> bool:
    """Teach Pillow to open HEIC/HEIF; False when pillow-heif is not installed."""
    try:
        import pillow_heif
    except ImportError:  # pragma: no cover - a dependency in pyproject; kept optional for slim builds
        return False
    pillow_heif.register_heif_opener(thumbnails=False)
    return True
