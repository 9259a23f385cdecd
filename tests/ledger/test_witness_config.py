"""``CONCORD_LEDGER_WITNESS``: where every signed head also goes, validated at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.config import ConfigError
from server.ledger import operations as ops
from server.settings import load_config


def test_the_witness_defaults_to_the_data_dir_and_can_be_moved(tmp_path: Path) -> None:
    config = load_config(environ={"CONCORD_DATA_DIR": str(tmp_path)})
    assert config.ledger_witness == tmp_path / "ledger" / "witness.jsonl"
    assert ops.ledger_signer(tmp_path).witness == config.ledger_witness
    elsewhere = tmp_path / "mnt" / "witness.jsonl"
    moved = load_config(
        environ={"CONCORD_DATA_DIR": str(tmp_path), "CONCORD_LEDGER_WITNESS": str(elsewhere)}
    )
    assert moved.ledger_witness == elsewhere
    assert ops.ledger_signer(tmp_path, moved.ledger_witness).witness == elsewhere


@pytest.mark.parametrize(
    ("witness", "message"),
    [
        (".", "is a directory"),
        ("concord.db", "is the database file"),
    ],
)
def test_a_bad_witness_path_is_named(tmp_path: Path, witness: str, message: str) -> None:
    (tmp_path / "concord.db").touch()
    with pytest.raises(ConfigError) as raised:
        load_config(
            environ={
                "CONCORD_DATA_DIR": str(tmp_path),
                "CONCORD_LEDGER_WITNESS": str(tmp_path / witness),
            }
        )
    assert any("ledger witness" in p and message in p for p in raised.value.problems)
