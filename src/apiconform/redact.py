"""Redaction of credentials wherever they could surface: logs, reports, findings, curl repros.

Two layers, because neither alone is enough: known secret *values* (from the credentials, plus
tokens learned at run time) are scrubbed anywhere, in raw and URL/JSON-encoded forms; and values
under sensitive *names* (headers, query parameters, JSON keys) are scrubbed even when the value
was never known — e.g. a signature or a token the vendor minted. JWT-looking strings are always
scrubbed too.
"""

from __future__ import annotations

import base64
import functools
import json
import re
import shlex
from collections.abc import Container, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import parse_qsl, unquote_plus, urlsplit, urlunsplit

__all__ = [
    "CONVENTIONAL_HEADERS",
    "CONVENTIONAL_KEYS",
    "CONVENTIONAL_PARAMS",
    "MASK",
    "MIN_SECRET_LENGTH",
    "Redactor",
    "redact_jwts",
    "sensitive_names",
]

MASK = "[REDACTED]"
#: Shorter values are ignored: masking "1" or "abc" would shred every report.
MIN_SECRET_LENGTH = 4

#: Names any API may carry a credential under (conventions, not any one auth flow). Each registered flow
#: adds the names its credentials travel under (`AuthFlow.sensitive`): `sensitive_names()` is the union.
CONVENTIONAL_HEADERS = frozenset({
    "authorization", "proxy-authorization", "cookie", "set-cookie",
    "x-session-token", "x-api-key", "x-auth-token", "x-access-token",
})  # Idempotency-Key is deliberately absent: it is an identifier, and findings need it.
CONVENTIONAL_PARAMS = frozenset({"token", "access_token", "refresh_token", "api_key", "key", "password",
                                 # presigned storage URLs a vendor hands out (S3 query-string auth, SigV2 and SigV4)
                                 "signature", "awsaccesskeyid", "x_amz_signature", "x_amz_credential",
                                 "x_amz_security_token"})
CONVENTIONAL_KEYS = frozenset({
    "password", "secret", "token", "access_token", "refresh_token", "api_key", "client_secret", "authorization",
})
_SENSITIVE_SUFFIXES = ("password", "passwd", "secret", "secretid", "secret_id", "apikey", "api_key", "privatekey",
                       "private_key", "accesstoken", "access_token", "refreshtoken", "refresh_token",
                       # presigned upload forms a vendor hands out (S3 POST: AWSAccessKeyId, signature, x-amz-signature)
                       "accesskeyid", "access_key_id", "signature")
#: Auth schemes whose name is kept in front of the mask ("Bearer [REDACTED]") as a debugging aid.
_AUTH_SCHEMES = frozenset({"basic", "bearer", "digest", "jwt", "token", "hmac", "apikey", "negotiate"})
_URL_HEADERS = frozenset({"location", "content-location", "referer", "link"})

_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")

T = TypeVar("T")

if TYPE_CHECKING:
    from apiconform.auth import SensitiveNames


def sensitive_names() -> SensitiveNames:
    """The conventional names plus every registered auth flow's (`apiconform.auth.sensitive_names`)."""
    from apiconform.auth import SensitiveNames
    from apiconform.auth import sensitive_names as flow_names

    return SensitiveNames(CONVENTIONAL_HEADERS, CONVENTIONAL_PARAMS, CONVENTIONAL_KEYS) | flow_names()


def redact_jwts(text: str) -> str:
    """Mask every JWT-looking string (three base64url segments, header starting `eyJ`)."""
    return _JWT.sub(MASK, text)


def _norm(name: str) -> str:
    return name.strip().lower().replace("-", "_")


class Redactor:
    """Masks known secret values and anything under a sensitive name.

    The sensitive names are `sensitive_names()` (conventions and every auth flow's); `extra_names` extend
    the header, query-parameter and JSON-key sets alike (e.g. the parameters a target's auth flow owns,
    or names configured with `redact`).
    """

    def __init__(self, secret_values: Iterable[str], extra_names: Iterable[str] = ()) -> None:
        extra = {n.lower() for n in extra_names if n}
        known = sensitive_names()
        self.header_names = frozenset(n.lower() for n in known.headers) | extra
        self.param_names = frozenset(_norm(n) for n in known.params | extra)
        self.key_names = frozenset(_norm(n) for n in known.keys | extra)
        self._values: set[str] = set()
        self._patterns: dict[str, re.Pattern[str]] = {}  # one per secret, longest first, compiled once each
        self._order: list[re.Pattern[str]] = []
        self._longest = 16
        self.add(*secret_values)

    # The three name patterns are compiled when free text is first redacted (`text`), not for every Redactor: a
    # large alternation each, 10-30 ms of a run's start before its first request.
    @functools.cached_property
    def _param_re(self) -> re.Pattern[str]:
        """name=value inside query strings / form bodies embedded in free text"""
        dashed = {n.replace("_", "-") for n in self.param_names}
        names = "|".join(re.escape(n) for n in sorted(self.param_names | dashed))
        return re.compile(rf"(?i)((?:^|[?&;\s])(?:{names})=)[^&#\s\"'<>]+")

    @functools.cached_property
    def _key_re(self) -> re.Pattern[str]:
        """"key": "value" inside JSON embedded in free text"""
        keys = "|".join(re.escape(n) for n in sorted(self.key_names))
        return re.compile(rf'(?i)("(?:{keys})"\s*:\s*)"(?:[^"\\]|\\.)*"')

    @functools.cached_property
    def _header_re(self) -> re.Pattern[str]:
        """"Header: value" lines (logged requests, raw HTTP dumps)"""
        headers = "|".join(re.escape(n) for n in sorted(self.header_names))
        return re.compile(rf"(?im)^(\s*(?:{headers})\s*:[ \t]*)(\S.*?)[ \t]*$")

    def add(self, *values: str | None) -> None:
        """Learn more secrets at run time (e.g. tokens obtained by logging in)."""
        fresh = {str(v) for v in values if v and len(str(v)) >= MIN_SECRET_LENGTH}
        if not fresh - self._values:
            return
        self._values |= fresh
        self._longest = max(len(v) for v in self._values)

    def _compiled(self) -> list[re.Pattern[str]]:
        """One pattern per secret, longest secret first, each compiled once when first needed. One alternation
        of every secret was recompiled whenever a secret was learned, and its cost grows faster than its size
        (tokens share their JWT header, a prefix the compiler analyses across alternatives): a proxied client
        refreshing its token on every request spent seconds per exchange there."""
        if len(self._patterns) == len(self._values):  # secrets are only ever added
            return self._order
        for value in self._values - self._patterns.keys():
            # every character raw, \uXXXX-escaped or %XX-encoded (any mix, any hex case), then the base64
            # forms: a vendor echoing a token escaped, URL-encoded or base64-wrapped must not leak it either
            alternatives = [_char_level(value)]
            alternatives += [re.escape(b) for b in sorted(_base64_cores(value), key=len, reverse=True)]
            self._patterns[value] = re.compile("|".join(alternatives))
        self._order = [self._patterns[v] for v in sorted(self._patterns, key=lambda v: (-len(v), v))]
        return self._order

    @property
    def secrets(self) -> frozenset[str]:
        """The secret values this redactor masks (known at construction or learned since)."""
        return frozenset(self._values)

    def learn_request(self, request: Any, skip: Iterable[str] = (), public: Container[str] = ()) -> None:
        """Learn the credentials an auth flow put on the wire (tokens, session keys, key ids): a vendor
        echoing them back must not get them into a report, even when they were never configured.
        `skip`: parameters that change with every request (an HMAC signature is a one-off MAC, not a
        credential; learning each one would grow the redactor without bound). `public`: values known not to
        be anyone's secret (what the run made up itself: a generated `token=string` query value)."""
        skipped = {_norm(n) for n in skip}
        found: list[str] = []
        for name, value in request.headers.multi_items():
            lower = name.lower()
            if lower in ("cookie",):
                found += [part.partition("=")[2].strip() for part in value.split(";")]
            elif lower in self.header_names:
                scheme, sep, rest = value.partition(" ")
                found.append(rest.strip() if sep and scheme.lower() in _AUTH_SCHEMES else value.strip())
        for name, value in request.url.params.multi_items():
            if _norm(name) in self.param_names and _norm(name) not in skipped:
                found.append(value)
        self.add(*(v for v in found if v not in public))

    def learn_json(self, obj: Any, limit: int = 10_000, public: Container[str] = ()) -> None:
        """Learn string values under sensitive keys of a JSON answer (a login response's access/refresh
        tokens): a vendor echoing them in later answers must not get them into a report.

        Only a credential's own value is learned: a string that *is* the value of a sensitive key, or an item of
        a list that is. An object under such a key is a structure with names of its own (a JSON Schema
        describing a `password` property, `{"type": "string"}`; its sensitive members are learned by their own
        names); learning every string inside it taught the redactor the word `string`, which then masked every
        text holding it (`/server/api/auth_[REDACTED]`). `public`: values known not to be anyone's secret (what
        the run made up and sent itself, read back under a sensitive key). Reports still mask by structure
        everything under a sensitive key (`json`): learning only decides what is masked *elsewhere* too."""
        found: list[str] = []
        stack: list[tuple[Any, bool]] = [(obj, False)]
        while stack and limit > 0:
            limit -= 1
            node, direct = stack.pop()  # direct: the value of a sensitive key (or an item of a list that is)
            if isinstance(node, Mapping):
                stack.extend((v, isinstance(k, str) and _norm(k) in self.key_names) for k, v in node.items())
            elif isinstance(node, list):
                stack.extend((v, direct) for v in node)
            elif direct and isinstance(node, str) and node not in public:
                found.append(node)
        self.add(*found)

    def cut(self, text: str, limit: int) -> str:
        """The first `limit` characters of `text`, redacted *before* cutting (a secret across the cut must
        not leave its prefix behind) - without redacting megabytes to keep a few kilobytes."""
        if len(text) <= limit:
            return self.text(text)
        margin = 16 * self._longest + 64
        size = limit + margin
        while True:
            red = self.text(text[:size])
            # an unmasked partial secret can only sit in the last `margin` characters of what was redacted
            if size >= len(text) or len(red) >= limit + margin:
                return red[:limit] + "…"
            size *= 2

    def pointer(self, ptr: str) -> str:
        """A JSON pointer (a place in an answer or a contract) with only its *whole* segments that are a secret
        masked (a key that is a token, or a JWT): a pointer is structure, and masking a secret's text inside a
        segment (`/server/api/auth_string` when `string` was ever taken for one) mangled the place and gave one
        finding two fingerprints."""
        if not ptr:
            return ptr
        values = self._values
        return "/".join(MASK if (seg.replace("~1", "/").replace("~0", "~") in values or _JWT.fullmatch(seg)) else seg
                        for seg in ptr.split("/"))

    # ------------------------------------------------------------ free text

    def text(self, s: str) -> str:
        """Mask secret values (raw, URL- and JSON-encoded), JWTs and sensitive name=value /
        "key": "value" / "Header: value" fragments anywhere in `s`."""
        if not s:
            return s
        for pattern in self._compiled():  # a longer secret first: a shorter one inside it is masked with it
            s = pattern.sub(MASK, s)
        s = redact_jwts(s)
        s = self._param_re.sub(lambda m: m.group(1) + MASK, s)
        s = self._key_re.sub(lambda m: f'{m.group(1)}"{MASK}"', s)
        s = self._header_re.sub(lambda m: m.group(1) + self._header_line(m.group(1), m.group(2)), s)
        return s

    # ------------------------------------------------------------ headers

    def _header_line(self, name_part: str, value: str) -> str:
        return self._header_value(name_part.split(":", 1)[0].strip().lower(), value)

    def _header_value(self, name: str, value: str) -> str:
        if name in ("cookie", "set-cookie"):
            return self._cookie(name, value)
        if name in self.header_names:
            scheme, sep, rest = value.partition(" ")
            if sep and rest.strip() and scheme.lower() in _AUTH_SCHEMES:
                return f"{scheme} {MASK}"
            return MASK if value else value
        if name in _URL_HEADERS:
            return self.url(value)
        return self.text(value)

    def _cookie(self, name: str, value: str) -> str:
        parts = value.split(";")
        if name == "set-cookie":  # first pair is the cookie, the rest are attributes
            if re.search(r",\s*[^;,=\s]+=", value):  # several Set-Cookie headers joined by ", "
                return ", ".join(self._cookie(name, v) for v in re.split(r",\s*(?=[^;,=\s]+=)", value))
            key, sep, _ = parts[0].partition("=")
            return ";".join([f"{key}={MASK}" if sep else MASK, *parts[1:]])
        out = []
        for part in parts:
            key, sep, _ = part.partition("=")
            out.append(f"{key}={MASK}" if sep else part)
        return ";".join(out)

    def header(self, name: str, value: str) -> str:
        """One header value, redacted according to its name."""
        return self._header_value(name.lower(), str(value))

    def headers(self, mapping: Mapping[str, str] | Iterable[tuple[str, str]]) -> Any:
        """Redact header values: sensitive names masked (auth scheme and cookie names kept),
        URL-valued headers via `url`, all others via `text`. Returns a dict for a mapping,
        a list of pairs for pairs (so repeated headers like Set-Cookie survive)."""
        multi = getattr(mapping, "multi_items", None)
        if callable(multi):
            return [(k, self.header(k, v)) for k, v in multi()]
        if isinstance(mapping, Mapping):
            return {k: self.header(k, v) for k, v in mapping.items()}
        return [(k, self.header(k, v)) for k, v in mapping]

    # ------------------------------------------------------------ URLs

    def _query(self, query: str) -> str:
        out = []
        for part in query.split("&"):
            name, sep, _ = part.partition("=")
            sensitive = sep and _norm(unquote_plus(name)) in self.param_names
            out.append(f"{name}={MASK}" if sensitive else self.text(part))
        return "&".join(out)

    def url(self, url: str) -> str:
        """Mask sensitive query parameters, userinfo passwords and secret values in a URL."""
        url = str(url)
        try:
            parts = urlsplit(url)
        except ValueError:
            return self.text(url)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, _, hostport = netloc.rpartition("@")
            user, sep, _ = userinfo.partition(":")
            # a lone user name is often the key itself (https://KEY@host): masked too
            netloc = f"{self.text(user)}:{MASK}@{hostport}" if sep else f"{MASK}@{hostport}"
        query = self._query(parts.query) if parts.query else ""
        return urlunsplit((parts.scheme, netloc, self.text(parts.path), query, self.text(parts.fragment)))

    # ------------------------------------------------------------ JSON

    def json(self, obj: T) -> T:
        """A redacted deep copy: every scalar under a sensitive key is masked (recursively under
        sensitive containers too), and every other string is passed through `text`."""
        return cast(T, self._json(obj, False))

    def value(self, obj: Any) -> Any:
        """Any value a finding carries (JSON-like or not), redacted: JSON by structure, others by their repr."""
        if obj is None or isinstance(obj, (bool, int, float)):
            return obj
        if isinstance(obj, (str, Mapping, list, tuple)):
            try:
                return self.json(obj)
            except RecursionError:
                return self.text(repr(obj)[:4096])
        return self.text(repr(obj))

    def _json(self, obj: Any, hidden: bool) -> Any:
        if isinstance(obj, Mapping):
            return {
                (self.text(k) if isinstance(k, str) else k): self._json(v, hidden or self._sensitive_key(k))
                for k, v in obj.items()
            }
        if isinstance(obj, (list, tuple)):
            return type(obj)(self._json(v, hidden) for v in obj)
        if hidden and obj is not None and not isinstance(obj, bool):
            return MASK
        if isinstance(obj, str):
            return self.text(obj)
        return obj

    def _sensitive_key(self, key: Any) -> bool:
        """A sensitive name, or one that ends in one (`CELERY_BROKER_PASSWORD`, `db_secret`): vendors
        hand back configuration too, and a secret under a compound name is still a secret."""
        if not isinstance(key, str):
            return False
        name = _norm(key)
        return name in self.key_names or name.endswith(_SENSITIVE_SUFFIXES)

    # ------------------------------------------------------------ request bodies & curl

    def body(self, body: Any, content_type: str | None = None) -> str:
        """A request/response body as redacted text: JSON by structure, forms by parameter name."""
        if body is None:
            return ""
        if isinstance(body, (Mapping, list, tuple)):
            return json.dumps(self.json(body), ensure_ascii=False)
        text = body.decode("utf-8", errors="replace") if isinstance(body, (bytes, bytearray)) else str(body)
        media = (content_type or "").split(";")[0].strip().lower()
        if media == "application/x-www-form-urlencoded" or (not media and _looks_like_form(text)):
            return self._query(text)
        if media.endswith("json") or not media:
            try:
                return json.dumps(self.json(json.loads(text)), ensure_ascii=False)
            except ValueError:
                pass
        return self.text(text)

    def curl(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        body: Any = None,
    ) -> str:
        """A copy-pasteable curl command reproducing the request, with every secret masked.

        Masked values keep their shape (`Bearer [REDACTED]`) so the reader knows what to fill in.
        """
        multi = getattr(headers, "multi_items", None)
        pairs = list(multi()) if callable(multi) else (
            list(headers.items()) if isinstance(headers, Mapping) else list(headers or [])
        )
        pairs = [(k, v) for k, v in pairs if k.lower() not in ("content-length", "host")]
        content_type = next((v for k, v in pairs if k.lower() == "content-type"), None)
        safe_url = self.url(url)
        argv = ["curl"]
        if "[" in safe_url or "{" in safe_url:
            argv.append("--globoff")  # [REDACTED] would otherwise be read as a curl URL glob
        upper = method.upper()
        if upper == "HEAD":
            argv.append("--head")
        elif upper != "GET" or body not in (None, b"", ""):
            argv += ["-X", upper]
        argv.append(safe_url)
        for name, value in pairs:
            argv += ["-H", f"{name}: {self.header(name, value)}"]
        if body not in (None, b"", ""):
            argv += ["--data-raw", self.body(body, content_type)]
        return " ".join(shlex.quote(a) for a in argv)


def _char_level(value: str) -> str:
    """A regex matching `value` with each character raw, JSON-escaped (\\uXXXX) or percent-encoded."""
    parts = []
    for char in value:
        options = [re.escape(char)]
        code = ord(char)
        if code < 0x10000:
            options.append(rf"\\[uU]{_hex_any_case(f'{code:04x}')}")
        if code < 0x80:
            options.append("%" + _hex_any_case(f"{code:02x}"))
            if char == " ":
                options.append(r"\+")
        parts.append(options[0] if len(options) == 1 else "(?:" + "|".join(options) + ")")
    return "".join(parts)


def _hex_any_case(digits: str) -> str:
    return "".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in digits)


def _base64_cores(value: str) -> set[str]:
    """The base64 (standard and URL-safe) characters that depend only on `value`, at each of the three
    byte alignments it can have inside a larger base64 string ("user:<key>", "Bearer <token>" ...)."""
    raw = value.encode()
    cores: set[str] = set()
    for k in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(b"\0" * k + raw).decode().rstrip("=")
            core = encoded[-(-8 * k // 6):(8 * (k + len(raw))) // 6]
            if len(core) >= MIN_SECRET_LENGTH + 2:
                cores.add(core)
    return cores


def _looks_like_form(text: str) -> bool:
    if not text or text.lstrip().startswith(("{", "[")) or any(c.isspace() for c in text):
        return False
    try:
        return bool(parse_qsl(text, strict_parsing=True))
    except ValueError:
        return False
