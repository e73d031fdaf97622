"""Test PDFs with a real text layer (Courier text drawn by a content stream), and image-only PDFs."""

from __future__ import annotations

import io

from PIL import Image

from casework.documents.text_pdf import text_pdf

__all__ = ["image_pdf", "text_pdf"]


def image_pdf(png: bytes) -> bytes:
    """A scanned-page PDF: the image as the only content (no text layer)."""
    out = io.BytesIO()
    Image.open(io.BytesIO(png)).convert("RGB").save(out, format="PDF", resolution=150)
    return out.getvalue()
