"""Folding: Vietnamese without diacritics, Lao intact."""

from __future__ import annotations

from server.folding import fold, lao_inner_words, words
from server.search.queries import highlight


def test_vietnamese_loses_its_diacritics_and_case() -> None:
    assert fold("Biên bản ghi nhớ HỢP TÁC") == "bien ban ghi nho hop tac"
    assert fold("Đà Nẵng  đường\n\tQuảng Ngãi") == "da nang duong quang ngai"


def test_lao_is_kept_as_written() -> None:
    assert fold("ໃກ້") != fold("ໃກ")
    assert fold("ແຂວງ ຈຳປາສັກ") == "ແຂວງ ຈຳປາສັກ"


def test_words_are_letters_digits_and_marks_only() -> None:
    assert words(fold('"hợp" tác* NEAR(a-b:c)')) == ["hop", "tac", "near", "a", "b", "c"]
    assert words(fold("ຈຳປາສັກ 2021")) == ["ຈຳປາສັກ", "2021"]


def test_a_lao_run_can_be_searched_from_each_inner_syllable() -> None:
    tails = lao_inner_words(fold("ບົດບັນທຶກຄວາມເຂົ້າໃຈ hợp tác"))
    assert "ຄວາມເຂົ້າໃຈ" in tails and "ເຂົ້າໃຈ" in tails and "ໃຈ" in tails
    assert not any(t.startswith("ົ") or t.startswith("້") for t in tails)  # never at a mark
    assert not any(t.startswith("ຂົ້າ") for t in tails)  # nor after its leading vowel ເ
    assert all("hop" not in t for t in tails)  # Latin words are left alone
    assert lao_inner_words("ກ") == []


def test_highlight_marks_a_lao_run_found_inside() -> None:
    runs = highlight("ສອງຝ່າຍ ການຮ່ວມມືດ້ານກະສິກຳ", ["ກະສິກຳ"])
    assert runs == [("ສອງຝ່າຍ ", False), ("ການຮ່ວມມືດ້ານກະສິກຳ", True)]
