"""Making a billing change on the dashboard the way people do: the confirm page, then its button."""

import re
from html import unescape
from urllib.parse import urlencode

CONFIRMATION = re.compile(r'name="confirmation" value="([^"]+)"')


def confirm_page(client, choice: dict):
    """GET the confirm page for a plan choice ({"plan", "provider", "currency"}) or {"cancel": "now"}."""
    return client.get(f"/billing/confirm/?{urlencode(choice)}")


def confirmed_post(client, choice: dict):
    """Press the confirm page's button: post the change with the page's confirmation."""
    page = confirm_page(client, choice)
    assert page.status_code == 200, page.content[:300]
    token = unescape(CONFIRMATION.search(page.content.decode()).group(1))
    if choice.get("cancel") == "now":
        return client.post("/billing/cancel/", {"immediate": "1", "confirmation": token})
    return client.post("/billing/subscribe/", {**choice, "confirmation": token})
