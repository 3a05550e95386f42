"""Tiny Ogg Opus files for tests: real Ogg framing and Opus packet headers (the payload is silence
padding), so the duration an honest decoder would play is known exactly."""

import struct

from mutagen.ogg import OggPage

PRE_SKIP = 312
SAMPLES_PER_SECOND = 48_000
# TOC byte: configuration 31 (CELT, 20 ms frames), one frame per packet.
PACKET_20MS = bytes([31 << 3]) + b"\x00" * 20
PACKETS_PER_PAGE = 50


def ogg_opus(seconds: float, *, claimed_seconds: float | None = None) -> bytes:
    """`seconds` of Opus audio; the last granule position says `claimed_seconds` when given (a lie)."""
    head = b"OpusHead" + bytes([1, 1]) + struct.pack("<HIhB", PRE_SKIP, SAMPLES_PER_SECOND, 0, 0)
    tags = b"OpusTags" + struct.pack("<I", 4) + b"test" + struct.pack("<I", 0)
    pages = [_page(0, [head], position=0, first=True), _page(1, [tags], position=0)]
    packets = [PACKET_20MS] * round(seconds * 50)
    chunks = [packets[i : i + PACKETS_PER_PAGE] for i in range(0, len(packets), PACKETS_PER_PAGE)] or [[]]
    for index, chunk in enumerate(chunks):
        played = (index * PACKETS_PER_PAGE + len(chunk)) * SAMPLES_PER_SECOND // 50
        pages.append(_page(index + 2, chunk, position=PRE_SKIP + played))
    pages[-1].last = True
    if claimed_seconds is not None:
        pages[-1].position = PRE_SKIP + int(claimed_seconds * SAMPLES_PER_SECOND)
    return b"".join(page.write() for page in pages)


def _page(sequence: int, packets: list[bytes], *, position: int, first: bool = False) -> OggPage:
    page = OggPage()
    page.serial, page.sequence, page.position, page.first = 1, sequence, position, first
    page.packets = packets
    return page
