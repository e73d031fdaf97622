"""Interface languages: gettext catalogs read from the shipped .po files, and locale-aware formatting.

The .po files are the only artefact (no compiled .mo to keep in sync): Babel parses them once per
process. The language is the account's choice when it has one, else the browser's
Accept-Language, else English.
"""

from __future__ import annotations

import datetime as dt
import functools
import gettext as gettext_module
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime, format_timedelta
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from markupsafe import Markup

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES: dict[str, str] = {"en": "English", "fr": "Français", "es": "Español", "nl": "Nederlands", "pl": "Polski"}
DEFAULT = "en"


class _CatalogTranslations(gettext_module.NullTranslations):
    """gettext over a Babel catalog; an empty or fuzzy translation falls back to the English text."""

    def __init__(self, messages: dict[Any, Any], plural: Callable[[int], int]) -> None:
        super().__init__()
        self._messages = messages
        self._plural = plural

    def gettext(self, message: str) -> str:
        found = self._messages.get(message)
        return found if isinstance(found, str) and found else message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        found = self._messages.get(singular)
        if isinstance(found, tuple | list) and all(found):
            index = self._plural(n)
            if 0 <= index < len(found):
                return str(found[index])
        return singular if n == 1 else plural


@functools.cache
def translations(lang: str) -> gettext_module.NullTranslations:
    path = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    if lang == DEFAULT or not path.is_file():
        return gettext_module.NullTranslations()
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    messages: dict[Any, Any] = {}
    for msg in catalog:
        if not msg.id or msg.fuzzy:
            continue
        key = msg.id[0] if isinstance(msg.id, tuple | list) else msg.id
        messages[key] = tuple(msg.string) if isinstance(msg.string, tuple | list) else msg.string
    return _CatalogTranslations(messages, gettext_module.c2py(catalog.plural_expr))


def negotiate(accept_language: str | None, preferred: str | None = None) -> str:
    """The account's language when it is one we ship, else the best match of the browser's list."""
    if preferred:
        short = preferred.replace("-", "_").split("_")[0].lower()
        if short in LANGUAGES:
            return short
    if not accept_language:
        return DEFAULT
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        short = tag.strip().split("-")[0].lower()
        if short in LANGUAGES and quality > 0:
            weighted.append((-quality, position, short))
    return min(weighted)[2] if weighted else DEFAULT


def regional(accept_language: str | None, lang: str) -> str:
    """The browser's region for ``lang`` when it names one (en-GB → en_GB: day-first dates), else ``lang``."""
    for part in (accept_language or "").split(",")[:20]:
        tag = part.strip().partition(";")[0].strip().replace("_", "-")
        base, _, region = tag.partition("-")
        if base.lower() == lang and region.isalpha() and len(region) == 2:
            return f"{lang}_{region.upper()}"
    return lang


@functools.cache
def _locale(name: str) -> Locale:
    try:
        return Locale.parse(name)
    except (UnknownLocaleError, ValueError):
        return Locale.parse(name.split("_")[0]) if "_" in name else Locale.parse(DEFAULT)


@dataclass(frozen=True)
class Translator:
    """What templates and handlers use to speak the user's language.

    ``lang`` picks the texts; ``formats`` (a locale such as en_GB) picks how dates and numbers look.
    """

    lang: str
    formats: str | None = None

    @property
    def locale(self) -> Locale:
        return _locale(self.formats or self.lang)

    def gettext(self, message: str, **values: Any) -> str:
        text = translations(self.lang).gettext(message)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, n: int, **values: Any) -> str:
        text = translations(self.lang).ngettext(singular, plural, n)
        values.setdefault("num", n)
        return text % values

    def markup(self, message: str, **values: Any) -> Markup:
        """A translated text holding markup of our own, with the values escaped."""
        return Markup(translations(self.lang).gettext(message)) % values

    def datetime(self, value: dt.datetime | None, form: str = "medium") -> str:
        if value is None:
            return "—"
        return format_datetime(value, format=form, locale=self.locale)

    def date(self, value: dt.date | dt.datetime | None, form: str = "medium") -> str:
        if value is None:
            return "—"
        return format_date(value, format=form, locale=self.locale)

    def number(self, value: int | float | Decimal | None, digits: int | None = None) -> str:
        if value is None:
            return "—"
        if digits is not None:
            return format_decimal(value, format=f"#,##0.{'0' * digits}" if digits else "#,##0", locale=self.locale)
        return format_decimal(value, locale=self.locale)

    def percent(self, value: float | None) -> str:
        return "—" if value is None else format_percent(value, locale=self.locale)

    def duration(self, value: dt.timedelta | float | None) -> str:
        """A duration in words (``3 days``); a float counts hours."""
        if value is None:
            return "—"
        delta = value if isinstance(value, dt.timedelta) else dt.timedelta(hours=value)
        return format_timedelta(delta, locale=self.locale, threshold=1.5)
