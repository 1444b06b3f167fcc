"""What the bridge understands of one received mail, before any routing."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class MailAttachment:
    filename: str
    content_type: str
    data: bytes
    content_id: str | None = None  # set for inline images referenced as cid: from the HTML part
    inline: bool = False

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class InboundMail:
    envelope_sender: str  # MAIL FROM; "" is the null sender used by bounces
    recipients: list[str]  # RCPT TO addresses, lower-cased
    from_address: str  # addr-spec of the From header, lower-cased; "" if unreadable
    from_name: str
    to: list[str]
    cc: list[str]
    rcpt_tokens: list[str]  # reply tokens found in RCPT TO addresses (strongest routing hint)
    header_tokens: list[str]  # reply tokens found in To/Cc addresses
    subject: str
    subject_tag: str | None  # the room tag of a "[WR:<tag>]" in the subject
    message_id: str | None  # without angle brackets
    in_reply_to: list[str]
    references: list[str]
    thread_tags: list[str]  # room tags named by our own Message-IDs in In-Reply-To/References
    text: str  # the reply with quoted text and signature removed
    full_text: str  # the whole readable body, untrimmed (kept for held posts and debugging)
    attachments: list[MailAttachment] = field(default_factory=list)
    automatic: str | None = None  # why this is machine-generated mail, or None for a person's mail
    defects: list[str] = field(default_factory=list)  # MIME problems met while reading
    fingerprint: str = ""  # content hash used to de-duplicate mail that has no usable Message-ID

    @property
    def all_tokens(self) -> list[str]:
        seen: list[str] = []
        for token in [*self.rcpt_tokens, *self.header_tokens]:
            if token not in seen:
                seen.append(token)
        return seen
