"""Export then verify: passes untouched; fails after any single edited, deleted, inserted or swapped event."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

from tests.people import Api
from workroom.rooms.record import verify_export


async def _export(api: Api) -> dict[str, Any]:
    room = await api.room(team=True)
    for i in range(5):
        await api.post(room, room["client" if i % 2 else "freelancer"], f"message {i}")
    document = await api.ok("GET", f"/api/rooms/{room.id}/export", room["team"])
    assert document["chain"]["algorithm"] == "sha256"
    assert [e["seq"] for e in document["events"]] == list(range(1, 8))
    return document  # type: ignore[no-any-return]


def _edit(doc: dict[str, Any]) -> None:
    doc["events"][3]["data"]["body"] = "I never agreed to that"


def _edit_actor(doc: dict[str, Any]) -> None:
    doc["events"][2]["actor"]["role"] = "client"


def _delete(doc: dict[str, Any]) -> None:
    del doc["events"][4]


def _delete_last(doc: dict[str, Any]) -> None:
    doc["events"].pop()


def _insert(doc: dict[str, Any]) -> None:
    forged = copy.deepcopy(doc["events"][3])
    forged["data"]["body"] = "forged"
    doc["events"].insert(4, forged)


def _swap(doc: dict[str, Any]) -> None:
    doc["events"][3], doc["events"][4] = doc["events"][4], doc["events"][3]


def _swap_and_renumber(doc: dict[str, Any]) -> None:
    _swap(doc)
    doc["events"][3]["seq"], doc["events"][4]["seq"] = 4, 5


@pytest.mark.parametrize("tamper", [_edit, _edit_actor, _delete, _delete_last, _insert, _swap, _swap_and_renumber])
async def test_verify_detects_tampering(api: Api, tamper: Callable[[dict[str, Any]], None]) -> None:
    document = await _export(api)
    assert verify_export(document) == []
    tampered = copy.deepcopy(document)
    tamper(tampered)
    assert verify_export(tampered), f"{tamper.__name__} went unnoticed"


async def test_workroom_verify_command(api: Api, tmp_path: Path) -> None:
    document = await _export(api)
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps(document))
    _edit(document)
    bad.write_text(json.dumps(document))
    ok = subprocess.run([sys.executable, "-m", "workroom.cli", "verify", str(good)], capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.startswith("OK: 7 events")
    fail = subprocess.run([sys.executable, "-m", "workroom.cli", "verify", str(bad)], capture_output=True, text=True)
    assert fail.returncode == 1 and "seq 4" in fail.stdout
