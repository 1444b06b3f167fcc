"""Builds the winmail.dat inside winmail_dat.eml (run once; kept so the bytes can be reproduced).

A minimal TNEF stream as Outlook writes it for "Rich Text" mail: version, OEM code
page, a body, then per attachment its rendering data, title and data. Each object is
level(1) id(2) type(2) length(4) data checksum(2), little-endian, per [MS-OXTNEF].
"""
from __future__ import annotations

import struct

SIGNATURE = 0x223E9F78


def _object(level: int, attribute_id: int, attribute_type: int, data: bytes) -> bytes:
    checksum = sum(data) & 0xFFFF
    return struct.pack("<BHHI", level, attribute_id, attribute_type, len(data)) + data + struct.pack("<H", checksum)


def build_tnef(body: str, files: list[tuple[str, bytes]]) -> bytes:
    out = struct.pack("<IH", SIGNATURE, 0x0001)
    out += _object(1, 0x9006, 0x0008, struct.pack("<I", 0x00010000))  # attTnefVersion
    out += _object(1, 0x9007, 0x0006, struct.pack("<II", 1252, 0))  # attOemCodepage
    out += _object(1, 0x800C, 0x0002, body.encode("cp1252") + b"\x00")  # attBody
    for name, data in files:
        out += _object(2, 0x9002, 0x0006, b"\xff\xff\xff\xff" + b"\x00" * 10)  # attAttachRendData
        out += _object(2, 0x8010, 0x0001, name.encode("ascii") + b"\x00")  # attAttachTitle
        out += _object(2, 0x800F, 0x0006, data)  # attAttachData
    return out


if __name__ == "__main__":
    import base64
    import sys

    stream = build_tnef(
        "Here are the signed terms and the logo brief.\r\n",
        [("terms-signed.txt", b"Signed by Carla Client, 21 Nov 2026.\n"), ("brief.csv", b"colour,hex\nblue,#1f3a93\n")],
    )
    sys.stdout.write(base64.encodebytes(stream).decode())
