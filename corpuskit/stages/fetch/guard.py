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
        if _ends_in_number(host):
            # 127.1, 2130706433, 0177.0.0.1, 0x7f.1, 127.0.0.1. are all 127.0.0.1 to a
            # resolver: canonicalise so the address check (and the URL key) sees the address
            ip4 = parse_ipv4(host)
            if ip4 is None:
                return None, f"invalid IPv4 address {host!r}"
            if ip4 != host:
                try:
                    u = u.with_host(ip4)
                except (ValueError, TypeError) as e:
                    return None, str(e) or "malformed URL"
    try:
        out = str(u.with_fragment(None))
        parts = urlsplit(out)
        if not parts.path:  # yarl prints "http://h" and "http://h?q": browsers send "/"
            out = urlunsplit(parts._replace(path="/"))
    except (ValueError, TypeError, UnicodeError) as e:
        return None, str(e) or "malformed URL"
    return out, ""


def _ends_in_number(host: str) -> bool:
    """WHATWG URL: a host whose last label (one trailing dot aside) is a number is IPv4."""
    parts = host.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts.pop()
    last = parts[-1]
    if last and all(c in "0123456789" for c in last):
        return True
    return last[:2].lower() == "0x" and all(c in "0123456789abcdefABCDEF" for c in last[2:])


def _ipv4_part(part: str) -> int | None:
    if not part:
        return None
    if part[:2].lower() == "0x":
        digits, base, ok = part[2:], 16, "0123456789abcdefABCDEF"
    elif len(part) > 1 and part[0] == "0":
        digits, base, ok = part[1:], 8, "01234567"
    else:
        digits, base, ok = part, 10, "0123456789"
    if not digits:
        return 0
    if not all(c in ok for c in digits):
        return None
    return int(digits, base)


def parse_ipv4(host: str) -> str | None:
    """The dotted-quad form of an IPv4 host written any way a resolver accepts (WHATWG URL
    IPv4 parser: 1 to 4 parts, each decimal, 0-octal or 0x-hex, the last filling the remaining
    bytes, one trailing dot allowed), or None when it is not a valid IPv4 address."""
    parts = host.split(".")
    if parts[-1] == "" and len(parts) > 1:
        parts.pop()
    if len(parts) > 4:
        return None
    nums = [_ipv4_part(p) for p in parts]
    if any(n is None for n in nums):
        return None
    head, last = nums[:-1], nums[-1]
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(nums)):  # type: ignore[operator]
        return None
    value = last + sum(n * 256 ** (3 - i) for i, n in enumerate(head))  # type: ignore[operator]
    return str(ipaddress.IPv4Address(value))


def url_key(url: str) -> int:
    """Dedup/resume key: a 64-bit hash of the normalised URL (or of the raw string when it does
    not normalise), so the seen-set costs ~70 bytes a URL instead of the URL itself."""
    norm, _ = normalize_url(url)
    return xxhash.xxh3_64_intdigest((norm or url.strip()).encode("utf-8", "surrogatepass"))


_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
_V4_COMPAT = ipaddress.IPv6Network("::/96")


def is_public_ip(addr: str) -> bool:
    """False for private, loopback, link-local, multicast, reserved, CGNAT and other
    non-global addresses. An IPv6 address that carries an IPv4 one (IPv4-mapped ::ffff:a.b.c.d,
    IPv4-compatible ::a.b.c.d, NAT64 64:ff9b::/96 and 64:ff9b:1::/48, 6to4 2002::/16) is judged
    by the IPv4 address it reaches."""
    try:
        ip = ipaddress.ip_address(addr.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip.sixtofour is not None:
            ip = ip.sixtofour
        elif ip in _V4_COMPAT or any(ip in n for n in _NAT64):
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.is_global and not ip.is_multicast and not ip.is_reserved


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
