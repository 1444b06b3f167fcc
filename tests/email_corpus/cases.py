"""Loads the corpus: each .eml with its sidecar expectations."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

CORPUS_DIR = Path(__file__).parent
DOMAIN = "workroom.example"
ROOM_TAG = "k7q2m9xd"
TOKENS = {
    "guest": "gq4t8w2n6r1v5y9b3c7d0fhj",
    "client": "cx8k3m7p2s6v0z4b9f5h1jle",
    "freelancer": "fz2n6q1t5w9c3g7k0m4r8vxa",
    "expired_guest": "ex5b9d3f7h1k4m8p2r6t0wya",
    "removed_member": "rm3c7e1g5j9l2n6q0s4u8wzb",
}


@dataclass(frozen=True)
class CorpusCase:
    name: str
    raw: bytes
    expected: dict

    @property
    def outcome(self) -> str:
        return self.expected["outcome"]

    @property
    def mail_from(self) -> str:
        return self.expected.get("mail_from", "")

    @property
    def rcpt_to(self) -> list[str]:
        return self.expected.get("rcpt_to", [])


def load_cases() -> list[CorpusCase]:
    cases = []
    for sidecar in sorted(CORPUS_DIR.glob("*.json")):
        raw = sidecar.with_suffix(".eml").read_bytes()
        cases.append(CorpusCase(sidecar.stem, raw, json.loads(sidecar.read_text(encoding="utf-8"))))
    return cases


def grown(case: CorpusCase) -> bytes:
    """The mail padded to grow_to_bytes with extra base64 lines inside its last part."""
    target = case.expected.get("grow_to_bytes")
    if not target:
        return case.raw
    head, sep, tail = case.raw.rpartition(b"\r\n--")
    line = b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n"
    padding = line * ((target - len(case.raw)) // len(line) + 1)
    return head + b"\r\n" + padding.rstrip(b"\r\n") + sep + tail
