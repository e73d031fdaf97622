"""Every interface text is translated into each shipped language, with the same placeholders."""

from __future__ import annotations

from casework.web.catalogs import extract, missing_translations
from casework.web.i18n import LANGUAGES, Translator


def test_every_text_is_translated_in_every_language() -> None:
    problems = missing_translations()
    assert problems == [], "run `make i18n` and translate:\n" + "\n".join(problems[:50])


def test_the_extraction_finds_the_texts_of_templates_and_handlers() -> None:
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in extract() if m.id}
    assert {"Sign in", "Sign out", "Skip to main content", "The email address or password is not right."} <= ids
    assert len(ids) > 300


def test_each_language_translates_the_sign_out_button() -> None:
    words = {lang: Translator(lang).gettext("Sign out") for lang in LANGUAGES}
    assert words["en"] == "Sign out" and words["fr"] == "Se déconnecter"
    assert len(set(words.values())) == len(LANGUAGES)  # no language left in English
