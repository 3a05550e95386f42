"""A model's Markdown as Telegram formatting: text plus message entities, never a parse mode.

markdown-it-py parses the answer (raw HTML off) and the tokens become aiogram formatting nodes (bold,
italic, code, pre, links, quotes), which aiogram renders as plain text with entity offsets. Nothing is
left for Telegram to parse, so an answer — partial, adversarial or with unbalanced markers — can never
be "broken markup": at worst a marker shows as the character it is.
"""

from dataclasses import dataclass

from aiogram.types import MessageEntity
from aiogram.utils.formatting import (
    BlockQuote,
    Bold,
    Code,
    Italic,
    Pre,
    Strikethrough,
    Text,
    TextLink,
)
from markdown_it import MarkdownIt
from markdown_it.token import Token

from channels_tg.texts import TELEGRAM_MESSAGE_LIMIT

LINK_SCHEMES = ("http://", "https://", "mailto:")
_INLINE_STYLES = {"strong": Bold, "em": Italic, "s": Strikethrough}
_markdown = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


def answer_text(markdown: str) -> Text:
    """`markdown` as an aiogram Text tree (render it with `.as_kwargs()`)."""
    source = markdown or ""
    tokens = _markdown.parse(source)
    return Text(*_blocks(tokens, source.splitlines()))


def _blocks(tokens: list[Token], lines: list[str]) -> list:
    """Block tokens → nodes, blocks separated by a blank line; list items by a line break."""
    nodes: list = []
    lists: list[list] = []  # per open list: [ordered, next number]
    quote_start: list[int] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        kind = token.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            lists.append([kind == "ordered_list_open", int(token.attrGet("start") or 1)])
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
            _end_block(nodes)
        elif kind == "list_item_open":
            ordered, number = lists[-1]
            marker = f"{number}. " if ordered else "• "
            lists[-1][1] += 1
            nodes.append("   " * (len(lists) - 1) + marker)
        elif kind == "inline":
            content = _inline(token.children or [])
            in_heading = index > 0 and tokens[index - 1].type == "heading_open"
            nodes.append(Bold(*content) if in_heading else Text(*content))
            _end_line(nodes, tight=bool(lists))
        elif kind in ("fence", "code_block"):
            language = (token.info or "").split()[0] if token.info else None
            nodes.append(Pre(token.content.rstrip("\n"), language=language or None))
            _end_block(nodes)
        elif kind == "table_open":
            start, end = token.map or (0, 0)
            nodes.append(Pre("\n".join(lines[start:end])))
            _end_block(nodes)
            while tokens[index].type != "table_close":
                index += 1
        elif kind == "hr":
            nodes.append("———")
            _end_block(nodes)
        elif kind == "blockquote_open":
            quote_start.append(len(nodes))
        elif kind == "blockquote_close":
            start = quote_start.pop()
            inner = nodes[start:]
            del nodes[start:]
            while inner and isinstance(inner[-1], str) and not inner[-1].strip():
                inner.pop()
            nodes.append(BlockQuote(*inner))
            _end_block(nodes)
        index += 1
    while nodes and isinstance(nodes[-1], str) and not nodes[-1].strip():
        nodes.pop()
    return nodes


def _end_line(nodes: list, *, tight: bool) -> None:
    nodes.append("\n" if tight else "\n\n")


def _end_block(nodes: list) -> None:
    if nodes and nodes[-1] == "\n":
        nodes[-1] = "\n\n"
    elif not (nodes and nodes[-1] == "\n\n"):
        nodes.append("\n\n")


def _inline(children: list[Token]) -> list:
    """Inline tokens → nodes; styles nest through a stack of (style class, params, children)."""
    root: list = []
    stack: list[tuple[type | None, dict, list]] = []

    def current() -> list:
        return stack[-1][2] if stack else root

    for token in children:
        kind = token.type
        if kind == "text":
            current().append(token.content)
        elif kind in ("softbreak", "hardbreak"):
            current().append("\n")
        elif kind == "code_inline":
            current().append(Code(token.content))
        elif kind.endswith("_open") and kind[:-5] in _INLINE_STYLES:
            stack.append((_INLINE_STYLES[kind[:-5]], {}, []))
        elif kind == "link_open":
            href = str(token.attrGet("href") or "")
            stack.append((TextLink if href.startswith(LINK_SCHEMES) else None, {"url": href}, []))
        elif kind.endswith("_close") and stack:
            style, params, content = stack.pop()
            current().append(style(*content, **params) if style else Text(*content))
        elif kind == "image":
            current().append(token.content or "")
    return root


@dataclass(frozen=True)
class Piece:
    """One message's worth: its text and entities (offsets in UTF-16 units, as Telegram counts)."""

    text: str
    entities: list[MessageEntity]


def telegram_pieces(markdown: str, limit: int = TELEGRAM_MESSAGE_LIMIT) -> list[Piece]:
    """`markdown` as formatted messages Telegram accepts, cut like `texts.split_message` (a newline,
    else a space, else hard; the separator at a cut is dropped), entities clipped to each piece."""
    plain, entities = answer_text(markdown).render()
    spans, start = [], 0
    while _utf16_len(plain[start:]) > limit:
        end = start + limit
        while _utf16_len(plain[start:end]) > limit:
            end -= 1
        window = plain[start : end + 1]
        cut = window.rfind("\n")
        if cut < (end - start) // 2:
            cut = window.rfind(" ")
        if cut < (end - start) // 2:
            spans.append((start, end))
            start = end
        else:
            spans.append((start, start + cut))
            start += cut + 1
    spans.append((start, len(plain)))
    return [_piece(plain, entities, a, b) for a, b in spans if plain[a:b].strip()]


def _piece(plain: str, entities: list[MessageEntity], start: int, end: int) -> Piece:
    low, high = _utf16_len(plain[:start]), _utf16_len(plain[:end])
    clipped = []
    for entity in entities:
        first, last = max(entity.offset, low), min(entity.offset + entity.length, high)
        if last > first:
            clipped.append(entity.model_copy(update={"offset": first - low, "length": last - first}))
    return Piece(text=plain[start:end], entities=clipped)


def _utf16_len(value: str) -> int:
    return len(value.encode("utf-16-le")) // 2
