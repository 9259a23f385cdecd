"""The demo's content. Positions are real; people's names are placeholders."""

from __future__ import annotations

from typing import Any

VN, LA = "Asia/Ho_Chi_Minh", "Asia/Vientiane"

USERS: list[dict[str, Any]] = [
    {
        "email": "admin@concord.example",
        "name": "Concord Administrator",
        "roles": ["admin"],
        "locale": "en",
    },
    {
        "email": "organiser@concord.example",
        "name": "Phòng Hợp tác quốc tế (DOFA Quảng Ngãi)",
        "roles": ["organiser"],
        "locale": "vi",
    },
    {
        "email": "approver@concord.example",
        "name": "Văn phòng UBND tỉnh",
        "roles": ["approver"],
        "locale": "vi",
    },
    {
        "email": "technician@concord.example",
        "name": "Kỹ thuật viên Trung tâm CNTT",
        "roles": ["technician"],
        "locale": "vi",
    },
    {
        "email": "interpreter.lo@concord.example",
        "name": "Phiên dịch viên tiếng Lào",
        "roles": ["interpreter"],
        "locale": "lo",
    },
    {
        "email": "interpreter.lo2@concord.example",
        "name": "Phiên dịch viên tiếng Lào (ca 2)",
        "roles": ["interpreter"],
        "locale": "lo",
    },
    {
        "email": "interpreter.vi@concord.example",
        "name": "Phiên dịch viên tiếng Việt",
        "roles": ["interpreter"],
        "locale": "vi",
    },
    {
        "email": "interpreter.en@concord.example",
        "name": "English booth interpreter",
        "roles": ["interpreter"],
        "locale": "en",
    },
    {
        "email": "interpreter.vsl@concord.example",
        "name": "Phiên dịch viên ngôn ngữ ký hiệu",
        "roles": ["interpreter"],
        "locale": "vi",
    },
    {
        "email": "secretary@concord.example",
        "name": "Thư ký hội nghị",
        "roles": ["secretary"],
        "locale": "vi",
    },
    {
        "email": "delegate@concord.example",
        "name": "World Vision Viet Nam representative",
        "roles": ["delegate"],
        "locale": "en",
    },
]

MOU: dict[str, Any] = {
    "slug": "quang-ngai-champasak-mou-2021",
    "title": "Signing of the cooperation MoU between Quang Ngai province (Viet Nam) and "
    "Champasak province (Lao PDR), 2021–2025",
    "description": "Online international conference: the first online signing of an "
    "international agreement by Quang Ngai province, held because the planned visit to "
    "Champasak could not take place during the Covid-19 pandemic.",
    "translations": {
        "vi": {
            "title": "Lễ ký kết Biên bản ghi nhớ hợp tác giữa tỉnh Quảng Ngãi (Việt Nam) và "
            "tỉnh Champasak (Lào), giai đoạn 2021–2025"
        },
        "lo": {
            "title": "ພິທີລົງນາມບົດບັນທຶກຄວາມເຂົ້າໃຈວ່າດ້ວຍການຮ່ວມມືລະຫວ່າງແຂວງກວາງງາຍ "
            "(ຫວຽດນາມ) ແລະ ແຂວງຈຳປາສັກ (ສປປ ລາວ), 2021–2025"
        },
    },
    "kind": "online",
    "status": "ended",
    "time_zone": VN,
    "date": "2021-10-29",
    "languages": [("vi", True, True), ("lo", True, True)],
    "sessions": [
        ("09:00", "09:15", "Opening and introduction of the delegations", []),
        (
            "09:15",
            "09:35",
            "Address by the Chairman of Quang Ngai Provincial People's Committee",
            ["Chairman, Quang Ngai Provincial People's Committee"],
        ),
        (
            "09:35",
            "09:55",
            "Address by the Governor of Champasak province",
            ["Governor of Champasak province"],
        ),
        (
            "09:55",
            "10:15",
            "Signing of the Memorandum of Understanding on cooperation 2021–2025",
            [
                "Chairman, Quang Ngai Provincial People's Committee",
                "Governor of Champasak province",
            ],
        ),
        ("10:15", "10:30", "Closing remarks", []),
    ],
    "sites": [
        {
            "name": "Quang Ngai hall",
            "location": "Provincial People's Committee, Quang Ngai City",
            "time_zone": VN,
            "main": True,
            "contact": "Department of Foreign Affairs",
        },
        {
            "name": "Champasak hall",
            "location": "Provincial Administration Office, Pakse",
            "time_zone": LA,
            "main": False,
            "contact": "Champasak Foreign Affairs Office",
        },
    ],
    "delegations": [
        {
            "country": "VN",
            "organisation": "Quang Ngai Provincial People's Committee",
            "host": True,
            "site": "Quang Ngai hall",
            "members": [
                (
                    "Delegate A. (placeholder)",
                    "Chairman of the Provincial People's Committee",
                    "head",
                    "vi",
                ),
                (
                    "Delegate B. (placeholder)",
                    "Director, Department of Foreign Affairs",
                    "member",
                    "vi",
                ),
            ],
        },
        {
            "country": "LA",
            "organisation": "Champasak Province Administration",
            "host": False,
            "site": "Champasak hall",
            "members": [
                ("Delegate C. (placeholder)", "Governor of Champasak province", "head", "lo"),
                ("Delegate D. (placeholder)", "Head, Foreign Affairs Office", "member", "lo"),
            ],
        },
    ],
    "interpreters": [
        ("interpreter.lo@concord.example", "Phiên dịch viên tiếng Lào", "lo", ["vi"]),
        ("interpreter.lo2@concord.example", "Phiên dịch viên tiếng Lào (ca 2)", "lo", ["vi"]),
        ("interpreter.vi@concord.example", "Phiên dịch viên tiếng Việt", "vi", ["lo"]),
    ],
    "members": [
        ("technician@concord.example", "technician"),
        ("secretary@concord.example", "secretary"),
    ],
}

DISTRICTS = [
    "Quang Ngai City",
    "Duc Pho town",
    "Binh Son",
    "Son Tinh",
    "Tu Nghia",
    "Nghia Hanh",
    "Mo Duc",
    "Ba To",
    "Minh Long",
    "Son Ha",
    "Son Tay",
    "Tra Bong",
    "Ly Son",
]
DEPARTMENTS = [
    "Department of Planning and Investment",
    "Department of Health",
    "Department of Education and Training",
    "Department of Labour, Invalids and Social Affairs",
    "Department of Agriculture and Rural Development",
    "Provincial Women's Union",
    "Provincial Red Cross",
    "Dung Quat Economic Zone and Industrial Parks Authority",
]
NATIONAL = [
    ("Hanoi: Vietnam Union of Friendship Organizations", "Hanoi"),
    ("Hanoi: Ministry of Foreign Affairs", "Hanoi"),
    ("Ho Chi Minh City: NGO liaison office", "Ho Chi Minh City"),
]

AID_SIGNINGS = [
    (
        "World Vision Viet Nam",
        "additional funding framework for the Minh Long district area programme 2017–2022",
    ),
    (
        "OneSky",
        "project supporting care and education of preschool children in the province's "
        "industrial zones",
    ),
    (
        "Children of Vietnam (COV)",
        "programme of nutritious rice for preschools in the mountain districts",
    ),
]

AID: dict[str, Any] = {
    "slug": "quang-ngai-foreign-aid-review-2021",
    "title": "International conference reviewing foreign aid to Quang Ngai 2015–2020 and "
    "promoting aid for 2021–2025",
    "description": "Hybrid conference: the main hall in Quang Ngai and 24 domestic bridge points. "
    "Three aid agreements worth 25 billion VND in total are signed on the day.",
    "translations": {
        "vi": {
            "title": "Hội nghị quốc tế tổng kết công tác viện trợ nước ngoài vào tỉnh Quảng Ngãi "
            "giai đoạn 2015–2020 và xúc tiến viện trợ nước ngoài giai đoạn 2021–2025"
        },
    },
    "kind": "hybrid",
    "status": "scheduled",
    "time_zone": VN,
    "date": "2021-12-10",
    "languages": [("vi", True, True), ("en", True, True)],
    # Vietnamese Sign Language (ISO 639-3 vsl) for the domestic bridge points: a booth whose
    # interpreter is on camera, recorded as a picture of its own.
    "sign_languages": ["vsl"],
    "sessions": [
        ("08:00", "08:20", "Opening; introduction of delegates and bridge points", []),
        (
            "08:20",
            "09:00",
            "Report: foreign non-governmental aid to Quang Ngai 2015–2020",
            ["Director, Department of Foreign Affairs"],
        ),
        ("09:00", "09:45", "Contributions of the aid organisations and the districts", []),
        ("09:45", "10:00", "Break", []),
        *[
            (start, end, f"Signing of the aid agreement with {org}: {what}", [org])
            for (start, end), (org, what) in zip(
                [("10:00", "10:15"), ("10:15", "10:30"), ("10:30", "10:45")],
                AID_SIGNINGS,
                strict=True,
            )
        ],
        ("10:45", "11:30", "Promoting foreign aid 2021–2025; closing", []),
    ],
    "sites": [
        {
            "name": "Main hall",
            "location": "Provincial Conference Centre, Quang Ngai City",
            "time_zone": VN,
            "main": True,
            "contact": "Department of Foreign Affairs",
        },
        *[
            {
                "name": f"{d} People's Committee",
                "location": f"{d}, Quang Ngai",
                "time_zone": VN,
                "main": False,
                "contact": "Office of the People's Committee",
            }
            for d in DISTRICTS
        ],
        *[
            {
                "name": d,
                "location": "Quang Ngai City",
                "time_zone": VN,
                "main": False,
                "contact": "Office",
            }
            for d in DEPARTMENTS
        ],
        *[
            {"name": name, "location": city, "time_zone": VN, "main": False, "contact": "Office"}
            for name, city in NATIONAL
        ],
    ],
    "delegations": [
        {
            "country": "VN",
            "organisation": "Quang Ngai Provincial People's Committee",
            "host": True,
            "site": "Main hall",
            "members": [
                (
                    "Delegate A. (placeholder)",
                    "Chairman of the Provincial People's Committee",
                    "head",
                    "vi",
                )
            ],
        },
        *[
            {
                "country": "VN",
                "organisation": org,
                "host": False,
                "site": "Main hall",
                "members": [
                    ("Representative (placeholder)", f"Country representative, {org}", "head", "en")
                ],
            }
            for org, _ in AID_SIGNINGS
        ],
    ],
    "interpreters": [
        ("interpreter.en@concord.example", "English booth interpreter", "en", ["vi"]),
        ("interpreter.vsl@concord.example", "Phiên dịch viên ngôn ngữ ký hiệu", "vsl", ["vi"]),
    ],
    "members": [
        ("technician@concord.example", "technician"),
        ("secretary@concord.example", "secretary"),
        ("delegate@concord.example", "delegate"),
    ],
}

CONFERENCES = [MOU, AID]


def demo_password(email: str) -> str:
    """Demo passwords are public by design: ``concord-<local part>``."""
    return "concord-" + email.split("@")[0]
