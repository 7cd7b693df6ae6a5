"""fetch's URL guard: URL normalisation and keys, public-address checks, and a resolver that
drops private, loopback, link-local and other non-global addresses (aiohttp connects to the
addresses it returned, so the address checked is the address used)."""
from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import xxhash


def normalize_url(raw: str) -> tuple[str | None, str]:
    """(normalised URL, "") or (None, why it is not a fetchable URL).

    Lower-case scheme and host (IDNA for non-ASCII hosts), default port dropped, fragment
    dropped, empty path -> "/", path and query percent-encoded the way browsers send them."""
    import yarl

    s = raw.strip()
    if not s:
        return None, "empty URL"
    if any(c in s for c in "\r\n\t"):
        return None, "control character in URL"
    try:
        u = yarl.URL(s)
    except (ValueError, TypeError, UnicodeError) as e:
        return None, str(e) or "malformed URL"
    if not u.scheme:
        return None, "no scheme (expected http:// or https://)"
    if u.scheme not in ("http", "https"):
        return None, f"scheme {u.scheme}: is not http or https"
    host = u.raw_host
    if not host:
        return None, "no host"
    if ":" not in host:  # not an IPv6 literal: a DNS name or IPv4
        h = host.rstrip(".")
        if not h or any(not (c.isalnum() or c in "-._") for c in h) or ".." in h:
            return None, f"invalid host {host!r}"
    try:
        out = str(u.with_fragment(None))
        parts = urlsplit(out)
        if not parts.path:  # yarl prints "http://h" and "http://h?q": browsers send "/"
            out = urlunsplit(parts._replace(path="/"))
    except (ValueError, TypeError, UnicodeError) as e:
        return None, str(e) or "malformed URL"
    return out, ""


def url_key(url: str) -> int:
    """Dedup/resume key: a 64-bit hash of the normalised URL (or of the raw string when it does
    not normalise), so the seen-set costs ~70 bytes a URL instead of the URL itself."""
    norm, _ = normalize_url(url)
    return xxhash.xxh3_64_intdigest((norm or url.strip()).encode("utf-8", "surrogatepass"))


def is_public_ip(addr: str) -> bool:
    """False for private, loopback, link-local, multicast, reserved, CGNAT and other
    non-global addresses (IPv4-mapped IPv6 included)."""
    try:
        ip = ipaddress.ip_address(addr.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip.sixtofour is not None:
            ip = ip.sixtofour
    return ip.is_global and not ip.is_multicast


class PrivateAddressError(OSError):
    """A host name resolved only to addresses we refuse to connect to."""

    def __init__(self, host: str, addr: str):
        super().__init__(f"{host} resolves to non-public address {addr}")
        self.host = host
        self.addr = addr


def _make_resolver(allow_private: bool) -> Any:
    from aiohttp.abc import AbstractResolver
    from aiohttp.resolver import ThreadedResolver

    class GuardedResolver(AbstractResolver):
        """Resolves, then keeps only public addresses. aiohttp's connector connects to exactly
        what this returns, so the checked address is the connected one."""

        def __init__(self) -> None:
            self._inner = ThreadedResolver()

        async def resolve(self, host: str, port: int = 0,
                          family: socket.AddressFamily = socket.AF_INET) -> list[Any]:
            infos = await self._inner.resolve(host, port, family)
            if allow_private:
                return infos
            ok = [i for i in infos if is_public_ip(i["host"])]
            if not ok:
                raise PrivateAddressError(host, infos[0]["host"] if infos else "?")
            return ok

        async def close(self) -> None:
            await self._inner.close()

    return GuardedResolver()



def join_url(base: str, location: str) -> Any:
    import yarl

    try:
        return yarl.URL(base, encoded=True).join(yarl.URL(location.strip()))
    except (ValueError, TypeError):
        return location


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
        return True
    except ValueError:
        return False
