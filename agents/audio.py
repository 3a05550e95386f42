"""How long a voice message really is, measured from its audio, not from what the client declared.

Telegram voice messages are Ogg Opus. The duration is the sum of the Opus packets' own durations
(each packet's TOC byte says its frame size and frame count, RFC 6716 §3.1): what a decoder would
play, whatever the container's granule positions or the client claim. Anything else is refused.
"""

import io
import math

from mutagen.ogg import OggPage
from mutagen.ogg import error as OggError

from agents.errors import AgentErrorCode
from botgeneric.errors import DomainError

# Frame size in tenths of a millisecond by TOC configuration number (RFC 6716 §3.1, table 2).
_SILK_FRAMES = (100, 200, 400, 600)
_HYBRID_FRAMES = (100, 200)
_CELT_FRAMES = (25, 50, 100, 200)
_TENTHS_OF_MS_PER_SECOND = 10_000


class AudioUnreadable(DomainError):
    code = AgentErrorCode.AUDIO_UNREADABLE
    http_status = 400


def _frame_tenths_ms(config: int) -> int:
    if config < 12:
        return _SILK_FRAMES[config % 4]
    if config < 16:
        return _HYBRID_FRAMES[config % 2]
    return _CELT_FRAMES[config % 4]


def _packet_tenths_ms(packet: bytes) -> int:
    if not packet:
        return 0
    toc = packet[0]
    code = toc & 0x03
    if code == 0:
        frames = 1
    elif code in (1, 2):
        frames = 2
    else:
        if len(packet) < 2:
            raise AudioUnreadable(detail="A voice message packet is truncated.")
        frames = packet[1] & 0x3F
    return frames * _frame_tenths_ms(toc >> 3)


def _packets(audio: bytes) -> list[bytes]:
    stream = io.BytesIO(audio)
    pages = []
    try:
        while stream.tell() < len(audio):
            pages.append(OggPage(stream))
    except EOFError:
        pass  # trailing zero bytes after the last page
    except OggError as error:
        raise AudioUnreadable(detail="The voice message is not Ogg Opus audio.") from error
    serials = {page.serial for page in pages}
    if len(serials) != 1:
        raise AudioUnreadable(detail="The voice message must hold exactly one audio stream.")
    return OggPage.to_packets(pages, strict=False)


def opus_duration_seconds(audio: bytes) -> int:
    """The whole seconds (rounded up) of Opus audio in an Ogg container. Raises AudioUnreadable."""
    packets = _packets(audio)
    if len(packets) < 2 or not packets[0].startswith(b"OpusHead") or not packets[1].startswith(b"OpusTags"):
        raise AudioUnreadable(detail="The voice message is not Ogg Opus audio.")
    tenths_ms = sum(_packet_tenths_ms(packet) for packet in packets[2:])
    return math.ceil(tenths_ms / _TENTHS_OF_MS_PER_SECOND)
