"""HTML mail to plain text, with the reply's quoted history cut away first.

Quoted history in HTML mail is marked by the client's own containers (Gmail's
gmail_quote, Outlook's divRplyFwdMsg/appendonsend, Thunderbird's moz-cite-prefix,
Apple Mail's blockquote type=cite), so it is removed on the parsed tree (lxml),
where it is unambiguous, before the text is rendered by inscriptis.
"""
from __future__ import annotations

import re

import lxml.etree
import lxml.html
from inscriptis import Inscriptis
from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.model.config import ParserConfig

# Everything from the first of these on is the quoted history of the thread.
_QUOTE_START_XPATH = " | ".join(
    [
        "//div[contains(concat(' ', normalize-space(@class), ' '), ' gmail_quote ')]",
        "//div[contains(concat(' ', normalize-space(@class), ' '), ' gmail_quote_container ')]",
        "//*[@id='appendonsend']",
        "//*[@id='divRplyFwdMsg']",
        "//*[@id='mail-editor-reference-message-container']",
        "//hr[@id='stopSpelling']",
        "//div[contains(concat(' ', normalize-space(@class), ' '), ' moz-cite-prefix ')]",
        "//div[contains(concat(' ', normalize-space(@class), ' '), ' yahoo_quoted ')]",
        "//div[contains(concat(' ', normalize-space(@class), ' '), ' OutlookMessageHeader ')]",
        "//blockquote[@type='cite']",
        # Outlook desktop wraps the From/Sent/To header block in a div with this top border.
        "//div[contains(translate(@style, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ ', 'abcdefghijklmnopqrstuvwxyz'),"
        " 'border-top:solid#e1e1e11.0pt') or contains(translate(@style, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ ',"
        " 'abcdefghijklmnopqrstuvwxyz'), 'border-top:solid#b5c4df1.0pt')]",
    ]
)
# Signatures the client marks as such; removed on their own.
_SIGNATURE_XPATH = " | ".join(
    [
        "//div[contains(concat(' ', normalize-space(@class), ' '), ' gmail_signature ')]",
        "//*[@id='Signature']",
        "//div[contains(concat(' ', normalize-space(@class), ' '), ' moz-signature ')]",
        "//*[@id='AppleMailSignature']",
        "//*[@id='ms-outlook-mobile-signature']",
    ]
)
_CONFIG = ParserConfig(css=CSS_PROFILES["strict"], display_links=False, display_images=False)
_XML_ILLEGAL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _parse(html: str) -> lxml.html.HtmlElement | None:
    html = _XML_ILLEGAL_RE.sub("", html)
    if not html.strip():
        return None
    try:
        return lxml.html.document_fromstring(html)
    except (lxml.etree.ParserError, ValueError):
        return None


def _trim_from(element: lxml.html.HtmlElement) -> None:
    """Remove the element and everything after it in document order."""
    node = element
    for parent in element.iterancestors():
        node.tail = None
        for sibling in list(node.itersiblings()):
            parent.remove(sibling)
        node = parent
    if element.getparent() is not None:
        element.drop_tree()


def _render(tree: lxml.html.HtmlElement) -> str:
    for dead in tree.xpath("//script | //style | //head"):
        dead.drop_tree()
    # Outlook writes every line as <p class=MsoNormal> with zero margins and marks blank lines
    # with an &nbsp; paragraph; rendered as paragraphs they would double every line break.
    for paragraph in tree.xpath("//p[contains(@class, 'MsoNormal')]"):
        if paragraph.text_content().strip() or paragraph.xpath(".//img"):
            paragraph.tag = "div"
        else:
            tail = paragraph.tail
            paragraph.clear()
            paragraph.tag, paragraph.tail = "br", tail
    text = Inscriptis(tree, _CONFIG).get_text()
    lines = [line.rstrip() for line in text.replace("\u00a0", " ").splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


def html_to_text(html: str) -> str:
    tree = _parse(html)
    return _render(tree) if tree is not None else ""


def html_reply_to_text(html: str) -> str:
    """The text of an HTML reply with the client-marked quoted history and signature removed."""
    tree = _parse(html)
    if tree is None:
        return ""
    quote_starts = tree.xpath(_QUOTE_START_XPATH)
    if quote_starts:
        first = min(quote_starts, key=lambda el: _document_position(tree, el))
        _trim_from(first)
    for signature in tree.xpath(_SIGNATURE_XPATH):
        signature.drop_tree()
    return _render(tree)


def _document_position(tree: lxml.html.HtmlElement, element: lxml.html.HtmlElement) -> int:
    for index, node in enumerate(tree.iter()):
        if node is element:
            return index
    return 1 << 30
