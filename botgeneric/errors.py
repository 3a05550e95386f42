"""The one exception family services raise; every channel maps `code` to its own words."""

from typing import Any


class DomainError(Exception):
    """A rule said no. `code` is stable (clients switch on it); `detail` is for humans."""

    code = "error"
    http_status = 400

    def __init__(
        self,
        code: str | None = None,
        detail: str = "",
        http_status: int | None = None,
        extra: dict[str, Any] | None = None,
    ):
        self.code = code or self.code
        self.detail = detail or self.code
        self.http_status = http_status or self.http_status
        self.extra = extra or {}
        super().__init__(self.detail)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "detail": str(self.detail), **self.extra}
