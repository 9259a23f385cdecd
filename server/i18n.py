"""UI translations: gettext catalogues (Babel) for English, Vietnamese and Lao.

The ``.po`` files under ``translations/`` are the source of truth and are compiled in memory at
start-up, so no generated ``.mo`` file is kept in the repository or needs a build step.
English is the source language and the fallback for any string not yet translated.
"""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES = ("en", "vi", "lo")
DEFAULT_LOCALE = "en"
LOCALE_NAMES = {"en": "English", "vi": "Tiếng Việt", "lo": "ພາສາລາວ"}
TRANSLATIONS_DIR = Path(__file__).parent / "translations"


class Catalogues:
    def __init__(self, directory: Path = TRANSLATIONS_DIR) -> None:
        self._by_locale: dict[str, NullTranslations] = {DEFAULT_LOCALE: NullTranslations()}
        for locale in LOCALES:
            po = directory / locale / "LC_MESSAGES" / "messages.po"
            if locale == DEFAULT_LOCALE or not po.exists():
                continue
            with po.open("rb") as handle:
                catalog = read_po(handle, locale=locale)
            buffer = io.BytesIO()
            write_mo(buffer, catalog, use_fuzzy=False)
            buffer.seek(0)
            self._by_locale[locale] = Translations(buffer)

    def get(self, locale: str | None) -> NullTranslations:
        return self._by_locale.get(locale or DEFAULT_LOCALE, self._by_locale[DEFAULT_LOCALE])


def negotiate(preferred: str | None, accept_language: str) -> str:
    """The user's chosen language, else the best match of Accept-Language, else English."""
    if preferred in LOCALES:
        return preferred
    weighted: list[tuple[float, str]] = []
    for part in accept_language.split(","):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        weighted.append((quality, tag.strip().lower().split("-")[0]))
    for _, tag in sorted(weighted, key=lambda item: -item[0]):
        if tag in LOCALES:
            return tag
    return DEFAULT_LOCALE
