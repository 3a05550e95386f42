"""One POST of a delivery, to an address the SSRF guard approved: no redirects followed, a timeout on
every step, only the first bytes of the answer read. Knows nothing of deliveries or retries."""

import time
from dataclasses import dataclass

import urllib3
from django.conf import settings

from webhooks.addresses import AddressRefused, target

EXCERPT_BYTES = 500
USER_AGENT = "bot-generic-webhooks/1"


@dataclass(frozen=True)
class PostResult:
    succeeded: bool
    status_code: int | None
    excerpt: str
    error: str
    duration_ms: int


def post(*, url: str, body: bytes, headers: dict[str, str]) -> PostResult:
    """POST `body` to `url`. The host is resolved and checked now, and the connection goes to the address
    checked (TLS still verifies the name), so a name that changed its answer cannot lead inside."""
    started = time.monotonic()

    def result(succeeded=False, status_code=None, excerpt="", error="") -> PostResult:
        duration = int((time.monotonic() - started) * 1000)
        return PostResult(succeeded, status_code, excerpt, error[:300], duration)

    try:
        where = target(url)
    except AddressRefused as refusal:
        return result(error=f"Refused: {refusal}")
    timeout = urllib3.Timeout(total=settings.WEBHOOKS_TIMEOUT_SECONDS)
    address = where.addresses[0]
    if where.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            address, where.port, server_hostname=where.host, assert_hostname=where.host, cert_reqs="CERT_REQUIRED"
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, where.port)
    request_headers = {
        **headers,
        "Host": where.host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }
    try:
        response = pool.urlopen(
            "POST",
            where.path,
            body=body,
            headers=request_headers,
            redirect=False,
            retries=False,
            timeout=timeout,
            preload_content=False,
        )
        try:
            excerpt = response.read(EXCERPT_BYTES, decode_content=False).decode("utf-8", errors="replace")
        finally:
            response.close()
    except urllib3.exceptions.HTTPError as exc:
        return result(error=f"{type(exc).__name__}: {exc}")
    finally:
        pool.close()
    return result(200 <= response.status < 300, response.status, excerpt)
