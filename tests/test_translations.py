"""The Vietnamese and Lao UI catalogues are complete and consistent with the source.

Messages are extracted from ``server/`` exactly as ``scripts/update-translations`` does (the
mapping in ``babel.cfg``, the default keywords plus ``N_``), so adding a ``_('...')`` to a
template or an ``N_('...')`` to ``server/i18n_strings.py`` without translating it fails here.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from server.i18n import DEFAULT_LOCALE, LOCALES, TRANSLATIONS_DIR, Catalogues
from tests.conftest import sign_in

ROOT = Path(__file__).resolve().parents[1]
SOURCE_DIR = ROOT / "server"
MAPPING = ROOT / "babel.cfg"
TEMPLATE = TRANSLATIONS_DIR / "messages.pot"
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None}
TRANSLATED = [locale for locale in LOCALES if locale != DEFAULT_LOCALE]
UPDATE_HINT = "run scripts/update-translations, then translate the new entries"

# A Python %-format placeholder: %(name)s, %(count)d, %(ratio).1f, ...
PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")


def extract_messages(
    source_dir: Path = SOURCE_DIR,
) -> dict[tuple[str | None, str], list[str]]:
    """(message context, msgid) -> ["path:line", ...] for every translatable string under
    ``source_dir`` (the context is None but for ``pgettext``, docs/glossary.md)."""
    with MAPPING.open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle, str(MAPPING))
    found: dict[tuple[str | None, str], list[str]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(source_dir), method_map, options_map, keywords=KEYWORDS
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        found.setdefault((context, msgid), []).append(f"{source_dir.name}/{filename}:{lineno}")
    return found


@cache
def contexts() -> dict[tuple[str | None, str], list[str]]:
    return extract_messages()


@cache
def extracted() -> dict[str, list[str]]:
    """msgid -> where, for the strings without a message context."""
    return {msgid: where for (context, msgid), where in contexts().items() if context is None}


def load_catalogue(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def catalogue_path(locale: str) -> Path:
    return TRANSLATIONS_DIR / locale / "LC_MESSAGES" / "messages.po"


def placeholders(text: str) -> Counter[str]:
    return Counter(match.group(0) for match in PLACEHOLDER.finditer(text))


def test_extraction_finds_template_and_marked_strings() -> None:
    messages = extracted()
    # One literal _() from a template, one N_() from server/i18n_strings.py, one with a param.
    assert "Sign in" in messages
    assert "awaiting approval" in messages
    assert "%(count)s sites" in messages
    assert len(messages) > 50


def test_template_lists_every_extracted_string() -> None:
    template = load_catalogue(TEMPLATE)
    missing = sorted(
        f"{context}: {msgid}" if context else msgid
        for context, msgid in contexts()
        if template.get(msgid, context=context) is None
    )
    assert not missing, f"{TEMPLATE.name} is out of date ({UPDATE_HINT}): {missing}"


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_string_is_translated(locale: str) -> None:
    catalogue = load_catalogue(catalogue_path(locale), locale)
    missing = []
    for (context, msgid), where in sorted(contexts().items(), key=lambda kv: str(kv[0])):
        message = catalogue.get(msgid, context=context)
        if message is None or not message.string or message.fuzzy:
            state = "absent" if message is None else "fuzzy" if message.fuzzy else "empty"
            said = f"{msgid!r} in {context!r}" if context else repr(msgid)
            missing.append(f"  {said} ({state}; {', '.join(where)})")
    assert not missing, (
        f"{len(missing)} UI string(s) without a {locale} translation ({UPDATE_HINT}):\n"
        + "\n".join(missing)
    )


@pytest.mark.parametrize("locale", TRANSLATED)
def test_catalogue_header_and_flags(locale: str) -> None:
    catalogue = load_catalogue(catalogue_path(locale), locale)
    assert str(catalogue.locale) == locale
    assert catalogue.charset.lower() == "utf-8"
    assert not catalogue.fuzzy, "the header is marked fuzzy"
    assert "EMAIL@ADDRESS" not in catalogue.last_translator
    fuzzy = [message.id for message in catalogue if message.id and message.fuzzy]
    assert not fuzzy, f"fuzzy entries are ignored at run time; check and unflag: {fuzzy}"


@pytest.mark.parametrize("locale", TRANSLATED)
def test_placeholders_match(locale: str) -> None:
    catalogue = load_catalogue(catalogue_path(locale), locale)
    wrong = []
    for message in catalogue:
        if not message.id or not message.string:
            continue
        msgid, msgstr = message.id, message.string
        assert isinstance(msgid, str) and isinstance(msgstr, str), "no plural forms are used"
        if placeholders(msgid) != placeholders(msgstr):
            wrong.append(f"  {msgid!r} -> {msgstr!r}")
            continue
        # Templates apply the parameters with %, so a translation must format cleanly too.
        names = {name: "x" for name in PLACEHOLDER.findall(msgid)}
        if names:
            try:
                msgstr % names
            except (KeyError, ValueError, TypeError) as exc:
                wrong.append(f"  {msgid!r} -> {msgstr!r}: {exc}")
    assert not wrong, f"{locale} translations whose %(name)s placeholders differ:\n" + "\n".join(
        wrong
    )


def test_placeholder_check_catches_a_mismatch() -> None:
    assert placeholders("Created %(email)s.") == placeholders("Đã tạo %(email)s.")
    assert placeholders("%(count)s sites") != placeholders("%(số)s điểm cầu")
    assert placeholders("%(count)s sites") != placeholders("điểm cầu")


def test_strings_translated_at_run_time_are_extracted() -> None:
    """Values that reach _() only at run time must be marked in server/i18n_strings.py."""
    import server.app  # noqa: F401  (registers every DomainError subclass)
    from server.errors import DomainError
    from server.identity import Identity
    from server.models import ConferenceKind, ConferenceStatus, Role
    from server.templating import navigation

    def subclasses(cls: type[DomainError]) -> list[type[DomainError]]:
        return [cls] + [sub for child in cls.__subclasses__() for sub in subclasses(child)]

    admin = Identity(via="cookie", user_id=1, roles=frozenset({Role.ADMIN}))
    dynamic = {
        *(label for _path, label in navigation(admin)),
        *(error.title for error in subclasses(DomainError)),
        "Internal error",  # set by server.middleware for unhandled exceptions
        *(role.value for role in Role),
        *(status.value.replace("_", " ") for status in ConferenceStatus),
        *(kind.value for kind in ConferenceKind),
    }
    missing = sorted(dynamic - extracted().keys())
    assert not missing, f"add these to server/i18n_strings.py with N_(): {missing}"


def test_catalogues_translate_and_fall_back_to_english() -> None:
    catalogues = Catalogues()
    assert catalogues.get("vi").gettext("Sign in") == "Đăng nhập"
    assert catalogues.get("lo").gettext("Sign in") == "ເຂົ້າສູ່ລະບົບ"
    assert catalogues.get("vi").gettext("Conferences") == "Hội nghị"
    assert catalogues.get("lo").gettext("awaiting approval") == "ລໍຖ້າການອະນຸມັດ"
    assert catalogues.get("vi").gettext("%(count)s sites") % {"count": 3} == "3 điểm cầu"
    for fallback in ("xx", "fr", None, "en"):
        assert catalogues.get(fallback).gettext("Sign in") == "Sign in"
    assert catalogues.get("vi").gettext("A string nobody has translated") == (
        "A string nobody has translated"
    )


def test_one_english_word_in_two_places_is_translated_for_each() -> None:
    """Message contexts (docs/glossary.md): removing a row of the editor is not sending a site
    out of the room, and a conference's format is not an agreement's kind."""
    vi, lo = Catalogues().get("vi"), Catalogues().get("lo")
    assert vi.pgettext("editor row", "Remove") == "Xóa"
    assert vi.pgettext("room", "Remove") == "Mời ra"
    assert lo.pgettext("editor row", "Remove") != lo.pgettext("room", "Remove")
    assert vi.pgettext("interpreting", "From") != vi.pgettext("date range", "From")
    kinds = {vi.pgettext(c, "Kind") for c in ("conference format", "agreement", "search result")}
    assert len(kinds) == 3
    assert Catalogues().get("en").pgettext("room", "Remove") == "Remove"


async def test_the_editor_s_rows_are_deleted_and_the_room_s_sites_sent_out(
    client: TestClient[Any, Any],
) -> None:
    await sign_in(client, "organiser@concord.example")  # reads Vietnamese
    editor = await (await client.get("/conferences/2/edit?step=sites")).text()  # scheduled
    assert ">Xóa<" in editor and ">Mời ra<" not in editor
    console = await (await client.get("/conferences/1/console")).text()
    said = json.dumps({"Remove": "Mời ra"})[1:-1]  # as the page's strings are written
    assert said in console or '"Remove": "Mời ra"' in console
