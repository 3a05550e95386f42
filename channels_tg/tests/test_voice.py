"""Voice messages: authorized and metered like a call, sized before download, measured, not trusted."""

import pytest

from billing.models import BillingAccount
from policy.models import PolicyRule
from testing.audio import ogg_opus
from usage.models import Outcome, PeriodCounter, UsageEvent

pytestmark = pytest.mark.django_db(transaction=True)


def _transcriptions(fake_openai):
    return [request for request in fake_openai.requests if request["path"] == "/v1/audio/transcriptions"]


def _voice_events():
    return list(UsageEvent.objects.filter(audio_seconds__gt=0).order_by("id"))


def test_a_voice_message_is_transcribed_metered_and_answered(feed, talking, fake_telegram, fake_openai):
    audio = ogg_opus(7)
    fake_telegram.add_file("voice-1", audio)

    feed(talking.voice("voice-1", duration=7))

    assert fake_telegram.calls_of("getFile")[0].params["file_id"] == "voice-1"
    [transcription] = _transcriptions(fake_openai)
    assert transcription["json"] == {"model": "whisper-1", "file_bytes": len(audio)}
    heard, answer = fake_telegram.sent_texts(talking.chat_id)
    assert f"transcript of {len(audio)} bytes" in heard
    assert answer == f"echo: transcript of {len(audio)} bytes"
    [event] = _voice_events()
    assert (event.outcome, event.channel, event.model, event.audio_seconds) == (Outcome.OK, "telegram", "whisper-1", 7)
    # The transcription and the answer are two calls on the period counter.
    assert PeriodCounter.objects.get().requests == 2


def test_the_measured_duration_is_metered_not_the_declared_one(feed, talking, fake_telegram, fake_openai):
    fake_telegram.add_file("voice-lie", ogg_opus(30, claimed_seconds=2))

    feed(talking.voice("voice-lie", duration=2))

    [event] = _voice_events()
    assert event.audio_seconds == 30


def test_audio_longer_than_declared_and_over_the_limit_is_refused(feed, talking, fake_telegram, fake_openai, settings):
    settings.TELEGRAM_VOICE_MAX_SECONDS = 30
    fake_telegram.add_file("voice-long", ogg_opus(45, claimed_seconds=5))

    feed(talking.voice("voice-long", duration=5))

    [refusal] = fake_telegram.sent_texts(talking.chat_id)
    assert "too long" in refusal
    assert _transcriptions(fake_openai) == []
    assert not PeriodCounter.objects.filter(requests__gt=0).exists()


def test_a_declared_duration_over_the_limit_is_refused_before_any_download(
    feed, talking, fake_telegram, fake_openai, settings
):
    settings.TELEGRAM_VOICE_MAX_SECONDS = 30
    fake_telegram.add_file("voice-2", ogg_opus(31))

    feed(talking.voice("voice-2", duration=31))

    [refusal] = fake_telegram.sent_texts(talking.chat_id)
    assert "30 seconds" in refusal
    assert fake_telegram.calls_of("getFile") == []
    assert fake_openai.requests == []


def test_a_file_over_the_size_limit_is_never_downloaded(feed, talking, fake_telegram, fake_openai, settings):
    audio = ogg_opus(20)
    settings.TELEGRAM_VOICE_MAX_BYTES = len(audio) - 1
    fake_telegram.add_file("voice-big", audio)

    feed(talking.voice("voice-big", duration=3))

    assert fake_telegram.calls_of("getFile")
    assert fake_telegram.calls_of("download") == []
    [refusal] = fake_telegram.sent_texts(talking.chat_id)
    assert "too large" in refusal
    assert fake_openai.requests == []


def test_audio_that_is_not_ogg_opus_is_refused_unmetered(feed, talking, fake_telegram, fake_openai):
    fake_telegram.add_file("voice-junk", b"RIFF" + b"\x00" * 500)

    feed(talking.voice("voice-junk", duration=3))

    [refusal] = fake_telegram.sent_texts(talking.chat_id)
    assert "could not read" in refusal
    assert fake_openai.requests == []


def test_a_used_up_quota_stops_the_transcription(feed, talking, fake_telegram, fake_openai, catalog):
    catalog.trial.quota_requests = 1
    catalog.trial.save()
    feed(talking.text("one question"))
    fake_telegram.clear()
    fake_telegram.add_file("voice-3", ogg_opus(4))

    feed(talking.voice("voice-3", duration=4))

    [refusal] = fake_telegram.sent_texts(talking.chat_id)
    assert "You have used all requests" in refusal
    assert _transcriptions(fake_openai) == []
    denied = UsageEvent.objects.filter(outcome=Outcome.DENIED).get()
    assert denied.error_code == "quota_exceeded"


def test_the_rate_limit_applies_to_voice(feed, talking, fake_telegram, fake_openai, same_rate_window):
    account = BillingAccount.objects.get()
    PolicyRule.objects.create(organization=account.organization, kind="rate_limit", requests_per_minute=1)
    fake_telegram.add_file("voice-4", ogg_opus(4))
    fake_telegram.add_file("voice-5", ogg_opus(4))

    feed(talking.voice("voice-4", duration=4))
    feed(talking.voice("voice-5", duration=4))

    assert len(_transcriptions(fake_openai)) == 1
    assert "too fast" in fake_telegram.sent_texts(talking.chat_id)[-1]


def test_a_failed_transcription_gives_the_request_back(feed, talking, fake_telegram, fake_openai):
    fake_openai.mode = "fail_500"
    fake_telegram.add_file("voice-6", ogg_opus(4))

    feed(talking.voice("voice-6", duration=4))

    [event] = _voice_events()
    assert (event.outcome, event.error_code, event.audio_seconds) == (Outcome.ERROR, "upstream_error", 4)
    assert PeriodCounter.objects.get().requests == 0
