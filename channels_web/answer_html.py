"""Model answers as safe HTML: Markdown rendered by markdown-it-py, then sanitized by nh3 (Ammonia).

An answer is untrusted text (a prompt injection can make the model write anything), so raw HTML in
it is never passed through: markdown-it escapes it (`html` off) and nh3 keeps only the tags below,
with http(s)/mailto links marked `rel="noopener nofollow"`. Two independent layers, so a bug in one
parser does not put a <script> on the page.
"""

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "strong",
    "em",
    "s",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"style"}, "td": {"style"}}
URL_SCHEMES = {"http", "https", "mailto"}

_markdown = MarkdownIt("commonmark", {"html": False, "breaks": True}).enable(["table", "strikethrough"])


def answer_html(text: str) -> SafeString:
    """`text` (Markdown from a model) as HTML that is safe to put on a page."""
    rendered = _markdown.render(text or "")
    cleaned = nh3.clean(
        rendered,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener nofollow",
        filter_style_properties={"text-align"},
    )
    return mark_safe(cleaned)  # noqa: S308 — sanitized by nh3 just above
