"""Uploads stream from the socket to disk through python-multipart's push parser: the body is
never whole in memory, the size limit is enforced while reading (413), and the sha256 is taken
on the way through."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from workroom.errors import ApiError
from workroom.ids import new_id
from workroom.rooms.access import seat
from workroom.rooms.models import RoomFile

if TYPE_CHECKING:
    from workroom.accounts import Account
    from workroom.services import Services

FIELD = "file"


@dataclass
class ReceivedFile:
    name: str
    content_type: str
    size: int
    sha256: str
    path: Path


def too_large(limit: int) -> ApiError:
    return ApiError(413, "file_too_large", f"Uploads may be at most {limit} bytes.")


def safe_filename(raw: str) -> str:
    """Keep the name people see, minus path parts and control characters."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip().lstrip(".")
    return name[:255] or "file"


async def receive_upload(request: Request, directory: Path, limit: int) -> ReceivedFile:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise too_large(limit)
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise ApiError(400, "not_multipart", "Send the file as multipart/form-data in a field named 'file'.")
    directory.mkdir(parents=True, exist_ok=True)
    state = _PartState(directory, limit)
    parser = MultipartParser(boundary, callbacks={
        "on_part_begin": state.part_begin, "on_header_field": state.header_field,
        "on_header_value": state.header_value, "on_header_end": state.header_end,
        "on_headers_finished": state.headers_finished, "on_part_data": state.part_data,
        "on_part_end": state.part_end,
    })
    try:
        async for chunk in request.stream():
            parser.write(chunk)
            if state.error:
                raise state.error
        parser.finalize()
    except ApiError:
        state.discard()
        raise
    except Exception:
        state.discard()
        raise ApiError(400, "bad_multipart", "The multipart body could not be read.") from None
    if state.result is None:
        state.discard()
        raise ApiError(422, "missing_field", "file is required (a multipart field named 'file').")
    return state.result


async def keep_file(services: "Services", account: "Account", room_id: str, received: ReceivedFile) -> RoomFile:
    """Move a received file into the room's storage and record it (members only)."""
    file_id = new_id("f")
    final = services.settings.upload_dir / room_id / file_id
    final.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(received.path, final)
    try:
        async with services.transaction() as tx:
            await seat(tx, room_id, account)
            row = RoomFile(id=file_id, room_id=room_id, uploader_id=account.id, name=received.name,
                           size=received.size, content_type=received.content_type, sha256=received.sha256,
                           storage_path=str(final), created_at=tx.now)
            tx.session.add(row)
    except BaseException:
        os.unlink(final)
        raise
    return row


def received_from_bytes(directory: Path, name: str, content_type: str, data: bytes) -> ReceivedFile:
    """A file that arrived whole (say, a mail attachment), written where uploads land."""
    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=directory, prefix=".upload-", delete=False) as handle:
        handle.write(data)
    return ReceivedFile(safe_filename(name), content_type[:200], len(data), hashlib.sha256(data).hexdigest(),
                        Path(handle.name))


class _PartState:
    def __init__(self, directory: Path, limit: int) -> None:
        self.directory, self.limit = directory, limit
        self.headers: dict[bytes, bytes] = {}
        self._field, self._value = b"", b""
        self.is_file = False
        self.handle: "tempfile._TemporaryFileWrapper[bytes] | None" = None
        self.digest = hashlib.sha256()
        self.size = 0
        self.name, self.content_type = "", "application/octet-stream"
        self.result: ReceivedFile | None = None
        self.error: ApiError | None = None

    def part_begin(self) -> None:
        self.headers, self.is_file = {}, False

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def header_end(self) -> None:
        self.headers[self._field.lower()] = self._value
        self._field, self._value = b"", b""

    def headers_finished(self) -> None:
        _, options = parse_options_header(self.headers.get(b"content-disposition", b""))
        if options.get(b"name") == FIELD.encode() and b"filename" in options and self.result is None:
            self.is_file = True
            self.name = safe_filename(options[b"filename"].decode("utf-8", "replace"))
            self.content_type = self.headers.get(b"content-type", b"application/octet-stream").decode("latin-1")[:200]
            self.handle = tempfile.NamedTemporaryFile(dir=self.directory, prefix=".upload-", delete=False)

    def part_data(self, data: bytes, start: int, end: int) -> None:
        if not self.is_file or self.handle is None or self.error:
            return
        self.size += end - start
        if self.size > self.limit:
            self.error = too_large(self.limit)
            return
        chunk = data[start:end]
        self.digest.update(chunk)
        self.handle.write(chunk)

    def part_end(self) -> None:
        if self.is_file and self.handle is not None and not self.error:
            self.handle.close()
            self.result = ReceivedFile(self.name, self.content_type, self.size, self.digest.hexdigest(),
                                       Path(self.handle.name))
            self.handle = None
        self.is_file = False

    def discard(self) -> None:
        for path in [self.handle.name if self.handle else None, self.result.path if self.result else None]:
            if path and os.path.exists(path):
                os.unlink(path)
