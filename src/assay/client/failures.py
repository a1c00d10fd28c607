"""Failed requests tallied by kind, with the first message of each, so a run can say on the console why
its requests failed (``400 ×120: max_tokens is too large``) rather than only in its records."""

from __future__ import annotations

from dataclasses import dataclass, field

from assay.errors import ModelError


@dataclass
class FailureTally:
    """Counts of failed requests per kind (the HTTP status for ``http_status``) and each kind's first message,
    out of ``requests`` sent."""

    requests: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    first_message: dict[str, str] = field(default_factory=dict)

    def add(self, kind: str, status: int | None, message: str, count: int = 1) -> None:
        """Count ``count`` failures of ``kind`` (with ``status`` for HTTP errors); keep the first message."""
        label = str(status) if kind == "http_status" and status is not None else kind
        prefix = f"HTTP {status}: "
        if label == str(status) and message.startswith(prefix):
            message = message[len(prefix):]
        self.counts[label] = self.counts.get(label, 0) + count
        self.first_message.setdefault(label, message)

    def merge(self, other: FailureTally) -> None:
        """Add every request and failure counted in ``other``."""
        self.requests += other.requests
        for label, count in other.counts.items():
            self.counts[label] = self.counts.get(label, 0) + count
            self.first_message.setdefault(label, other.first_message[label])

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def all_failed(self) -> bool:
        """Requests were sent and not one succeeded."""
        return self.requests > 0 and self.total >= self.requests

    def header(self) -> str:
        """``3 of 40 requests failed:``, the line above ``lines()``."""
        return f"{self.total} of {self.requests} requests failed:"

    def all_failed_error(self, where: str) -> ModelError:
        """The one-line error of a run none of whose requests succeeded (``where``: its records)."""
        return ModelError(f"every request failed ({self.total} of {self.requests}), so there is no result: "
                          + "; ".join(self.lines(200)) + f" (records in {where})")

    def lines(self, width: int = 300) -> list[str]:
        """``400 ×120: <the server's first message>``, the most frequent kind first."""
        ordered = sorted(self.counts.items(), key=lambda item: -item[1])
        return [f"{label} ×{count}: {_shorten(self.first_message[label], width)}" for label, count in ordered]


def _shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
