"""Every corpus mail parses to what its sidecar says (parsing level; routing is tested against the server)."""
from __future__ import annotations

import pytest

from tests.email_corpus.cases import DOMAIN, load_cases
from workroom.email_bridge.parsing import parse_inbound_mail

CASES = load_cases()


def test_corpus_covers_every_case_the_issue_lists() -> None:
    names = {case.name for case in CASES}
    required = {
        "edited_subject_reply_to_kept", "new_mail_subject_tag_only", "dropped_references",
        "forwarded_answered_by_stranger", "forged_from", "outlook_html_only", "gmail_wrapped_on_wrote",
        "apple_mail_signature", "inline_answers", "iso_8859_1_base64", "cp1252_quoted_printable",
        "utf8_8bit_no_charset", "rfc2047_subject_split", "rfc2231_filename", "winmail_dat", "inline_cid_image",
        "oversize", "long_line_2000", "out_of_office_header", "out_of_office_subject_only",
        "delivery_report_quoting_token", "mailing_list_copy", "duplicate_message_id", "broken_mime",
        "attachment_only",
    }
    assert required <= names
    assert len(CASES) >= 25


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_corpus_mail_parses_as_expected(case) -> None:
    mail = parse_inbound_mail(
        case.raw, envelope_sender=case.mail_from, recipients=case.rcpt_to, our_domains=(DOMAIN,)
    )
    expected = case.expected
    if "text" in expected:
        assert mail.text == expected["text"]
    if "automatic" in expected:
        assert mail.automatic == expected["automatic"]
    if "attachments" in expected:
        got = [(a.filename, a.content_type) for a in mail.attachments]
        assert got == [(a["filename"], a["content_type"]) for a in expected["attachments"]]
        for attachment, want in zip(mail.attachments, expected["attachments"]):
            if "size" in want:
                assert len(attachment.data) == want["size"]
            if "inline" in want:
                assert attachment.inline == want["inline"]
    for key in ("subject", "subject_tag", "rcpt_tokens", "header_tokens", "thread_tags", "message_id"):
        if key in expected:
            assert getattr(mail, key) == expected[key], key
    if expected.get("defects"):
        assert mail.defects
    if expected["outcome"] in {"post", "hold", "refuse", "bounce"}:
        assert mail.automatic is None
        assert mail.from_address
    assert mail.fingerprint
