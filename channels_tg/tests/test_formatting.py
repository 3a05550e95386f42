"""Answers' Markdown reaches Telegram as formatting entities (never a parse mode), or as plain text."""

import pytest

from channels_tg.formatting import answer_text, telegram_pieces

pytestmark = pytest.mark.django_db(transaction=True)


def _entities(call) -> list[tuple[str, str]]:
    text = call.params["text"]
    spans = [(entity["type"], entity["offset"], entity["length"]) for entity in call.params["entities"]]
    return [(kind, text[offset : offset + length]) for kind, offset, length in spans]


def test_markdown_from_the_model_arrives_as_telegram_formatting(feed, talking, fake_telegram):
    feed(talking.text("**Plan** and `code` and [docs](https://example.com)"))

    [answer] = fake_telegram.calls_of("sendMessage")
    assert answer.params["text"] == "echo: Plan and code and docs"
    assert "parse_mode" not in answer.params
    assert _entities(answer) == [("bold", "Plan"), ("code", "code"), ("text_link", "docs")]


def test_unbalanced_markup_and_html_arrive_as_the_characters_they_are(feed, talking, fake_telegram):
    feed(talking.text("**unclosed <b>tag _half [x](javascript:alert(1))"))

    [answer] = fake_telegram.calls_of("sendMessage")
    assert answer.params["text"] == "echo: **unclosed <b>tag _half [x](javascript:alert(1))"
    assert answer.params.get("entities", []) == []


def test_when_telegram_refuses_the_entities_the_answer_comes_as_plain_text(feed, talking, fake_telegram):
    fake_telegram.fail("sendMessage", status=400)

    feed(talking.text("**bold** answer"))

    refused, plain = fake_telegram.calls_of("sendMessage")
    assert refused.params["entities"]
    assert plain.params["text"] == "echo: bold answer"
    assert "entities" not in plain.params


def test_long_formatted_answers_are_split_with_entities_clipped_to_each_piece():
    markdown = ("**word** " * 50 + "\n") * 40

    pieces = telegram_pieces(markdown)

    assert [len(piece.text) for piece in pieces] == [3999, 3999, 1999]
    for piece in pieces:
        for entity in piece.entities:
            assert piece.text[entity.offset : entity.offset + entity.length] == "word"
    assert "".join(p.text + "\n" for p in pieces).rstrip("\n") == answer_text(markdown).render()[0].rstrip("\n")


def test_lists_code_blocks_and_quotes_keep_their_shape():
    text, entities = answer_text("- one\n- two\n\n```python\nprint(1)\n```\n\n> quoted").render()

    assert text == "• one\n• two\n\nprint(1)\n\nquoted"
    assert [(entity.type, entity.language) for entity in entities] == [("pre", "python"), ("blockquote", None)]
