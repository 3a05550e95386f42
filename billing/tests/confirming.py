"""Making a customer's billing change the way clients must: preview it, then send its confirmation."""

from billing.services import preview_change


def preview(client, path: str, body: dict):
    """POST billing/preview with the body of the change to `path` (billing/subscribe or billing/cancel)."""
    action = "cancel" if path.rstrip("/").endswith("cancel") else "subscribe"
    return client.post("/api/v1/billing/preview", {**body, "action": action}, format="json")


def confirmed(client, path: str, body: dict):
    """The change with the confirmation its preview gave (the preview's refusal, if it refused)."""
    previewed = preview(client, path, body)
    if previewed.status_code != 200:
        return previewed
    return client.post(path, {**body, "confirmation": previewed.json()["confirmation"]}, format="json")


def confirmation_for(*, organization, actor, **change) -> str:
    """The confirmation of a change made through the services (`change`: preview_change's arguments)."""

    return preview_change(organization=organization, actor=actor, **change).confirmation
