"""The minutes exported as HTML and PDF, bilingual side by side: the PDF is rendered to PNG
with pdftoppm (it must show something) and its text read back with pdftotext."""

from __future__ import annotations

import asyncio
import copy
import subprocess
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.minutes.conftest import API, MOU, Client

VI = "Hai tỉnh thống nhất hợp tác giáo dục"
LO = "ສອງແຂວງຕົກລົງຮ່ວມມືດ້ານການສຶກສາ"


def letters(text: str) -> str:
    """The text without spaces and combining marks."""
    return "".join(c for c in text if not c.isspace() and unicodedata.category(c) != "Mn")


def inspect(pdf: Path, out: Path) -> tuple[float, str, str]:
    """The first page rendered by pdftoppm (the share of dark pixels), the text pdftotext
    reads, and the fonts pdffonts lists."""
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(out / "page")], check=True)
    pages = sorted(out.glob("page-*.png"))
    assert pages, "pdftoppm made no page"
    pixels = np.asarray(Image.open(pages[0]).convert("L"))
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    fonts = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True)
    return float((pixels < 128).mean()), text, fonts.stdout


async def written(people: Any) -> tuple[Any, Any]:
    secretary = await people("secretary@concord.example")
    status, made = await secretary.call("POST", API, {})
    assert status == 201
    document = copy.deepcopy(made["document"])
    item = document["items"][3]
    item["discussion"] = {"vi": VI, "lo": LO}
    item["decisions"] = [{"vi": "Ký biên bản ghi nhớ", "lo": "ລົງນາມບົດບັນທຶກ"}]
    item["actions"] = [
        {"what": {"vi": "Soạn kế hoạch", "lo": "ຮ່າງແຜນ"}, "owner": "Nguyễn An", "due": "2026-12-31"}
    ]
    status, saved = await secretary.call("PUT", API, {"base_revision": 1, "document": document})
    assert status == 200, saved
    return secretary, saved


async def test_html_export_shows_both_languages_side_by_side(client: Client, people: Any) -> None:
    secretary, _ = await written(people)
    response = await secretary.client.get(f"/conferences/{MOU}/minutes.html")
    assert response.status == 200
    html = await response.text()
    assert VI in html and LO in html
    assert '<td lang="vi">' + VI in html and '<td lang="lo">' + LO in html
    assert "Draft" in html or "Bản nháp" in html or "ຮ່າງ" in html
    assert "Phetsarath OT" in html and "DejaVu Sans" in html


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_pdf_export_renders_with_both_languages_and_the_final_hash(
    client: Client, people: Any, tmp_path: Path
) -> None:
    secretary, _ = await written(people)
    organiser = await people("organiser@concord.example")
    await secretary.call("POST", API + "/circulate", {})
    status, final = await organiser.call("POST", API + "/final", {})
    assert status == 200
    response = await secretary.client.get(f"/conferences/{MOU}/minutes.pdf")
    assert response.status == 200 and response.content_type == "application/pdf"
    pdf = tmp_path / "minutes.pdf"
    pdf.write_bytes(await response.read())

    dark, text, fonts = await asyncio.to_thread(inspect, pdf, tmp_path)
    assert 0.002 < dark < 0.5, f"the first page looks blank or black ({dark:.4f} dark)"
    squashed = "".join(text.split())
    assert "".join(VI.split()) in squashed
    # pdftotext may put a Lao tone mark after the following vowel ("ດາ້" for "ດ້າ"): compare
    # the letters in order, and find the marks present.
    assert letters(LO) in letters(text)
    assert "\u0ec9" in text and "\u0eb6" in text
    assert "Phetsarath" in fonts and "DejaVu" in fonts, fonts
    assert final["digest"] in squashed
