from pathlib import Path

import polib

from channels_tg import texts

PO_PATH = Path(texts.__file__).parent / "locale" / "ru" / "LC_MESSAGES" / "django.po"


def test_every_bot_text_has_a_russian_translation():
    catalog = polib.pofile(str(PO_PATH))

    assert [entry.msgid for entry in catalog.untranslated_entries()] == []
    assert [entry.msgid for entry in catalog.fuzzy_entries()] == []


def test_long_text_is_split_at_line_breaks_under_the_limit():
    text = "\n".join(f"line {n} " + "x" * 90 for n in range(100))

    pieces = texts.split_message(text)

    assert all(len(piece) <= texts.TELEGRAM_MESSAGE_LIMIT for piece in pieces)
    assert "\n".join(pieces) == text


def test_text_without_spaces_is_cut_hard_at_the_limit():
    pieces = texts.split_message("y" * 9000)

    assert [len(piece) for piece in pieces] == [4096, 4096, 808]
