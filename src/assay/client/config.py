"""Where and how the client talks to a server."""

from __future__ import annotations

import base64
import re
from typing import Annotated, Any, Literal
from urllib.parse import unquote, urlsplit, urlunsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, field_validator

from assay.errors import ConfigError

Api = Literal["chat", "completions"]

# Every request's deadline unless one is set: a stalled server costs at most this, and an hour of decoding at
# 20 tokens/s (72,000 tokens) still fits the longest reasoning budgets.
DEFAULT_TOTAL_TIMEOUT_S = 3600.0

# Query parameters that carry a credential (?key=, ?api_key=, ?access_token=, ?sig=...): redacted wherever
# a URL is written or shown.
_SECRET_QUERY = re.compile(r"key|token|secret|passw|auth|sig|credential", re.IGNORECASE)

# Endpoint suffixes a user may paste as part of the URL; the client adds the right one itself.
_SUFFIXES = ("/chat/completions", "/completions", "/embeddings", "/models")


def split_endpoint_url(url: str) -> tuple[str, Api | None]:
    """Split a URL such as ``http://h:8000/v1/chat/completions`` into the base URL and the api it names.

    A URL with no path gets ``/v1``. Raises ``ConfigError`` for anything that is not an http(s) URL.
    """
    text = (url or "").strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"bad URL {redact_url(url)!r}: expected http(s)://HOST[:PORT]/v1[/chat/completions]")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise ConfigError(f"bad URL {redact_url(url)!r}: the port is not a number in 1-65535") from None
    path = parts.path.rstrip("/")
    api: Api | None = None
    for suffix in _SUFFIXES:
        if path.endswith(suffix):
            path = path[: -len(suffix)]
            api = "chat" if suffix == "/chat/completions" else "completions" if suffix == "/completions" else None
            break
    if not path:
        path = "/v1"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, "")), api


def _checked_url(url: str) -> str:
    try:
        split_endpoint_url(url)
    except ConfigError as exc:
        raise ValueError(str(exc)) from None
    return url


# A config field holding a server's URL: checked when the config is built (one line naming the flag), kept as given.
EndpointUrl = Annotated[str, AfterValidator(_checked_url)]


def redact_url(url: str | None) -> str | None:
    """``url`` as it may be written or shown: ``user:password@`` becomes ``***@`` and the value of every query
    parameter that names a credential (``key``, ``api_key``, ``token``, ``sig``...) becomes ``***``."""
    if not url:
        return url
    parts = urlsplit(url.strip())
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rpartition("@")[2]
    query = "&".join(
        f"{name}=***" if sep and _SECRET_QUERY.search(name) else f"{name}{sep}{value}"
        for name, sep, value in (item.partition("=") for item in parts.query.split("&") if item))
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


# Keys whose values are credentials, wherever they sit in a written config or fingerprint: api_key, secret_key,
# password, authorization, token / hf_token / access_token (not max_tokens or pad_token).
_SECRET_KEY = re.compile(r"^(.*_)?(api_?key|secret(_key)?|access_key|password|passwd|authorization)$"
                         r"|^((access|auth|api|hf|bearer)_)?token$", re.IGNORECASE)


def scrub_secrets(value: Any) -> Any:
    """``value`` (a config or fingerprint: dicts, lists, strings) as it may be written: the value of every key that
    names a credential becomes ``***`` and every URL string loses its credentials (:func:`redact_url`), at any
    depth (a baseline model's ``api_key`` inside ``dataset_args.<name>.extra_params`` too)."""
    if isinstance(value, dict):
        return {key: ("***" if item else item) if isinstance(key, str) and _SECRET_KEY.match(key)
                else scrub_secrets(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub_secrets(item) for item in value]
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        return redact_url(value)
    return value


class ClientConfig(BaseModel):
    """Connection settings for one OpenAI-compatible server.

    ``base_url`` may be given with or without the ``/chat/completions`` or ``/completions`` suffix.
    Timeouts: ``connect_timeout_s`` to open a connection, ``read_timeout_s`` for the headers and then between two
    stream events carrying answer (content, reasoning, usage: keep-alive bytes don't count, so a stalled stream
    ends after it), ``total_timeout_s`` for each attempt of a request (3600 s, room for long reasoning; ``None``:
    no limit).
    ``max_retries`` retries 429, 5xx, timeouts and dropped connections with exponential backoff (0 for
    load tests, which record failures instead).
    """

    model_config = ConfigDict(extra="forbid")

    base_url: str
    api_key: SecretStr | None = None
    model: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    connect_timeout_s: float = Field(default=10.0, gt=0)
    read_timeout_s: float = Field(default=600.0, gt=0)
    total_timeout_s: float | None = Field(default=DEFAULT_TOTAL_TIMEOUT_S, gt=0)
    max_retries: int = Field(default=0, ge=0)
    retry_backoff_s: float = Field(default=0.5, ge=0)
    retry_max_backoff_s: float = Field(default=30.0, ge=0)
    max_connections: int = Field(default=0, ge=0, description="0 = no limit")
    include_usage: bool = True
    split_think: bool = True
    think_end_tag: str = "</think>"

    @field_validator("base_url")
    @classmethod
    def _normalise_url(cls, value: str) -> str:
        try:
            return split_endpoint_url(value)[0]
        except ConfigError as exc:
            raise ValueError(str(exc)) from None

    def url_for(self, api: str) -> str:
        """The URL requests for ``api`` (chat, completions, embeddings, rerank, models) go to: the base URL's
        path plus the endpoint, its query kept (``?key=``), its ``user:password@`` sent as a header instead."""
        parts = urlsplit(self.base_url)
        suffix = {"chat": "/chat/completions"}.get(api, f"/{api}")
        host = parts.netloc.rpartition("@")[2]
        return urlunsplit((parts.scheme, host, parts.path + suffix, parts.query, ""))

    @property
    def display_url(self) -> str:
        """The base URL with its credentials redacted, for messages, logs and written files."""
        return redact_url(self.base_url) or ""

    def request_headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
        parts = urlsplit(self.base_url)
        if parts.username is not None:  # http://user:password@host: HTTP basic auth, unless a key is given
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        if self.api_key is not None and self.api_key.get_secret_value():
            headers["Authorization"] = f"Bearer {self.api_key.get_secret_value()}"
        headers.update(self.headers)
        return headers
