"""A local fake of the Paddle Billing API (the parts we use), so the real paddle-python-sdk runs.

Speaks Paddle's wire format: bearer auth, `{"data": …, "meta": {"request_id"}}` envelopes,
`{"error": {"type", "code", "detail"}}` errors. Tests read `transactions`, `subscriptions` and
`requests`, and add subscriptions with `add_subscription` (GET /subscriptions/{id} reads one back, so tests
set its `status` and `current_billing_period` there); PATCH /subscriptions/{id} changes their
items (with a `proration_billing_mode`, as Paddle requires) or scheduled change. `fail_next` makes
the next POST or PATCH answer 500.
"""

import json
import threading
import uuid
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer

from testing.fakes.json_http import FakeControls, JsonRequestHandler

API_KEY = "pdl_test_apikey_0123456789"


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def paddle_price(price_id: str, amount_minor: str, currency: str) -> dict:
    """A catalog price as Paddle returns it."""
    return {
        "id": price_id,
        "product_id": "pro_fake",
        "description": price_id,
        "type": "standard",
        "name": price_id,
        "billing_cycle": {"interval": "month", "frequency": 1},
        "trial_period": None,
        "tax_mode": "account_setting",
        "unit_price": {"amount": amount_minor, "currency_code": currency},
        "unit_price_overrides": [],
        "quantity": {"minimum": 1, "maximum": 1},
        "status": "active",
        "custom_data": None,
        "import_meta": None,
        "created_at": _now(),
        "updated_at": _now(),
    }


class FakePaddle(FakeControls):
    """State of the fake: prices it knows (price id → (minor amount, currency)) and what was created."""

    def __init__(self):
        super().__init__()
        self.prices: dict[str, tuple[str, str]] = {}
        self.transactions: dict[str, dict] = {}
        self.subscriptions: dict[str, dict] = {}
        self.requests: list[tuple[str, str, dict]] = []
        self.fail_next = False
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def start(self) -> "FakePaddle":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()

    def transaction(self, price_id: str, *, custom_data: dict | None, status: str = "ready") -> dict:
        amount, currency = self.prices[price_id]
        totals = {
            "subtotal": amount,
            "discount": "0",
            "tax": "0",
            "total": amount,
            "credit": "0",
            "credit_to_balance": "0",
            "balance": amount,
            "grand_total": amount,
            "grand_total_tax": "0",
            "fee": None,
            "earnings": None,
            "currency_code": currency,
        }
        txn_id = f"txn_{uuid.uuid4().hex[:26]}"
        return {
            "id": txn_id,
            "status": status,
            "customer_id": None,
            "address_id": None,
            "business_id": None,
            "custom_data": custom_data,
            "currency_code": currency,
            "origin": "api",
            "subscription_id": None,
            "invoice_id": None,
            "invoice_number": None,
            "collection_mode": "automatic",
            "discount_id": None,
            "billing_details": None,
            "billing_period": None,
            "items": [{"price": paddle_price(price_id, amount, currency), "quantity": 1, "proration": None}],
            "details": {"tax_rates_used": [], "totals": totals, "line_items": []},
            "payments": [],
            "checkout": {"url": f"https://checkout.paddle.test/pay?_ptxn={txn_id}"},
            "created_at": _now(),
            "updated_at": _now(),
            "billed_at": None,
        }

    def subscription_item(self, price_id: str, quantity: int = 1) -> dict:
        """A subscription item as Paddle returns it, for one of the known prices."""
        amount, currency = self.prices[price_id]
        return {
            "status": "active",
            "quantity": quantity,
            "recurring": True,
            "created_at": _now(),
            "updated_at": _now(),
            "previously_billed_at": None,
            "next_billed_at": None,
            "trial_dates": None,
            "price": paddle_price(price_id, amount, currency),
            "product": {
                "id": "pro_fake",
                "name": "Plan",
                "status": "active",
                "tax_category": "standard",
                "created_at": _now(),
                "updated_at": _now(),
            },
        }

    def add_subscription(self, subscription_id: str, *, price_id: str, customer_id: str = "ctm_fake") -> dict:
        currency = self.prices[price_id][1]
        item = self.subscription_item(price_id)
        self.subscriptions[subscription_id] = {
            "id": subscription_id,
            "status": "active",
            "customer_id": customer_id,
            "address_id": "add_fake",
            "business_id": None,
            "currency_code": currency,
            "created_at": _now(),
            "updated_at": _now(),
            "started_at": _now(),
            "first_billed_at": _now(),
            "next_billed_at": None,
            "paused_at": None,
            "canceled_at": None,
            "collection_mode": "automatic",
            "billing_details": None,
            "current_billing_period": None,
            "billing_cycle": {"interval": "month", "frequency": 1},
            "scheduled_change": None,
            "items": [item],
            "custom_data": None,
            "management_urls": None,
            "discount": None,
            "import_meta": None,
        }
        return self.subscriptions[subscription_id]

    def _handler(self):
        fake = self

        class Handler(JsonRequestHandler):
            def _error(self, status: int, code: str, detail: str) -> None:
                error = {
                    "type": "request_error",
                    "code": code,
                    "detail": detail,
                    "documentation_url": f"https://developer.paddle.com/v1/errors/shared/{code}",
                }
                self._reply(status, {"error": error, "meta": {"request_id": str(uuid.uuid4())}})

            def _data(self, data: dict) -> None:
                self._reply(200, {"data": data, "meta": {"request_id": str(uuid.uuid4())}})

            def _body(self) -> dict:
                length = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(length) or b"{}")

            def _authorized(self) -> bool:
                if self.headers.get("Authorization") != f"Bearer {API_KEY}":
                    self._error(403, "forbidden", "Invalid API key")
                    return False
                return True

            def do_GET(self):
                fake.requests.append(("GET", self.path, {}))
                fake.pause(self.command, self.path)
                if not self._authorized():
                    return
                path = self.path.split("?")[0]
                if path.startswith("/transactions/") and path.split("/")[2] in fake.transactions:
                    return self._data(fake.transactions[path.split("/")[2]])
                if path.startswith("/subscriptions/") and path.split("/")[2] in fake.subscriptions:
                    return self._data(fake.subscriptions[path.split("/")[2]])
                self._error(404, "not_found", "Entity not found")

            def do_POST(self):
                body = self._body()
                fake.requests.append(("POST", self.path, body))
                fake.pause(self.command, self.path)
                if not self._authorized():
                    return
                if fake.fail_next:
                    fake.fail_next = False
                    return self._error(500, "internal_error", "Something went wrong")
                path = self.path.split("?")[0]
                if path == "/transactions":
                    price_id = body["items"][0]["price_id"]
                    if price_id not in fake.prices:
                        return self._error(400, "price_not_found", f"Price {price_id} not found")
                    transaction = fake.transaction(price_id, custom_data=body.get("custom_data"))
                    fake.transactions[transaction["id"]] = transaction
                    return self._data(transaction)
                parts = path.strip("/").split("/")
                if len(parts) == 3 and parts[0] == "subscriptions" and parts[2] == "cancel":
                    subscription = fake.subscriptions.get(parts[1])
                    if subscription is None:
                        return self._error(404, "not_found", "Entity not found")
                    if body.get("effective_from") == "immediately":
                        subscription["status"] = "canceled"
                        subscription["canceled_at"] = _now()
                    else:
                        subscription["scheduled_change"] = {"action": "cancel", "effective_at": _now()}
                    return self._data(subscription)
                self._error(404, "not_found", "Route not found")

            def do_PATCH(self):
                body = self._body()
                fake.requests.append(("PATCH", self.path, body))
                fake.pause(self.command, self.path)
                if not self._authorized():
                    return
                if fake.fail_next:
                    fake.fail_next = False
                    return self._error(500, "internal_error", "Something went wrong")
                parts = self.path.split("?")[0].strip("/").split("/")
                subscription = fake.subscriptions.get(parts[1]) if parts[0] == "subscriptions" else None
                if subscription is None:
                    return self._error(404, "not_found", "Entity not found")
                if "items" in body:
                    unknown = [item["price_id"] for item in body["items"] if item["price_id"] not in fake.prices]
                    if unknown:
                        return self._error(400, "price_not_found", f"Price {unknown[0]} not found")
                    if "proration_billing_mode" not in body:
                        return self._error(400, "invalid_field", "proration_billing_mode is required")
                    subscription["items"] = [
                        fake.subscription_item(item["price_id"], item.get("quantity", 1)) for item in body["items"]
                    ]
                if "scheduled_change" in body:
                    subscription["scheduled_change"] = body["scheduled_change"]
                return self._data(subscription)

        return Handler
