"""The error hierarchy. The CLI turns any ``AssayError`` into one line on stderr and exit code 2."""

from __future__ import annotations


class AssayError(Exception):
    """Base of every error assay raises on purpose."""


class ConfigError(AssayError):
    """A bad option value, config file or combination of options."""


class DatasetError(AssayError):
    """A dataset that cannot be found, read or understood."""


class ModelError(AssayError):
    """A model or server that cannot be reached or misbehaves."""


class ClientError(ModelError):
    """A request to an OpenAI-compatible server failed.

    ``kind`` is a short stable tag recorded in results (``http_status``, ``connect``, ``connect_timeout``,
    ``read_timeout``, ``total_timeout``, ``disconnect``, ``malformed``, ``server_error``); ``retryable`` says whether a retry
    could help.
    """

    kind = "client"
    retryable = False

    def __init__(self, message: str, *, status: int | None = None, retry_after_s: float | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after_s = retry_after_s


class HTTPStatusError(ClientError):
    """The server answered with a non-2xx status."""

    kind = "http_status"

    @property
    def retryable(self) -> bool:  # type: ignore[override]
        return self.status is not None and (self.status == 429 or self.status >= 500)


class ConnectError(ClientError):
    """The server could not be reached (refused, DNS, TLS)."""

    kind = "connect"
    retryable = True


class RequestTimeout(ClientError):
    """Base of the two timeouts."""

    kind = "timeout"
    retryable = True


class ConnectTimeout(RequestTimeout):
    """No connection within the connect timeout."""

    kind = "connect_timeout"


class ReadTimeout(RequestTimeout):
    """No answer arrived within the read timeout (a stalled server, or a stream trickling only keep-alives)."""

    kind = "read_timeout"


class TotalTimeout(RequestTimeout):
    """The request ran past its total timeout. Not retried: an answer that took that long would again."""

    kind = "total_timeout"
    retryable = False


class DisconnectedError(ClientError):
    """The connection closed before the response was complete."""

    kind = "disconnect"
    retryable = True


class MalformedResponseError(ClientError):
    """The server sent something that is not the OpenAI protocol (bad JSON, bad SSE, missing fields)."""

    kind = "malformed"


class ServerReportedError(ClientError):
    """The server sent an error object in a 200 response or inside the stream."""

    kind = "server_error"
    retryable = True
