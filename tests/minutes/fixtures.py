"""Bilingual minutes (Vietnamese and Lao) for the tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from server.minutes.document import ActionItem, ItemMinutes, Minutes

UTC = dt.UTC


def at(hour: int, minute: int, second: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, 28, hour, minute, second, tzinfo=UTC)


def minutes() -> Minutes:
    return Minutes(
        conference_id=7,
        languages=("vi", "lo"),
        items=(
            ItemMinutes(
                session_uid="s-opening@concord",
                session_id=1,
                title={"vi": "Khai mạc", "lo": "ພິທີເປີດ"},
                discussion={"vi": "Hai bên chào mừng.", "lo": "ສອງຝ່າຍຕ້ອນຮັບ."},
            ),
            ItemMinutes(
                session_uid="s-cooperation@concord",
                session_id=2,
                title={"vi": "Hợp tác", "lo": "ການຮ່ວມມື"},
                discussion={
                    "vi": "Thảo luận về hợp tác giáo dục.",
                    "lo": "ປຶກສາຫາລືກ່ຽວກັບການຮ່ວມມືດ້ານການສຶກສາ.",
                },
                decisions=(
                    {"vi": "Ký biên bản ghi nhớ.", "lo": "ລົງນາມບົດບັນທຶກຄວາມເຂົ້າໃຈ."},
                    {"vi": "Trao đổi sinh viên.", "lo": "ແລກປ່ຽນນັກສຶກສາ."},
                ),
                actions=(
                    ActionItem(
                        what={"vi": "Soạn thảo kế hoạch.", "lo": "ຮ່າງແຜນການ."},
                        owner="Nguyễn Văn An",
                        due="2026-12-31",
                    ),
                ),
            ),
        ),
    )


def with_item(m: Minutes, index: int, **changes: object) -> Minutes:
    """``m`` with agenda item ``index`` changed."""
    items = list(m.items)
    items[index] = replace(items[index], **changes)  # type: ignore[arg-type]
    return replace(m, items=tuple(items))
