"""Decoding of the protobuf request bodies kubectl sends for built-in kinds.

The body is the 4-byte magic `k8s\\0` followed by a runtime.Unknown message (typeMeta=1, raw=2,
contentEncoding=3, contentType=4) whose `raw` is the object in the wire format of k8s.io/api's
generated.proto. Only the messages the audit's writes and kubectl's checks use are described; unknown
fields are skipped as protobuf requires.
"""

from __future__ import annotations

import base64
import datetime
from typing import Any, Dict, List, Tuple, Union

MAGIC = b"k8s\x00"

# field number -> (JSON name, type, repeated). Types: string, bytes, bool, int, time, map:str, map:bytes,
# or the name of another message in SCHEMAS.
Field = Tuple[str, str, bool]
SCHEMAS: Dict[str, Dict[int, Field]] = {
    "TypeMeta": {1: ("apiVersion", "string", False), 2: ("kind", "string", False)},
    "Unknown": {
        1: ("typeMeta", "TypeMeta", False),
        2: ("raw", "bytes", False),
        3: ("contentEncoding", "string", False),
        4: ("contentType", "string", False),
    },
    "ObjectMeta": {
        1: ("name", "string", False),
        2: ("generateName", "string", False),
        3: ("namespace", "string", False),
        5: ("uid", "string", False),
        6: ("resourceVersion", "string", False),
        7: ("generation", "int", False),
        8: ("creationTimestamp", "time", False),
        11: ("labels", "map:str", False),
        12: ("annotations", "map:str", False),
        13: ("ownerReferences", "OwnerReference", True),
        14: ("finalizers", "string", True),
    },
    "OwnerReference": {
        1: ("kind", "string", False),
        3: ("name", "string", False),
        4: ("uid", "string", False),
        5: ("apiVersion", "string", False),
        6: ("controller", "bool", False),
        7: ("blockOwnerDeletion", "bool", False),
    },
    "Secret": {
        1: ("metadata", "ObjectMeta", False),
        2: ("data", "map:bytes", False),
        3: ("type", "string", False),
        4: ("stringData", "map:str", False),
        5: ("immutable", "bool", False),
    },
    "ConfigMap": {
        1: ("metadata", "ObjectMeta", False),
        2: ("data", "map:str", False),
        3: ("binaryData", "map:bytes", False),
        4: ("immutable", "bool", False),
    },
    "ServiceAccount": {
        1: ("metadata", "ObjectMeta", False),
        2: ("secrets", "ObjectReference", True),
        3: ("imagePullSecrets", "LocalObjectReference", True),
        4: ("automountServiceAccountToken", "bool", False),
    },
    "ObjectReference": {
        1: ("kind", "string", False),
        2: ("namespace", "string", False),
        3: ("name", "string", False),
        4: ("uid", "string", False),
        5: ("apiVersion", "string", False),
        6: ("resourceVersion", "string", False),
        7: ("fieldPath", "string", False),
    },
    "LocalObjectReference": {1: ("name", "string", False)},
    "Namespace": {1: ("metadata", "ObjectMeta", False), 2: ("spec", "NamespaceSpec", False)},
    "NamespaceSpec": {1: ("finalizers", "string", True)},
    "SelfSubjectAccessReview": {
        1: ("metadata", "ObjectMeta", False),
        2: ("spec", "SelfSubjectAccessReviewSpec", False),
    },
    "SelfSubjectAccessReviewSpec": {
        1: ("resourceAttributes", "ResourceAttributes", False),
        2: ("nonResourceAttributes", "NonResourceAttributes", False),
    },
    "ResourceAttributes": {
        1: ("namespace", "string", False),
        2: ("verb", "string", False),
        3: ("group", "string", False),
        4: ("version", "string", False),
        5: ("resource", "string", False),
        6: ("subresource", "string", False),
        7: ("name", "string", False),
    },
    "NonResourceAttributes": {1: ("path", "string", False), 2: ("verb", "string", False)},
    "Time": {1: ("seconds", "int", False), 2: ("nanos", "int", False)},
}

Raw = Union[int, bytes]


class ProtobufError(ValueError):
    """The body is not a well-formed envelope or carries a kind the sandbox cannot decode."""


def _varint(buf: bytes, pos: int) -> Tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ProtobufError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ProtobufError("varint too long")


def fields(buf: bytes) -> List[Tuple[int, Raw]]:
    """Split a message into (field number, value): varints as int, length-delimited as bytes."""
    out: List[Tuple[int, Raw]] = []
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
            out.append((number, value))
        elif wire == 2:
            length, pos = _varint(buf, pos)
            if pos + length > len(buf):
                raise ProtobufError("truncated length-delimited field")
            out.append((number, buf[pos : pos + length]))
            pos += length
        elif wire == 1:
            out.append((number, int.from_bytes(buf[pos : pos + 8], "little")))
            pos += 8
        elif wire == 5:
            out.append((number, int.from_bytes(buf[pos : pos + 4], "little")))
            pos += 4
        else:
            raise ProtobufError(f"unsupported wire type {wire}")
    return out


def _scalar(kind: str, value: Raw) -> Any:
    if kind == "string":
        if not isinstance(value, bytes):
            raise ProtobufError("expected a length-delimited string")
        return value.decode("utf-8")
    if kind == "bytes":
        if not isinstance(value, bytes):
            raise ProtobufError("expected length-delimited bytes")
        return value
    if kind == "bool":
        return bool(value)
    if kind == "int":
        if not isinstance(value, int):
            raise ProtobufError("expected a varint")
        return value - (1 << 64) if value >= 1 << 63 else value
    raise ProtobufError(f"unknown scalar type {kind}")


def decode(message: str, buf: bytes) -> Dict[str, Any]:
    """Decode `buf` as `message` into the JSON shape the REST API uses."""
    schema = SCHEMAS[message]
    out: Dict[str, Any] = {}
    for number, value in fields(buf):
        spec = schema.get(number)
        if spec is None:
            continue
        name, kind, repeated = spec
        if kind.startswith("map:"):
            if not isinstance(value, bytes):
                raise ProtobufError(f"map field {name} is not length-delimited")
            entry = dict(fields(value))
            key = _scalar("string", entry.get(1, b""))
            raw = entry.get(2, b"")
            out.setdefault(name, {})[key] = (
                base64.b64encode(_scalar("bytes", raw)).decode("ascii")
                if kind == "map:bytes"
                else _scalar("string", raw)
            )
            continue
        if kind == "time":
            if not isinstance(value, bytes):
                raise ProtobufError(f"{name} is not a message")
            t = decode("Time", value)
            if not t.get("seconds"):
                continue  # a zero Time is JSON null: leave the field out
            item: Any = datetime.datetime.fromtimestamp(t.get("seconds", 0), datetime.timezone.utc).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            )
        elif kind in SCHEMAS:
            if not isinstance(value, bytes):
                raise ProtobufError(f"{name} is not a message")
            item = decode(kind, value)
        else:
            item = _scalar(kind, value)
            if not repeated and kind in ("string", "int") and not item:
                continue  # gogo-protobuf writes empty optional scalars; JSON omits them
        if repeated:
            out.setdefault(name, []).append(item)
        else:
            out[name] = item
    return out


def decode_envelope(body: bytes) -> Dict[str, Any]:
    """`k8s\\0` + runtime.Unknown -> the object as JSON-shaped dict, with apiVersion and kind set."""
    if not body.startswith(MAGIC):
        raise ProtobufError("missing the k8s protobuf magic prefix")
    unknown = decode("Unknown", body[len(MAGIC) :])
    type_meta = unknown.get("typeMeta") or {}
    kind = type_meta.get("kind", "")
    if unknown.get("contentEncoding"):
        raise ProtobufError(f"unsupported content encoding {unknown['contentEncoding']!r}")
    if kind not in SCHEMAS or kind in ("Unknown", "TypeMeta", "Time"):
        raise ProtobufError(f"no protobuf decoder for kind {kind!r}")
    obj = decode(kind, unknown.get("raw", b""))
    obj["apiVersion"] = type_meta.get("apiVersion", "")
    obj["kind"] = kind
    return obj
