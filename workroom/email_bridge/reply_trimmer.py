"""Cut a plain-text reply down to what the person wrote.

Quote detection uses quotequail (attribution lines such as a Gmail "On ... wrote:"
wrapped over two lines, Outlook "-----Original Message-----" and underscore
separators, several languages). On top of it this module adds what quotequail
leaves to its callers: our own reply marker, Outlook's bare "From:/Sent:" header
block, interleaved answers between quotes, and signatures.
"""
from __future__ import annotations

import re

import quotequail

# The outbound text part starts with this line; everything from it down is our own mail.
REPLY_MARKER = "Reply above this line to post in the room"
_MARKER_RE = re.compile(r"reply above this line", re.IGNORECASE)

_HEADER_FROM_RE = re.compile(r"^\s*\*?(from|von|de|van|da|från|od|от)\s*:\*?\s*\S", re.IGNORECASE)
_HEADER_DATE_RE = re.compile(
    r"^\s*\*?(sent|date|gesendet|datum|envoyé|enviado|inviato|verzonden|skickat|wysłano|отправлено)\s*:",
    re.IGNORECASE,
)
_HEADER_OTHER_RE = re.compile(
    r"^\s*\*?(to|an|à|para|a|aan|till|do|кому|subject|betreff|objet|asunto|oggetto|onderwerp|ämne|temat|тема|cc)\s*:",
    re.IGNORECASE,
)
_SEPARATOR_RE = re.compile(r"^\s*(_{10,}|-{3,}.*-{3,})\s*$")
_SIGNATURE_DELIMITER_RE = re.compile(r"^--\s?$")
_MOBILE_FOOTER_RE = re.compile(
    r"^\s*(sent from (my |mail for |yahoo mail|outlook)|get outlook for |sent via |envoyé de mon |"
    r"von meinem .* gesendet|enviado desde mi )",
    re.IGNORECASE,
)
_VALEDICTION_RE = re.compile(
    r"^(best|best regards|kind regards|regards|thanks|thank you|many thanks|cheers|sincerely|yours|"
    r"mit freundlichen grüßen|viele grüße|grüße|cordialement|saludos|un saludo)[,.!]?$",
    re.IGNORECASE,
)
_MAX_SIGNATURE_LINES = 8
_QUOTE_CONTEXT_LINES = 3  # quoted lines kept above each inline answer


def trim_reply(text: str, sender_name: str = "") -> str:
    lines = _normalize(text).split("\n")
    lines = _cut_at_marker(lines)
    start = _quote_start(lines)
    if start is None:
        kept = lines
    else:
        kept = lines[:start] + _interleaved_answers(lines[start:])
    kept = _strip_signature(kept, sender_name)
    return _tidy(kept)


def _normalize(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    return "\n".join(line.rstrip() for line in text.split("\n"))


def _cut_at_marker(lines: list[str]) -> list[str]:
    """Everything from our marker down is our own mail, unless the person answered inside the quote."""
    for index, line in enumerate(lines):
        if not _MARKER_RE.search(line):
            continue
        answered_below = any(l.strip() and not _is_quoted(l) for l in lines[index + 1 :])
        if _is_quoted(line) and answered_below:
            return lines[:index] + lines[index + 1 :]
        return lines[:index]
    return lines


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _outlook_header_block(lines: list[str]) -> int | None:
    """Index where a bare "From: / Sent: / To: / Subject:" block starts, as Outlook writes it."""
    for index, line in enumerate(lines):
        if not _HEADER_FROM_RE.match(line) or _is_quoted(line):
            continue
        window = lines[index + 1 : index + 6]
        if any(_HEADER_DATE_RE.match(other) for other in window) and any(
            _HEADER_OTHER_RE.match(other) for other in window
        ):
            if index > 0 and _SEPARATOR_RE.match(lines[index - 1]):
                return index - 1
            return index
    return None


def _quote_start(lines: list[str]) -> int | None:
    candidates: list[int] = []
    parts = quotequail.quote("\n".join(lines), limit=len(lines) + 1, quote_intro_line=True)
    if len(parts) == 2:
        candidates.append(parts[0][1].count("\n") + 1 if parts[0][1] else 0)
    outlook = _outlook_header_block(lines)
    if outlook is not None:
        candidates.append(outlook)
    first_quoted = next((i for i, line in enumerate(lines) if _is_quoted(line)), None)
    if first_quoted is not None:
        candidates.append(first_quoted)
    return min(candidates) if candidates else None


def _interleaved_answers(rest: list[str]) -> list[str]:
    """Answers written between quoted lines, each kept with the quote it answers.

    A top-posted reply has nothing unquoted after its quote, so this returns nothing.
    """
    first_quoted = next((i for i, line in enumerate(rest) if _is_quoted(line)), None)
    if first_quoted is None:
        return []  # an unprefixed quote (Outlook style): everything after its header is history
    body = rest[first_quoted:]
    blocks: list[tuple[bool, list[str]]] = []
    for line in body:
        quoted = _is_quoted(line) if line.strip() else (blocks[-1][0] if blocks else True)
        if blocks and blocks[-1][0] == quoted:
            blocks[-1][1].append(line)
        else:
            blocks.append((quoted, [line]))
    answers = [index for index, (quoted, block) in enumerate(blocks) if not quoted and any(l.strip() for l in block)]
    if not answers:
        return []
    if len(answers) == 1 and answers[0] == len(blocks) - 1:
        return [""] + blocks[-1][1]  # bottom-posted: the answer alone, the quote is history
    kept: list[str] = [""]
    for index, (quoted, block) in enumerate(blocks):
        if index > answers[-1]:
            break
        if quoted:
            context = [_requote(line) for line in block if line.strip().lstrip(">").strip()]
            kept += ["", *context[-_QUOTE_CONTEXT_LINES:], ""]
        else:
            kept += block
    return kept


def _requote(line: str) -> str:
    return "> " + line.lstrip().lstrip(">").strip()


def _strip_signature(lines: list[str], sender_name: str) -> list[str]:
    for index, line in enumerate(lines):
        if _SIGNATURE_DELIMITER_RE.match(line) and index > 0:
            lines = lines[:index]
            break
    while lines and (not lines[-1].strip() or _MOBILE_FOOTER_RE.match(lines[-1])):
        lines = lines[:-1]
    return _strip_name_block(lines, sender_name)


def _strip_name_block(lines: list[str], sender_name: str) -> list[str]:
    """Drop a trailing signature block that opens with the sender's full name (Apple Mail style).

    A lone name as a sign-off stays: only a block of name plus title/phone/links goes.
    """
    name = " ".join(sender_name.split()).casefold()
    if len(name.split()) < 2:
        return lines
    last_blank = max((i for i, line in enumerate(lines) if not line.strip()), default=-1)
    block = lines[last_blank + 1 :]
    if not block or len(block) > _MAX_SIGNATURE_LINES:
        return lines
    for offset, line in enumerate(block[:2]):
        if line.strip().rstrip(",.").casefold() == name:
            if len(block) - offset < 2:
                return lines
            if offset == 1 and not _VALEDICTION_RE.match(block[0].strip()):
                return lines
            return lines[: last_blank + 1 + offset]
    return lines


def _tidy(lines: list[str]) -> str:
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip("\n").rstrip()
