"""A recording a restart divided into two parts, as the archive shows it: the list names each
file's part, the playback page plays one part at a time with its own timeline, each part's
files download from their own address, and a part that is not there is refused by name."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from server.config import Config
from server.db import Database
from server.ledger.operations import ledger_signer
from server.room_recording import operations
from tests.conftest import sign_in_english
from tests.room_recording.helpers import short_file


async def two_parts(demo: Database, config: Config) -> int:
    """Part 1 cut by a crash (read back), part 2 finished: the operations the service calls."""
    signer = ledger_signer(config.data_dir)
    started = dt.datetime(2026, 3, 4, 8, 0, tzinfo=dt.UTC)
    async with demo.session() as db, db.begin():
        row = await operations.begin(db, 1, "organiser@concord.example", started)
        recording_id, directory = row.id, row.directory
    for part, note in ((1, "before the restart"), (2, "after the restart")):
        where = config.data_dir / operations.part_directory(directory, part)
        where.mkdir(parents=True, exist_ok=True)
        for name in ("floor.webm", "lo.ogg"):
            short_file(where / name)
        began = started + dt.timedelta(minutes=10 * (part - 1))
        manifest = {
            "started_at": began.isoformat(),
            "duration": 1.0,
            "channels": ["floor", "lo"],
            "files": [{"name": "floor.webm", "starts_at": 0.0}],
            "marks": [{"at": 0.5, "kind": "note", "text": note}],
        }
        (where / "manifest.json").write_text(json.dumps(manifest))
        _, files = operations.read_back(where)
        async with demo.session() as db, db.begin():
            if part == 2:
                assert await operations.next_part(db, recording_id) is not None
            await operations.finish(
                db,
                signer,
                recording_id,
                files,
                manifest,
                part=part,
                status="resuming" if part == 1 else "finished",
                ended="interrupted" if part == 1 else "finished",
                stopped_at=began + dt.timedelta(seconds=1),
                stopped_by="restart" if part == 1 else "organiser@concord.example",
            )
    return recording_id


async def test_each_part_plays_and_downloads_on_its_own(
    client: TestClient[Any, Any], demo: Database, config: Config
) -> None:
    recording_id = await two_parts(demo, config)
    await sign_in_english(client, "secretary@concord.example")
    base = f"/conferences/1/recordings/{recording_id}"

    listing = await (await client.get("/conferences/1/recordings")).text()
    assert listing.count('data-part="1"') == 2 and listing.count('data-part="2"') == 2
    assert f'href="{base}/parts/2/files/floor?download=1"' in listing

    for part, note, other in ((1, "before", "after"), (2, "after", "before")):
        page = await client.get(base, params={} if part == 1 else {"part": str(part)})
        text = await page.text()
        assert page.status == 200, text
        assert "divided this recording into 2 parts" in text and 'aria-current="page"' in text
        player = json.loads(text.split('id="recording-player">')[1].split("</script>")[0])
        assert player["part"] == part
        assert [m["text"] for m in player["marks"]] == [f"{note} the restart"]
        assert f"{other} the restart" not in json.dumps(player["marks"])
        floor = f"{base}/files/floor" if part == 1 else f"{base}/parts/2/files/floor"
        assert f'src="{floor}"' in text
        assert ("stopped without warning" in text) == (part == 1)

        downloaded = await client.get(floor)
        on_disk = config.data_dir / operations.part_directory(f"recordings/1/{recording_id}", part)
        assert downloaded.status == 200
        body = await downloaded.read()
        assert (
            hashlib.sha256(body).hexdigest()
            == hashlib.sha256((on_disk / "floor.webm").read_bytes()).hexdigest()
        )

    api = await (await client.get("/api/conferences/1/recordings")).json()
    [out] = [r for r in api if r["id"] == recording_id]
    assert out["parts"] == 2 and sorted(f["part"] for f in out["files"]) == [1, 1, 2, 2]

    wrong = await client.get(base, params={"part": "3"})
    assert wrong.status == 400 and "from 1 to 2" in await wrong.text()
    wrong = await client.get(base, params={"part": "two"})
    assert wrong.status == 400
    gone = await client.get(f"{base}/parts/3/files/floor")
    assert gone.status == 404 and "has no part" in await gone.text()
    silent = await client.get(f"{base}/parts/2/files/vi")
    assert silent.status == 404 and "part 2 of recording" in await silent.text()


def test_a_part_lives_in_its_own_directory(tmp_path: Path) -> None:
    assert operations.part_directory("recordings/1/7", 1) == "recordings/1/7"
    assert operations.part_directory("recordings/1/7", 3) == "recordings/1/7/part-3"
    assert operations.ledger_ref(7, 1, "floor.webm") == "recording:7:floor"
    assert operations.ledger_ref(7, 3, "lo.ogg") == "recording:7:part-3:lo"
