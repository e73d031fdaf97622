"""One-page PDFs whose text layer is given lines of Courier: what a scanner with OCR or a word
processor produces. The demo sends such documents (a passport page with its machine-readable
zone, a utility bill), and the tests build their PDFs with it."""

from __future__ import annotations

import io

from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject


def _escape(line: str) -> str:
    return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def text_pdf(*lines: str, size: int = 9) -> bytes:
    """One A4 page whose text layer is ``lines``, one per line, in Courier."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Courier"),
        }
    )
    fonts = DictionaryObject({NameObject("/F1"): writer._add_object(font)})
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): fonts})
    body = "".join(f"({_escape(line)}) Tj T*\n" for line in lines)
    stream = DecodedStreamObject()
    stream.set_data(f"BT /F1 {size} Tf {size + 3} TL 30 800 Td\n{body}ET".encode("latin-1"))
    page[NameObject("/Contents")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
