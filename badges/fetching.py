"""The verifier's one way to read a URL: safe against SSRF, bounded in size and time, local for our own URLs.

A verifier fetches URLs that strangers choose (badge URLs, ``kid``s, status lists, DID documents), so:

* only ``http``/``https``; the host is resolved once, **every** address is checked and the connection goes to
  a checked address (a second DNS answer cannot rebind it to an internal one); private, loopback,
  link-local, multicast, reserved and unspecified addresses are refused unless ``VERIFY_ALLOW_PRIVATE_URLS``;
* redirects are followed by hand, up to ``MAX_REDIRECTS``, each hop checked the same way;
* the body is read up to ``VERIFY_MAX_BYTES`` and the whole fetch must finish within ``VERIFY_FETCH_TIMEOUT``.

URLs on our own ``BASE_URL`` (and ``did:web`` documents of our host) never touch the network: they are served
by the app itself in a fresh app context, so verifying our own badges works offline, in tests, and behind
a firewall that blocks hairpin traffic.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from flask import current_app, has_app_context

MAX_REDIRECTS = 5
USER_AGENT = "microcred-verifier/1 (+Open Badges 3.0)"


class FetchError(Exception):
    """The URL was refused or could not be read; the message is fit to show a user."""


@dataclass(frozen=True)
class Fetched:
    url: str
    status: int
    content_type: str
    body: bytes
    location: str = ""


def _settings() -> tuple[bool, float, int]:
    if has_app_context():
        config = current_app.config
        return (
            bool(config.get("VERIFY_ALLOW_PRIVATE_URLS", False)),
            float(config.get("VERIFY_FETCH_TIMEOUT", 5)),
            int(config.get("VERIFY_MAX_BYTES", 1024 * 1024)),
        )
    return False, 5.0, 1024 * 1024


def address_allowed(address: str) -> bool:
    """Whether a resolved address is a public unicast one we may connect to."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if isinstance(ip, ipaddress.IPv6Address) and ip.sixtofour is not None:
        ip = ip.sixtofour
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified or ip.is_loopback)


def did_web_url(did: str) -> str:
    """The HTTPS URL of a did:web DID document (did:web:host%3Aport:path:segments → …/path/segments/did.json)."""
    method_specific = did.split("#", 1)[0].removeprefix("did:web:")
    if not method_specific or did == method_specific:
        raise FetchError(f"not a did:web DID: {did!r}")
    host, *path = method_specific.split(":")
    host = unquote(host)
    if "/" in host or "@" in host:
        raise FetchError(f"malformed did:web host: {host!r}")
    suffix = "/".join(unquote(part) for part in path) + "/did.json" if path else ".well-known/did.json"
    return f"https://{host}/{suffix}"


def is_local(url: str) -> bool:
    """Whether ``url`` is on this service's own origin (scheme ignored: did:web always says https)."""
    if not has_app_context():
        return False
    base = urlsplit(current_app.config["BASE_URL"])
    parts = urlsplit(url)
    return parts.scheme in {"http", "https"} and parts.netloc.lower() == base.netloc.lower()


def fetch(url: str, *, accept: str = "application/json") -> Fetched:
    """GET ``url`` safely (see the module docstring). Raises FetchError on refusal, failure or a non-2xx answer."""
    allow_private, timeout, max_bytes = _settings()
    deadline = time.monotonic() + timeout
    current = url
    for _hop in range(MAX_REDIRECTS + 1):
        if is_local(current):
            result = _fetch_local(current, accept)
        else:
            result = _fetch_remote(current, accept, allow_private, deadline, max_bytes)
        if result.status in (301, 302, 303, 307, 308):
            location = result.location
            if not location:
                raise FetchError(f"{current} redirects without a Location")
            current = urljoin(current, location)
            continue
        if not 200 <= result.status < 300:
            raise FetchError(f"{current} answered HTTP {result.status}")
        if len(result.body) > max_bytes:
            raise FetchError(f"{current} is larger than {max_bytes} bytes")
        return result
    raise FetchError(f"more than {MAX_REDIRECTS} redirects from {url}")


def _check_url(url: str) -> tuple[str, str, int, str]:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"}:
        raise FetchError(f"only http and https URLs are fetched, not {parts.scheme or 'a relative URL'}: {url}")
    if not parts.hostname:
        raise FetchError(f"URL has no host: {url}")
    if parts.username or parts.password:
        raise FetchError("URLs with credentials are not fetched")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise FetchError(f"URL has an invalid port: {url}") from None
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme, parts.hostname, port, path


def _resolve(host: str, port: int, allow_private: bool) -> str:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"cannot resolve {host}: {exc}") from None
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise FetchError(f"cannot resolve {host}")
    if not allow_private:
        for address in addresses:
            if not address_allowed(address):
                raise FetchError(
                    f"refused: {host} resolves to {address}, a private, loopback, link-local or reserved address"
                )
    return addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def _fetch_remote(url: str, accept: str, allow_private: bool, deadline: float, max_bytes: int) -> Fetched:
    scheme, host, port, path = _check_url(url)
    address = _resolve(host, port, allow_private)
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise FetchError(f"timed out fetching {url}")
    kind = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    connection = kind(host, port, address, remaining)
    try:
        connection.request("GET", path, headers={"Accept": accept, "User-Agent": USER_AGENT})
        response = connection.getresponse()
        if response.status in (301, 302, 303, 307, 308):
            return Fetched(url, response.status, "", b"", response.getheader("Location") or "")
        length = response.getheader("Content-Length")
        if length and length.isdigit() and int(length) > max_bytes:
            raise FetchError(f"{url} is larger than {max_bytes} bytes")
        chunks: list[bytes] = []
        size = 0
        while True:
            if time.monotonic() > deadline:
                raise FetchError(f"timed out fetching {url}")
            chunk = response.read(65536)
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise FetchError(f"{url} is larger than {max_bytes} bytes")
            chunks.append(chunk)
        return Fetched(url, response.status, response.getheader("Content-Type") or "", b"".join(chunks))
    except (OSError, http.client.HTTPException) as exc:
        raise FetchError(f"cannot fetch {url}: {type(exc).__name__}: {exc}") from None
    finally:
        connection.close()


def _fetch_local(url: str, accept: str) -> Fetched:
    parts = urlsplit(url)
    path = parts.path or "/"
    app: Any = current_app._get_current_object()  # type: ignore[attr-defined]
    # A fresh app context, as a separate request would have: its own ``g`` (no signed-in user) and DB session.
    with app.app_context():
        client = app.test_client()
        response = client.get(
            path,
            query_string=parts.query,
            headers={"Accept": accept, "User-Agent": USER_AGENT},
            base_url=f"{parts.scheme}://{parts.netloc}",
        )
        try:
            if response.status_code in (301, 302, 303, 307, 308):
                return Fetched(url, response.status_code, "", b"", response.headers.get("Location", ""))
            return Fetched(url, response.status_code, response.headers.get("Content-Type", ""), response.get_data())
        finally:
            response.close()
