"""Strings that carry encoded content (JSON Schema 2020-12 `contentEncoding`, `contentMediaType`, `contentSchema`).

JSON Schema makes these keywords annotations, but a vendor that documents a string as base64, or as a JSON
document, decodes it and refuses what does not decode. apiconform reads them as the vendor does, in one place:
the request judge (and so the mock, which refuses with the same judge) asserts them (`content_errors`), and
both generators draw valid values from `known` (the encodings and media types it can decode and encode).
Encodings RFC 4648 defines (`base64`, `base64url`, `base32`, `base16`) are asserted; the media types asserted are
JSON ones (`application/json`, `application/*+json`): the decoded text must parse, and match `contentSchema`.
Other encodings and media types stay annotations: any string is valid.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

JSON_MEDIA = re.compile(r"^application/(.+\+)?json$")
KEYWORDS = ("contentEncoding", "contentMediaType", "contentSchema")

_DECODERS: dict[str, Callable[[str], bytes]] = {
    "base64": lambda text: base64.b64decode(text, validate=True),
    "base64url": lambda text: _base64url(text),
    "base32": lambda text: base64.b32decode(text),
    "base16": lambda text: base64.b16decode(text, casefold=True),
}
def _base64url(text: str) -> bytes:
    """RFC 4648 section 5: `-` and `_` for `+` and `/` (which are refused); padding may be left out."""
    if "+" in text or "/" in text:
        raise binascii.Error("not the base64url alphabet")
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


_ENCODERS: dict[str, Callable[[bytes], str]] = {
    "base64": lambda data: base64.b64encode(data).decode("ascii"),
    "base64url": lambda data: base64.urlsafe_b64encode(data).decode("ascii"),
    "base32": lambda data: base64.b32encode(data).decode("ascii"),
    "base16": lambda data: base64.b16encode(data).decode("ascii"),
}


def encoding_of(schema: Any) -> str | None:
    """The schema's `contentEncoding` when apiconform can decode it (lower case), else None (an annotation)."""
    value = schema.get("contentEncoding") if isinstance(schema, Mapping) else None
    name = str(value).lower() if isinstance(value, str) else None
    return name if name in _DECODERS else None


def is_json_media(schema: Any) -> bool:
    """Whether the schema's `contentMediaType` is a JSON media type (the decoded content must be a JSON document);
    a `contentSchema` without a media type describes JSON too (what it can describe)."""
    if not isinstance(schema, Mapping):
        return False
    value = schema.get("contentMediaType", "application/json" if "contentSchema" in schema else None)
    return isinstance(value, str) and bool(JSON_MEDIA.match(value.split(";")[0].strip().lower()))


def asserted(schema: Any) -> bool:
    """Whether a value of this (string) schema must decode: a known encoding or a JSON media type."""
    return encoding_of(schema) is not None or is_json_media(schema)


def encode(data: bytes, encoding: str) -> str:
    return _ENCODERS[encoding](data)


def decode(text: str, encoding: str) -> bytes | None:
    """The bytes `text` encodes, or None when it is not valid in `encoding` (RFC 4648: padding and alphabet)."""
    try:
        return _DECODERS[encoding](text)
    except (binascii.Error, ValueError):
        return None


def problems(schema: Mapping[str, Any], value: str) -> Iterator[tuple[str, Any]]:
    """Why `value` is not what the schema's content keywords say, as (kind, detail): ("encoding", the encoding) when it
    does not decode, ("media", the media type) when the decoded text is not a JSON document, or ("contentSchema", the
    decoded document) for the caller to validate against `contentSchema` (its `$ref`s resolve in its registry)."""
    encoding = encoding_of(schema)
    raw: bytes | str = value
    if encoding is not None:
        decoded = decode(value, encoding)
        if decoded is None:
            yield "encoding", encoding
            return
        raw = decoded
    if not is_json_media(schema):
        return
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        yield "media", str(schema.get("contentMediaType"))
        return
    if "contentSchema" in schema:
        yield "contentSchema", document


def message(kind: str, detail: Any, value: str) -> str:
    """One line for a problem `problems` found in `value`."""
    if kind == "encoding":
        return f"{_short(value)} is not valid {detail}"
    return f"{_short(value)} is not a JSON document ({detail})"


def _short(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:37] + "...")


@functools.lru_cache(maxsize=1)
def validator_class() -> Any:
    """Draft 2020-12 with the content keywords asserted (jsonschema's `extend`): every string the schema reaches,
    through `$ref`s and combinators, is judged where it is, so a body's nested content is judged like a parameter."""
    from jsonschema import Draft202012Validator, validators

    def content(validator: Any, _value: Any, instance: Any, schema: Mapping[str, Any]) -> Iterator[Any]:
        from jsonschema.exceptions import ValidationError

        if not isinstance(instance, str):
            return
        for kind, detail in problems(schema, instance):
            if kind == "contentSchema":
                yield from validator.descend(detail, schema["contentSchema"], schema_path="contentSchema")
            else:
                yield ValidationError(message(kind, detail, instance))

    def by_encoding(validator: Any, value: Any, instance: Any, schema: Mapping[str, Any]) -> Iterator[Any]:
        if encoding_of(schema) is not None:  # decoded, then judged as its media type
            yield from content(validator, value, instance, schema)

    def by_media(validator: Any, value: Any, instance: Any, schema: Mapping[str, Any]) -> Iterator[Any]:
        if encoding_of(schema) is None:  # a known encoding beside it judges both
            yield from content(validator, value, instance, schema)

    return validators.extend(Draft202012Validator, {"contentEncoding": by_encoding, "contentMediaType": by_media})


def uses_content(document: Any) -> bool:
    """Whether any schema of the document asserts content (a cheap guard: most contracts have none)."""
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, Mapping):
            if asserted(node):
                return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


__all__ = ["KEYWORDS", "asserted", "decode", "encode", "encoding_of", "is_json_media", "message",
           "problems",
           "uses_content",
           "validator_class"]
