"""Answers appear while they are written: one message, edited at most once per interval, then the
final text in its place (issue #9, item 7)."""

import pytest

from agents.models import Message

pytestmark = pytest.mark.django_db(transaction=True)

INTERVAL = 0.3
QUESTION = " ".join(f"word{n}" for n in range(40))


@pytest.fixture
def slow_upstream(fake_openai, settings):
    settings.TELEGRAM_EDIT_INTERVAL_SECONDS = INTERVAL
    fake_openai.token_delay_ms = 60  # ~41 words: about 2.5 s of writing
    return fake_openai


def test_the_answer_is_edited_as_it_grows_and_the_final_text_replaces_it(feed, talking, fake_telegram, slow_upstream):
    feed(talking.text(QUESTION))

    [draft] = fake_telegram.calls_of("sendMessage")
    edits = fake_telegram.calls_of("editMessageText")
    final = Message.objects.get(role="assistant").content.strip()
    assert final.startswith("echo: word0 word1")
    assert len(edits) >= 3
    assert all(int(edit.params["message_id"]) == int(edits[0].params["message_id"]) for edit in edits)
    shown = [draft.params["text"]] + [edit.params["text"] for edit in edits]
    assert all(final.startswith(text) for text in shown)
    assert all(len(later) > len(earlier) for earlier, later in zip(shown, shown[1:], strict=False))
    assert shown[-1] == final
    updates = [draft.started] + [edit.started for edit in edits]
    assert min(later - earlier for earlier, later in zip(updates, updates[1:], strict=False)) >= INTERVAL * 0.9


def test_a_short_answer_is_sent_once_without_edits(feed, talking, fake_telegram, fake_openai):
    feed(talking.text("hi"))

    assert [call.params["text"] for call in fake_telegram.calls_of("sendMessage")] == ["echo: hi"]
    assert fake_telegram.calls_of("editMessageText") == []


def test_a_long_streamed_answer_goes_on_in_new_messages(feed, talking, fake_telegram, slow_upstream):
    slow_upstream.token_delay_ms = 1
    feed(talking.text("REPLY_CHARS=9000 TOKEN_DELAY_MS=1"))

    stored = Message.objects.get(role="assistant").content
    texts = [call.params["text"] for call in fake_telegram.calls_of("sendMessage")]
    edits = fake_telegram.calls_of("editMessageText")
    pieces = ([edits[-1].params["text"]] + texts[1:]) if edits else texts
    assert all(0 < len(piece) <= 4096 for piece in pieces)
    assert " ".join(pieces) == stored


def test_a_failure_mid_answer_keeps_what_was_written_and_says_so(feed, talking, fake_telegram, slow_upstream):
    slow_upstream.fail_after_tokens = 12
    feed(talking.text(QUESTION + " FAIL_MIDSTREAM"))

    sent = fake_telegram.sent_texts(talking.chat_id)
    partial = Message.objects.get(role="assistant")
    assert partial.interrupted
    assert partial.content.strip() in sent
    assert any("stopped in the middle of this answer" in text for text in sent)


def test_with_drafts_on_a_private_chat_sees_drafts_then_the_final_message(
    feed, talking, fake_telegram, slow_upstream, settings
):
    settings.TELEGRAM_ANSWER_DRAFTS = True

    feed(talking.text(QUESTION))

    drafts = fake_telegram.calls_of("sendMessageDraft")
    [final] = fake_telegram.calls_of("sendMessage")
    stored = Message.objects.get(role="assistant").content.strip()
    assert len(drafts) >= 3 and len({draft.params["draft_id"] for draft in drafts}) == 1
    assert all(stored.startswith(draft.params["text"]) for draft in drafts)
    assert all(draft.started < final.started for draft in drafts)
    assert final.params["text"] == stored
    assert fake_telegram.calls_of("editMessageText") == []
