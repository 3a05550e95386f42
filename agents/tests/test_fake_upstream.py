"""The fake OpenAI upstream itself: it must carry the benchmark's 200+ concurrent connections."""

import asyncio
import time

import aiohttp

CONCURRENT = 250
LATENCY_MS = 200


async def _hammer(url: str) -> list[int]:
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(number: int) -> int:
            body = {"model": "m", "messages": [{"role": "user", "content": f"call {number}"}]}
            async with session.post(url, json=body) as response:
                await response.json()
                return response.status

        return await asyncio.gather(*(one(n) for n in range(CONCURRENT)))


def test_serves_250_concurrent_chat_completions_in_parallel(fake_openai):
    fake_openai.latency_ms = LATENCY_MS
    started = time.monotonic()

    statuses = asyncio.run(_hammer(f"{fake_openai.base_url}/chat/completions"))

    elapsed = time.monotonic() - started
    assert statuses == [200] * CONCURRENT
    assert len(fake_openai.chat_requests) == CONCURRENT
    # One after another this would take 50 s; in parallel it is about one latency.
    assert elapsed < CONCURRENT * LATENCY_MS / 1000 / 5
