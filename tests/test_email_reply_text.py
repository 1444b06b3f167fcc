"""Reply trimming, HTML to text, charsets and automatic-mail signals, case by case."""
from __future__ import annotations

from email import message_from_string, policy

import pytest

from workroom.email_bridge.automatic import automatic_reason
from workroom.email_bridge.charsets import decode_text
from workroom.email_bridge.html_text import html_reply_to_text, html_to_text
from workroom.email_bridge.reply_trimmer import trim_reply

OURS = ("workroom.example",)


def test_top_posted_reply_keeps_only_the_new_text() -> None:
    text = "Yes, Friday works.\n\nOn Mon, 2 Mar 2026 at 09:00, Fred wrote:\n> Can we meet Friday?\n"
    assert trim_reply(text) == "Yes, Friday works."


def test_our_marker_cuts_an_unquoted_copy_of_the_notification() -> None:
    text = "Agreed.\n\n-- Reply above this line to post in the room --\n\nFred posted: hello"
    assert trim_reply(text) == "Agreed."


def test_bottom_posted_answer_is_kept_without_the_quote() -> None:
    text = "On Mon, Fred wrote:\n> Can we meet Friday?\n> Thanks\n\nFriday is fine."
    assert trim_reply(text) == "Friday is fine."


def test_signature_after_rfc3676_delimiter_and_mobile_footer_are_dropped() -> None:
    assert trim_reply("Looks good.\n\n-- \nFred\n+1 555 0100") == "Looks good."
    assert trim_reply("Looks good.\n\nSent from my iPhone") == "Looks good."


def test_a_lone_name_sign_off_stays_but_a_name_led_signature_block_goes() -> None:
    assert trim_reply("Fine by me.\n\nCarla Client", "Carla Client") == "Fine by me.\n\nCarla Client"
    signed = "Fine by me.\n\nBest,\nCarla Client\nHead of Brand, Acme\nhttps://acme.example"
    assert trim_reply(signed, "Carla Client") == "Fine by me.\n\nBest,"


def test_german_attribution_line_is_recognised() -> None:
    text = "Passt.\n\nAm 02.03.2026 um 09:00 schrieb Fred <fred@example.com>:\n> Termin am Freitag?"
    assert trim_reply(text) == "Passt."


def test_gmail_html_quote_and_signature_are_removed_before_rendering() -> None:
    html = (
        '<div dir="ltr">Ship it.<br><div class="gmail_signature">Carla | Acme</div></div>'
        '<div class="gmail_quote">On Mon wrote:<blockquote>old</blockquote></div>'
    )
    assert html_reply_to_text(html) == "Ship it."


def test_apple_mail_html_cite_blockquote_is_history() -> None:
    html = "<div>Yes.</div><div><br><blockquote type=\"cite\"><div>Question?</div></blockquote></div>"
    assert html_reply_to_text(html) == "Yes."


def test_html_to_text_keeps_line_breaks_and_lists_and_drops_style() -> None:
    html = "<style>p{color:red}</style><p>One<br>Two</p><ul><li>a</li><li>b</li></ul><script>x()</script>"
    text = html_to_text(html)
    assert "One\nTwo" in text and "a" in text and "color" not in text and "x()" not in text


@pytest.mark.parametrize(
    "raw, declared, expected",
    [
        ("café".encode("utf-8"), None, "café"),
        ("café".encode("latin-1"), None, "café"),
        ("\u201cq\u201d".encode("cp1252"), "iso-8859-1", "\u201cq\u201d"),
        ("naïve".encode("utf-8"), "us-ascii", "naïve"),
        ("x€".encode("utf-8"), "x-unknown-charset", "x€"),
        (b"\x81\x8d", "windows-1252", "\x81\x8d"),
    ],
)
def test_charset_fallbacks(raw: bytes, declared: str | None, expected: str) -> None:
    assert decode_text(raw, declared) == expected


def _reason(headers: str, *, sender: str = "p@people.example", subject: str = "Re: hello") -> str | None:
    message = message_from_string(headers + f"\nSubject: {subject}\n\nbody\n", policy=policy.default)
    return automatic_reason(message, sender, "p@people.example", subject, OURS)


@pytest.mark.parametrize(
    "headers",
    ["Auto-Submitted: auto-replied", "Auto-Submitted: auto-generated", "X-Autoreply: yes", "X-Autorespond: 1",
     "Precedence: bulk", "Precedence: junk", "Precedence: list", "Precedence: auto_reply",
     "List-Id: <team.lists.example>", "Content-Type: multipart/report; report-type=delivery-status; boundary=x"],
)
def test_automatic_headers_are_recognised(headers: str) -> None:
    assert _reason(headers) is not None


@pytest.mark.parametrize(
    "subject",
    ["Out of Office: Re: [WR:abc] Logo", "Automatic reply: Logo", "Abwesenheitsnotiz: Logo",
     "Réponse automatique : Logo", "Respuesta automática: Logo", "Risposta automatica: Logo",
     "Automatisch antwoord: Logo", "OOO until Monday", "Re: Autoreply", "自动回复: Logo"],
)
def test_out_of_office_subjects_in_several_languages(subject: str) -> None:
    assert _reason("X-Mailer: x", subject=subject) == "out-of-office subject"


def test_people_and_auto_submitted_no_are_not_automatic() -> None:
    assert _reason("Auto-Submitted: no") is None
    assert _reason("X-Mailer: x", subject="Re: the office move") is None


def test_empty_sender_mailer_daemon_and_our_own_addresses_are_automatic() -> None:
    assert _reason("X-Mailer: x", sender="") is not None
    assert _reason("X-Mailer: x", sender="MAILER-DAEMON@mx.example") is not None
    assert _reason("X-Mailer: x", sender="notifications@workroom.example") is not None
