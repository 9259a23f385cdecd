"""The 2021 MoU conference's record, as the demo archives it: the minutes' text per agenda item
(Vietnamese and Lao side by side), the memorandum itself and its two signatories.

The wording is a faithful summary of what such a ceremony records, not a transcript; names of
people are placeholders, as everywhere in the demo.
"""

from __future__ import annotations

from typing import Any

#: Accounts for the two heads of delegation, who sign (placeholders, like every demo person).
SIGNATORIES: list[dict[str, Any]] = [
    {
        "email": "signatory.quangngai@concord.example",
        "name": "Delegate A. (placeholder)",
        "locale": "vi",
        "delegation": "Quang Ngai Provincial People's Committee",
        "member": "Delegate A. (placeholder)",
        "signed_at": "10:02",
    },
    {
        "email": "signatory.champasak@concord.example",
        "name": "Delegate C. (placeholder)",
        "locale": "lo",
        "delegation": "Champasak Province Administration",
        "member": "Delegate C. (placeholder)",
        "signed_at": "10:04",
    },
]

#: The memorandum as registered: one version per language, rendered to PDF by the demo.
MEMORANDUM: dict[str, Any] = {
    "title": "Memorandum of Understanding on cooperation between Quang Ngai province "
    "(Viet Nam) and Champasak province (Lao PDR), 2021–2025",
    "kind": "mou",
    "period": ("2021-10-29", "2025-12-31"),
    "versions": {
        "vi": (
            "Biên bản ghi nhớ hợp tác giữa tỉnh Quảng Ngãi (Việt Nam) và tỉnh Champasak "
            "(Lào), giai đoạn 2021–2025",
            [
                "Hai bên thống nhất tăng cường hợp tác trong các lĩnh vực kinh tế, thương mại, "
                "đầu tư, nông nghiệp, giáo dục – đào tạo, y tế, văn hóa và du lịch.",
                "Tỉnh Quảng Ngãi tiếp nhận sinh viên tỉnh Champasak sang học tập theo chương "
                "trình học bổng hằng năm.",
                "Hai bên trao đổi đoàn công tác và thông tin định kỳ; giao Sở Ngoại vụ tỉnh "
                "Quảng Ngãi và Văn phòng Ngoại vụ tỉnh Champasak làm đầu mối.",
                "Biên bản có hiệu lực kể từ ngày ký đến hết ngày 31 tháng 12 năm 2025.",
            ],
        ),
        "lo": (
            "ບົດບັນທຶກຄວາມເຂົ້າໃຈວ່າດ້ວຍການຮ່ວມມືລະຫວ່າງແຂວງກວາງງາຍ (ຫວຽດນາມ) ແລະ "
            "ແຂວງຈຳປາສັກ (ສປປ ລາວ), 2021–2025",
            [
                "ສອງຝ່າຍເຫັນດີເພີ່ມທະວີການຮ່ວມມືດ້ານເສດຖະກິດ, ການຄ້າ, ການລົງທຶນ, ກະສິກຳ, "
                "ການສຶກສາ, ສາທາລະນະສຸກ, ວັດທະນະທຳ ແລະ ການທ່ອງທ່ຽວ.",
                "ແຂວງກວາງງາຍຮັບນັກສຶກສາຈາກແຂວງຈຳປາສັກມາຮຽນຕາມທຶນການສຶກສາປະຈຳປີ.",
                "ສອງຝ່າຍແລກປ່ຽນຄະນະຜູ້ແທນ ແລະ ຂໍ້ມູນຂ່າວສານເປັນປົກກະຕິ.",
                "ບົດບັນທຶກນີ້ມີຜົນສັກສິດນັບແຕ່ວັນລົງນາມຈົນຮອດວັນທີ 31 ທັນວາ 2025.",
            ],
        ),
    },
}

#: The minutes, one entry per agenda session in order: title, discussion, decisions, actions.
MINUTES: list[dict[str, Any]] = [
    {
        "title": {"vi": "Khai mạc và giới thiệu các đoàn", "lo": "ພິທີເປີດ ແລະ ແນະນຳຄະນະຜູ້ແທນ"},
        "discussion": {
            "vi": "Ban tổ chức khai mạc hội nghị trực tuyến tại hai điểm cầu Quảng Ngãi và "
            "Champasak, giới thiệu thành phần hai đoàn.",
            "lo": "ຄະນະຈັດຕັ້ງໄຂກອງປະຊຸມທາງອອນລາຍຢູ່ສອງຈຸດເຊື່ອມຕໍ່ກວາງງາຍ ແລະ ຈຳປາສັກ, ແນະນຳຄະນະຜູ້ແທນທັງສອງຝ່າຍ.",
        },
    },
    {
        "title": {
            "vi": "Phát biểu của Chủ tịch UBND tỉnh Quảng Ngãi",
            "lo": "ຄຳປາໄສຂອງປະທານແຂວງກວາງງາຍ",
        },
        "discussion": {
            "vi": "Chủ tịch UBND tỉnh Quảng Ngãi điểm lại quan hệ hữu nghị truyền thống và đề "
            "xuất các lĩnh vực hợp tác ưu tiên giai đoạn 2021–2025.",
            "lo": "ປະທານຄະນະກຳມະການປະຊາຊົນແຂວງກວາງງາຍທົບທວນສາຍພົວພັນມິດຕະພາບ ແລະ "
            "ສະເໜີຂົງເຂດການຮ່ວມມືບູລິມະສິດ.",
        },
    },
    {
        "title": {"vi": "Phát biểu của Tỉnh trưởng tỉnh Champasak", "lo": "ຄຳປາໄສຂອງເຈົ້າແຂວງຈຳປາສັກ"},
        "discussion": {
            "vi": "Tỉnh trưởng tỉnh Champasak cảm ơn tỉnh Quảng Ngãi và nhất trí các lĩnh vực "
            "hợp tác đề xuất, nhấn mạnh giáo dục và y tế.",
            "lo": "ເຈົ້າແຂວງຈຳປາສັກຂອບໃຈແຂວງກວາງງາຍ ແລະ ເຫັນດີນຳຂົງເຂດການຮ່ວມມືທີ່ສະເໜີ, "
            "ເນັ້ນໜັກການສຶກສາ ແລະ ສາທາລະນະສຸກ.",
        },
    },
    {
        "title": {
            "vi": "Ký kết Biên bản ghi nhớ hợp tác giai đoạn 2021–2025",
            "lo": "ການລົງນາມບົດບັນທຶກຄວາມເຂົ້າໃຈວ່າດ້ວຍການຮ່ວມມື 2021–2025",
        },
        "discussion": {
            "vi": "Hai Trưởng đoàn ký Biên bản ghi nhớ hợp tác trực tuyến; chữ ký được ghi vào "
            "sổ cái của Concord.",
            "lo": "ຫົວໜ້າຄະນະຜູ້ແທນທັງສອງລົງນາມບົດບັນທຶກຄວາມເຂົ້າໃຈທາງອອນລາຍ.",
        },
        "decisions": [
            {
                "vi": "Ký kết Biên bản ghi nhớ hợp tác giai đoạn 2021–2025.",
                "lo": "ລົງນາມບົດບັນທຶກຄວາມເຂົ້າໃຈວ່າດ້ວຍການຮ່ວມມື 2021–2025.",
            }
        ],
        "actions": [
            {
                "what": {
                    "vi": "Xây dựng kế hoạch triển khai Biên bản ghi nhớ năm 2022.",
                    "lo": "ສ້າງແຜນການຈັດຕັ້ງປະຕິບັດບົດບັນທຶກຄວາມເຂົ້າໃຈປີ 2022.",
                },
                "owner": "Department of Foreign Affairs, Quang Ngai",
                "due": "2021-12-31",
            }
        ],
    },
    {
        "title": {"vi": "Bế mạc", "lo": "ພິທີປິດ"},
        "discussion": {
            "vi": "Hai bên phát biểu bế mạc, hẹn gặp trực tiếp khi tình hình dịch bệnh cho phép.",
            "lo": "ສອງຝ່າຍກ່າວປິດກອງປະຊຸມ ແລະ ນັດພົບກັນໂດຍກົງເມື່ອສະຖານະການອຳນວຍ.",
        },
    },
]

#: The room's log of 29 October 2021 (local time, Quang Ngai), from which the minutes take
#: attendance and the floor: (time, event, site name). Both halls joined before the opening,
#: Champasak's link dropped for 40 s during the Governor's address (bridged: not a departure),
#: each head of delegation spoke from their hall, and both stayed through the signing.
ROOM_DAY: list[tuple[str, str, str | None]] = [
    ("08:48:10", "site.connected", "Quang Ngai hall"),
    ("08:51:30", "site.connected", "Champasak hall"),
    ("09:15:05", "floor.granted", "Quang Ngai hall"),
    ("09:34:50", "floor.released", "Quang Ngai hall"),
    ("09:35:10", "floor.granted", "Champasak hall"),
    ("09:41:02", "site.reconnecting", "Champasak hall"),
    ("09:41:42", "site.connected", "Champasak hall"),
    ("09:54:40", "floor.released", "Champasak hall"),
    ("10:31:20", "site.left", "Champasak hall"),
    ("10:31:45", "site.left", "Quang Ngai hall"),
    ("10:32:00", "room.ended", None),
]
