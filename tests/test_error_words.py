"""Refusals on pages name the field in words and say what to do, in the reader's language;
no codes, field names or HTTP statuses (issue 17)."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from pydantic import BaseModel, Field, ValidationError

from server.conferences.timing import field_error
from server.error_words import describe, explain, field_label
from server.errors import InvalidInput, NotFound
from server.i18n import Catalogues
from server.web import validation_errors
from tests.conftest import csrf_of_page, sign_in

Client = TestClient[Any, Any]
CATALOGUES = Catalogues()
VI = CATALOGUES.get("vi").gettext
EN = CATALOGUES.get("en").gettext


class _Form(BaseModel):
    title: str = Field(min_length=1)
    valid_hours: int = Field(ge=1)
    funding_amount: float


def _refused(data: dict[str, Any]) -> InvalidInput:
    try:
        _Form.model_validate(data)
    except ValidationError as exc:
        return InvalidInput("the form is invalid", errors=validation_errors(exc))
    raise AssertionError("accepted")


def test_pydantic_refusals_are_said_in_words() -> None:
    error = _refused({"title": "", "valid_hours": 0, "funding_amount": "lots"})
    assert explain(error, EN) == (
        "Title: this must not be empty; Valid for (hours): give 1 or more; Amount: write a number"
    )
    said = explain(error, VI)
    assert "Tiêu đề: không được để trống" in said and "hãy nhập một số" in said
    assert "title" not in said and "String should" not in said
    missing = _refused({"valid_hours": 2, "funding_amount": 1})
    assert explain(missing, EN) == "Title: this is required"


def test_an_operations_refusal_is_translated_and_its_field_named() -> None:
    error = field_error("ends_at", "the conference must end after it starts", "end_before_start")
    assert explain(error, VI) == "Kết thúc: hội nghị phải kết thúc sau khi bắt đầu"
    assert explain(NotFound("wrong e-mail or password"), VI) == "sai địa chỉ e-mail hoặc mật khẩu"


def test_rows_and_unknown_fields() -> None:
    assert field_label("members.1.role", EN) == "Role (row 2)"
    assert field_label("members.0.role", VI) == "Vai trò (dòng 1)"
    assert field_label("odd_thing", EN) == "odd thing"
    assert field_label("languages.²", EN) == "²"  # a superscript is not a row (the fuzzer sent one)
    assert describe({"type": "string_too_short", "ctx": {"min_length": 3}}, EN) == (
        "write at least 3 characters"
    )


async def test_a_refused_conference_says_it_in_vietnamese(client: Client) -> None:
    await sign_in(client, "organiser@concord.example")  # reads Vietnamese
    csrf = await csrf_of_page(client, "/conferences/new")
    form = {
        "csrf_token": csrf,
        "title": "",
        "kind": "online",
        "time_zone": "Asia/Ho_Chi_Minh",
        "starts_at": "2027-10-20T10:00",
        "ends_at": "2027-10-20T09:00",
    }
    refused = await client.post("/conferences/new", data=form)
    html = await refused.text()
    assert refused.status == 422
    alert = html[html.index('id="conference-problem"') :].split("</div>")[0]
    assert "Chưa lưu" in alert and "Tiêu đề: không được để trống" in alert, alert
    assert "title:" not in alert and "String should" not in alert and "422" not in alert


async def test_the_error_page_shows_no_code_or_status(client: Client) -> None:
    await sign_in(client, "organiser@concord.example")
    page = await client.get("/conferences/999999")
    html = await page.text()
    assert page.status in (403, 404)
    main = html[html.index("<main>") :]
    assert "HTTP" not in main and "conference_not_found" not in main.split('data-code="')[0]
