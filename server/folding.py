"""Folding text for matching what people type: Vietnamese without diacritics, Lao left intact
(the search index and the time-zone pickers use it).

``fold`` decomposes (NFD), drops the combining marks of every script except Lao, maps
đ/Đ to d, lowercases and collapses whitespace, so that "hop tac" matches "hợp tác".

Lao is kept as written: its vowel signs and tone marks are combining characters too, but
dropping them would merge distinct words (ໃກ້ "near" and ໃກ "far" differ only by a tone
mark), and Lao has no case. Only Latin (and other non-Lao) text is folded.

Lao is written without spaces between words, so a run of Lao letters is a phrase, and a
search by word prefix would find only the phrase's first word ("ການຄ້າ", trade, inside
"ຂໍ້ຕົກລົງການຄ້າ"). ``lao_inner_words`` gives each Lao run's tails from every syllable
start after the first (a leading vowel, or a consonant not after one); the index adds
them to a document's searchable words, so a Lao term is found wherever a syllable of a run
begins. Without a dictionary, some tails start at a final consonant too (ນ in ການ): harmless,
they only add places a search can begin.
"""

from __future__ import annotations

import unicodedata

LAO_FIRST, LAO_LAST = 0x0E80, 0x0EFF
LAO_LEADING_VOWELS = "\u0ec0\u0ec1\u0ec2\u0ec3\u0ec4"  # ເ ແ ໂ ໃ ໄ: written before the consonant
LAO_CONSONANTS = frozenset(
    [chr(c) for c in range(0x0E81, 0x0EAF)] + ["\u0edc", "\u0edd", "\u0ede", "\u0edf"]
)
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


def _syllable_starts(run: str) -> list[int]:
    """Where syllables may begin inside a run of Lao letters (not at 0)."""
    starts = []
    for i in range(1, len(run)):
        ch = run[i]
        if ch in LAO_LEADING_VOWELS or (
            ch in LAO_CONSONANTS and run[i - 1] not in LAO_LEADING_VOWELS
        ):
            starts.append(i)
    return starts


def lao_inner_words(folded: str) -> list[str]:
    """The tails of each Lao word of ``folded`` from its inner syllable starts (see above)."""
    tails: list[str] = []
    for word in words(folded):
        if any(_is_lao(ch) for ch in word):
            tails.extend(word[i:] for i in _syllable_starts(word))
    return tails
