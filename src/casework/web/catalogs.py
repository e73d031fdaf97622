"""Keeping the interface translations complete: extract every text marked for translation from the
templates and page code, and merge it into the shipped .po catalogs (``make i18n``).

The test suite uses :func:`missing_translations` so that a text added without translations, or a
translation whose placeholders differ from the English, fails the build.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from casework.web.i18n import DEFAULT, LANGUAGES, LOCALE_DIR

WEB = Path(__file__).parent
METHODS = [("templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.do", "trim_blocks": "true", "lstrip_blocks": "true"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "markup": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%[sd]")


def extract() -> Catalog:
    """Every translatable text of the web interface, with where it is used."""
    catalog = Catalog(project="casework", charset="utf-8")
    found = extract_from_dir(str(WEB), METHODS, options_map=OPTIONS, keywords=KEYWORDS, strip_comment_tags=True)
    for filename, lineno, message, comments, context in found:
        if filename.startswith("catalogs") or not message:
            continue
        catalog.add(message, None, [(f"web/{filename}", lineno)], auto_comments=comments, context=context)
    return catalog


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"


def update() -> dict[str, int]:
    """Merge the extracted texts into each language's catalog; returns how many lack a translation."""
    template = extract()
    missing: dict[str, int] = {}
    for lang in LANGUAGES:
        if lang == DEFAULT:
            continue
        path = po_path(lang)
        if path.is_file():
            with path.open("rb") as fh:
                catalog = read_po(fh, locale=lang)
        else:
            catalog = Catalog(locale=lang, project="casework", charset="utf-8")
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            write_po(fh, catalog, width=120, sort_output=True, omit_header=False)
        missing[lang] = sum(1 for m in catalog if m.id and (m.fuzzy or not _translated(m.string)))
    return missing


def _translated(value: object) -> bool:
    if isinstance(value, tuple | list):
        return all(value)
    return bool(value)


def _placeholders(text: str) -> set[str]:
    return {m.group(1) or m.group(0) for m in PLACEHOLDER.finditer(text)}


def missing_translations() -> list[str]:
    """Problems with the shipped catalogs: texts without a translation and placeholder mismatches."""
    template = extract()
    problems: list[str] = []
    for lang in LANGUAGES:
        if lang == DEFAULT:
            continue
        path = po_path(lang)
        if not path.is_file():
            problems.append(f"{lang}: no catalog at {path}")
            continue
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=lang)
        for message in template:
            if not message.id:
                continue
            found = catalog.get(message.id)
            if found is None or found.fuzzy or not _translated(found.string):
                problems.append(f"{lang}: not translated: {message.id!r}")
                continue
            english = message.id if isinstance(message.id, tuple | list) else (message.id,)
            translated = found.string if isinstance(found.string, tuple | list) else (found.string,)
            wanted = set().union(*(_placeholders(e) for e in english))
            for text in translated:
                text = text or ""
                if _placeholders(text) - wanted or (wanted - {"num"}) - _placeholders(text):
                    problems.append(f"{lang}: placeholders differ in {message.id!r}: {text!r}")
    return problems


def main(argv: list[str]) -> int:
    if argv[:1] == ["check"]:
        problems = missing_translations()
        for line in problems[:200]:
            print(line)
        return 1 if problems else 0
    for lang, count in update().items():
        print(f"{lang}: {count} text(s) to translate in {po_path(lang)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
