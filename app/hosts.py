"""Which `Host` and `Origin` a request to the app may carry: the defence against DNS rebinding.

A web page on any site can point a name it owns (evil.example) at 127.0.0.1 and then talk to the app
on loopback as if it were its own origin. Such requests name the attacker's host in `Host` (and in
`Origin`), so, as Jupyter does, only the names the app is served under are accepted: IP literals of
this machine (a rebinding page cannot send those), `localhost`, and what the user lists in
`RAG_APP_ALLOWED_HOSTS` (comma-separated; `*` accepts any, e.g. behind a proxy that checks it).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

LOCAL_NAMES = frozenset({"localhost"})
ALL_INTERFACES = frozenset({"", "0.0.0.0", "::"})


def host_name(netloc: str) -> str:
    """`evil.example:8750` -> `evil.example`; `[::1]:8501` -> `::1`; lower case, no trailing dot."""
    netloc = netloc.strip().lower()
    if netloc.startswith("["):  # an IPv6 literal, with or without a port
        return netloc[1:netloc.find("]")] if "]" in netloc else netloc[1:]
    if netloc.count(":") == 1:
        netloc = netloc.split(":", 1)[0]
    return netloc.rstrip(".")


@dataclass(frozen=True)
class HostRules:
    allowed: frozenset[str] = frozenset()  # names from RAG_APP_ALLOWED_HOSTS, lower case
    bound: str = "127.0.0.1"  # server.address: listening on every interface admits every IP literal

    @classmethod
    def from_settings(cls, allowed_hosts: str, server_address: str | None) -> HostRules:
        names = frozenset(host_name(n) for n in allowed_hosts.split(",") if n.strip())
        return cls(names, (server_address or "").strip().lower())

    def host_allowed(self, host: str | None) -> bool:
        """`host` is a Host header (or an Origin's host:port)."""
        if not host:
            return False
        name = host_name(host)
        if "*" in self.allowed or name in self.allowed or name in LOCAL_NAMES:
            return True
        try:
            address = ipaddress.ip_address(name)
        except ValueError:
            return False  # a name nobody configured: the rebinding case
        return address.is_loopback or self.bound in ALL_INTERFACES or name == host_name(self.bound)

    def origin_allowed(self, origin: str | None, host: str | None) -> bool:
        """A browser's `Origin` must be the page's own (same host and port as `Host`) or a listed name.
        No Origin at all is a client that is not a browser page (curl, a health check): allowed."""
        if origin is None:
            return True
        parts = urlsplit(origin.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return False  # "null" (a sandboxed frame, a file:// page) and anything odd
        if not self.host_allowed(parts.netloc):
            return False
        same = host is not None and parts.netloc.lower() == host.strip().lower()
        return same or "*" in self.allowed or host_name(parts.netloc) in self.allowed

    def allows(self, host: str | None, origin: str | None) -> bool:
        return self.host_allowed(host) and self.origin_allowed(origin, host)
