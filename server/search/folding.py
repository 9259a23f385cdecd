"""Folding text for search: Vietnamese without diacritics, Lao left intact.

``fold`` decomposes (NFD), drops the combining marks of every script except Lao, maps
đ/Đ to d, lowercases and collapses whitespace, so that "hop tac" matches "hợp tác".

Lao is kept as written: its vowel signs and tone marks are combining characters too, but
dropping them would merge distinct words (ໃກ້ "near" and ໃກ "far" differ only by a tone
mark), and Lao has no case. Only Latin (and other non-Lao) text is folded.
"""

from __future__ import annotations

import unicodedata

LAO_FIRST, LAO_LAST = 0x0E80, 0x0EFF
_SPECIAL = {"đ": "d", "Đ": "d", "ð": "d", "Ð": "d", "ø": "o", "Ø": "o", "ł": "l", "Ł": "l"}


def _is_lao(ch: str) -> bool:
    return LAO_FIRST <= ord(ch) <= LAO_LAST


def fold_char(ch: str) -> str:
    """One character folded (may be empty or several characters); no whitespace handling."""
    out = []
    for part in unicodedata.normalize("NFD", _SPECIAL.get(ch, ch)):
        if unicodedata.category(part) == "Mn" and not _is_lao(part):
            continue
        out.append(_SPECIAL.get(part, part))
    return "".join(out).lower()


def fold(text: str) -> str:
    """``text`` folded for search (see the module's docstring)."""
    folded = "".join(fold_char(ch) for ch in unicodedata.normalize("NFC", text))
    return " ".join(unicodedata.normalize("NFC", folded).split())


def is_word_char(ch: str) -> bool:
    """Letters, digits and combining marks (Lao vowels and tones) make words."""
    return ch.isalnum() or unicodedata.category(ch).startswith("M")


def words(text: str) -> list[str]:
    """The words of already folded ``text``: runs of word characters, nothing else."""
    found: list[str] = []
    current: list[str] = []
    for ch in text:
        if is_word_char(ch):
            current.append(ch)
        elif current:
            found.append("".join(current))
            current = []
    if current:
        found.append("".join(current))
    return found
