"""Folding: Vietnamese without diacritics, Lao intact."""

from __future__ import annotations

from server.search.folding import fold, words


def test_vietnamese_loses_its_diacritics_and_case() -> None:
    assert fold("Biên bản ghi nhớ HỢP TÁC") == "bien ban ghi nho hop tac"
    assert fold("Đà Nẵng  đường\n\tQuảng Ngãi") == "da nang duong quang ngai"


def test_lao_is_kept_as_written() -> None:
    assert fold("ໃກ້") != fold("ໃກ")
    assert fold("ແຂວງ ຈຳປາສັກ") == "ແຂວງ ຈຳປາສັກ"


def test_words_are_letters_digits_and_marks_only() -> None:
    assert words(fold('"hợp" tác* NEAR(a-b:c)')) == ["hop", "tac", "near", "a", "b", "c"]
    assert words(fold("ຈຳປາສັກ 2021")) == ["ຈຳປາສັກ", "2021"]
