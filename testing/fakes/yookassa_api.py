"""A local fake of the YooKassa API v3 payments, so the real `yookassa` SDK runs.

Basic auth with the shop id and secret key; POST /v3/payments honours Idempotence-Key (the same
key returns the same payment); GET /v3/payments/{id}. Tests decide outcomes with `set_status`
and `auto_status` (what a payment with a saved method becomes at once).
"""

import base64
import json
import threading
import uuid
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer

from testing.fakes.json_http import FakeControls, JsonRequestHandler

SHOP_ID = "123456"
SECRET_KEY = "test_secret_key_0123456789"


class FakeYooKassa(FakeControls):
    def __init__(self):
        super().__init__()
        self.payments: dict[str, dict] = {}
        self.by_key: dict[str, str] = {}
        self.requests: list[tuple[str, str, dict, dict]] = []
        #: Status a new payment charged to a saved method gets at once (real YooKassa: usually succeeded).
        self.auto_status = "succeeded"
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v3"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def start(self) -> "FakeYooKassa":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()

    def set_status(self, payment_id: str, status: str, *, amount: str | None = None) -> dict:
        """What the shop's dashboard would show after the customer paid (or did not)."""
        payment = self.payments[payment_id]
        payment["status"] = status
        payment["paid"] = status == "succeeded"
        if amount is not None:
            payment["amount"]["value"] = amount
        if status == "succeeded" and payment.get("_save"):
            payment["payment_method"]["saved"] = True
        if status == "canceled":
            payment["cancellation_details"] = {"party": "payment_network", "reason": "insufficient_funds"}
        return payment

    def public(self, payment: dict) -> dict:
        return {key: value for key, value in payment.items() if not key.startswith("_")}

    def _create(self, body: dict) -> dict:
        payment_id = str(uuid.uuid4())
        saved_method = body.get("payment_method_id")
        status = self.auto_status if saved_method else "pending"
        payment = {
            "id": payment_id,
            "status": status,
            "paid": status == "succeeded",
            "amount": body["amount"],
            "description": body.get("description", ""),
            "metadata": body.get("metadata", {}),
            "created_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "test": True,
            "refundable": False,
            "recipient": {"account_id": SHOP_ID, "gateway_id": "100500"},
            "payment_method": {
                "type": "bank_card",
                "id": saved_method or str(uuid.uuid4()),
                "saved": bool(saved_method),
            },
            "_save": bool(body.get("save_payment_method")),
        }
        if not saved_method:
            payment["confirmation"] = {
                "type": "redirect",
                "return_url": body.get("confirmation", {}).get("return_url", ""),
                "confirmation_url": f"https://yoomoney.test/checkout/payments/v2/contract?orderId={payment_id}",
            }
        if status == "canceled":
            payment["cancellation_details"] = {"party": "payment_network", "reason": "insufficient_funds"}
        return payment

    def _handler(self):
        fake = self
        expected_auth = "Basic " + base64.b64encode(f"{SHOP_ID}:{SECRET_KEY}".encode()).decode()

        class Handler(JsonRequestHandler):
            def _error(self, status: int, code: str, description: str) -> None:
                body = {"type": "error", "id": str(uuid.uuid4()), "code": code, "description": description}
                self._reply(status, body)

            def _authorized(self) -> bool:
                if self.headers.get("Authorization") != expected_auth:
                    self._error(401, "invalid_credentials", "Basic authentication failed")
                    return False
                return True

            def do_GET(self):
                fake.requests.append(("GET", self.path, dict(self.headers), {}))
                fake.pause(self.command, self.path)
                if not self._authorized():
                    return
                payment_id = self.path.split("?")[0].rsplit("/", 1)[-1]
                payment = fake.payments.get(payment_id)
                if not self.path.startswith("/v3/payments/") or payment is None:
                    return self._error(404, "not_found", "Payment not found")
                self._reply(200, fake.public(payment))

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                fake.requests.append(("POST", self.path, dict(self.headers), body))
                fake.pause(self.command, self.path)
                if not self._authorized():
                    return
                if self.path != "/v3/payments":
                    return self._error(404, "not_found", "Route not found")
                key = self.headers.get("Idempotence-Key")
                if not key:
                    return self._error(400, "invalid_request", "Idempotence-Key header is required")
                if "amount" not in body:
                    return self._error(400, "invalid_request", "amount is required")
                with fake._lock:
                    if key in fake.by_key:
                        return self._reply(200, fake.public(fake.payments[fake.by_key[key]]))
                    payment = fake._create(body)
                    fake.payments[payment["id"]] = payment
                    fake.by_key[key] = payment["id"]
                self._reply(200, fake.public(payment))

        return Handler
