"""Resource requests: authorization first (as the real server does), then the verb's semantics."""

from __future__ import annotations

import copy
import json
import urllib.parse
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

from . import errors, resources
from .errors import ApiError
from .resources import ResourceType
from .selectors import SelectorError, parse_field_selector, parse_label_selector
from .store import Obj
from .tables import table

if TYPE_CHECKING:
    from .auth import User
    from .server import Sandbox

JSON = "application/json"
PROTOBUF = "application/vnd.kubernetes.protobuf"
JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"


class Route:
    """A parsed resource URL."""

    def __init__(
        self,
        rt: ResourceType,
        version: str,
        namespace: Optional[str],
        name: Optional[str],
        subresource: Optional[str],
    ) -> None:
        self.rt = rt
        self.version = version
        self.namespace = namespace
        self.name = name
        self.subresource = subresource


def parse_route(path: str) -> Optional[Route]:
    parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/")]
    if len(parts) >= 3 and parts[0] == "api" and parts[1] == "v1":
        group, version, rest = "", "v1", parts[2:]
    elif len(parts) >= 4 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    namespace: Optional[str] = None
    if rest[0] == "namespaces" and len(rest) >= 3:
        inner = resources.find(group, version, rest[2])
        if inner is not None and inner.namespaced:
            namespace, rest = rest[1], rest[2:]
    if len(rest) > 3:
        return None
    rt = resources.find(group, version, rest[0])
    if rt is None:
        return None
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else None
    return Route(rt, version, namespace, name, sub)


def _verb(method: str, route: Route, query: Dict[str, List[str]]) -> str:
    if method == "GET":
        if route.name:
            return "get"
        return "watch" if _q(query, "watch") in ("true", "1") else "list"
    return {"POST": "create", "PUT": "update", "PATCH": "patch"}.get(
        method, "delete" if route.name else "deletecollection"
    )


def _q(query: Dict[str, List[str]], key: str) -> Optional[str]:
    values = query.get(key)
    return values[0] if values else None


def _dry_run(query: Dict[str, List[str]]) -> bool:
    values = query.get("dryRun") or []
    for v in values:
        if v != "All":
            raise errors.bad_request(f'Invalid dryRun value: "{v}": supported values: "All"')
    return bool(values)


def _decode(body: bytes, content_type: str) -> Obj:
    """A request body as a dict: JSON, YAML, or the protobuf envelope kubectl sends for built-in kinds."""
    if content_type == PROTOBUF:
        from .protobuf import ProtobufError, decode_envelope

        try:
            return decode_envelope(body)
        except ProtobufError as exc:
            raise errors.bad_request(f"the object provided is unrecognized: {exc}") from exc
    try:
        if content_type in ("application/yaml", "application/x-yaml"):
            import yaml

            obj = yaml.safe_load(body.decode("utf-8"))
        else:
            obj = json.loads(body.decode("utf-8") or "null")
    except Exception as exc:
        raise errors.bad_request(f"couldn't get version/kind; json parse error: {exc}") from exc
    if not isinstance(obj, dict):
        raise errors.bad_request("the body of the request must be an object")
    return obj


def _wants_table(headers: Any) -> bool:
    accept = headers.get("Accept") or ""
    for option in accept.split(","):
        params = {p.split("=", 1)[0].strip(): p.split("=", 1)[1].strip() for p in option.split(";")[1:] if "=" in p}
        if params.get("as") == "Table":
            return True
        if option.strip().split(";")[0] in (JSON, "*/*", PROTOBUF):
            return False
    return False


def _present(route: Route, obj: Obj) -> Obj:
    """Label the object with the version the client asked for (v8 and v9 Domains share storage)."""
    obj["apiVersion"] = route.rt.api_version(route.version)
    return obj


def handle_resource(
    sb: Sandbox,
    route: Route,
    method: str,
    query: Dict[str, List[str]],
    body: bytes,
    headers: Any,
    user: User,
) -> Tuple[int, Any]:
    rt = route.rt
    verb = _verb(method, route, query)
    if rt.kind == "SelfSubjectAccessReview":
        if method != "POST":
            raise errors.method_not_allowed()
        return 201, _self_subject_access_review(sb, _decode(body, _ctype(headers)), user)
    if rt.namespaced and route.namespace is None and verb not in ("list", "watch"):
        raise ApiError(404, "NotFound", "the server could not find the requested resource")
    if route.subresource and (route.subresource != "status" or not rt.status_subresource):
        raise ApiError(404, "NotFound", "the server could not find the requested resource")
    auth_resource = rt.plural + (f"/{route.subresource}" if route.subresource else "")
    auth_name = route.name
    if not sb.authority.allowed(user, verb, auth_resource, rt.group, route.namespace, auth_name):
        raise errors.forbidden(user.name, verb, auth_resource, rt.group, route.namespace, auth_name)
    if verb not in rt.verbs:
        raise errors.method_not_allowed()
    ns = route.namespace or ""
    if verb == "list":
        return 200, _list(sb, route, query, headers)
    if verb == "watch":
        raise errors.method_not_allowed("watch is not supported by the sandbox")
    if verb == "get":
        obj = _present(route, sb.store.get(rt, ns, route.name or ""))
        if _wants_table(headers):
            return 200, _table_for(route, [obj], query, {"resourceVersion": obj["metadata"].get("resourceVersion", "")})
        return 200, obj
    dry = _dry_run(query)
    if verb == "create":
        if route.name:
            raise errors.method_not_allowed()
        obj = _decode(body, _ctype(headers))
        return 201, _present(route, sb.store.create(rt, route.namespace, obj, dry_run=dry))
    name = route.name or ""
    if verb == "update":
        obj = _decode(body, _ctype(headers))
        return 200, _present(route, sb.store.update(rt, ns, name, obj, dry_run=dry, subresource=route.subresource))
    if verb == "patch":
        return 200, _present(route, _patch(sb, route, body, _ctype(headers), dry))
    if verb == "delete":
        old = sb.store.delete(rt, ns, name, dry_run=dry)
        if rt.custom or rt.kind in ("Pod", "Namespace"):
            return 200, _present(route, old)
        return 200, {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": {"name": name, "kind": rt.plural, "uid": old["metadata"].get("uid", "")},
        }
    raise errors.method_not_allowed()


def _ctype(headers: Any) -> str:
    return (headers.get("Content-Type") or JSON).split(";")[0].strip().lower()


def _list(sb: Sandbox, route: Route, query: Dict[str, List[str]], headers: Any) -> Obj:
    rt = route.rt
    try:
        label = parse_label_selector(_q(query, "labelSelector") or "")
        field = parse_field_selector(_q(query, "fieldSelector") or "", rt.fields)
    except SelectorError as exc:
        raise errors.bad_request(str(exc)) from exc
    try:
        limit = int(_q(query, "limit") or 0)
    except ValueError as exc:
        raise errors.bad_request(f"invalid limit: {exc}") from exc
    items, rv, token, remaining = sb.store.list(
        rt, route.namespace, lambda o: label(o) and field(o), limit, _q(query, "continue")
    )
    meta: Dict[str, Any] = {"resourceVersion": str(rv)}
    if token:
        meta["continue"] = token
        if remaining is not None and not _q(query, "labelSelector") and not _q(query, "fieldSelector"):
            meta["remainingItemCount"] = remaining
    items = [_present(route, o) for o in items]
    if _wants_table(headers):
        return _table_for(route, items, query, meta)
    for o in items:
        o.pop("apiVersion", None)
        o.pop("kind", None)
    return {
        "kind": f"{rt.kind}List",
        "apiVersion": rt.api_version(route.version),
        "metadata": meta,
        "items": items,
    }


def _table_for(route: Route, items: List[Obj], query: Dict[str, List[str]], meta: Dict[str, Any]) -> Obj:
    return table(route.rt, items, _q(query, "includeObject") or "Metadata", meta)


def _patch(sb: Sandbox, route: Route, body: bytes, ctype: str, dry: bool) -> Obj:
    from . import patch as patching

    rt = route.rt
    accepted = [JSON_PATCH, MERGE_PATCH] + ([] if rt.custom else [STRATEGIC_PATCH]) + [APPLY_PATCH]
    if ctype not in (JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH) or (rt.custom and ctype == STRATEGIC_PATCH):
        raise errors.unsupported_media_type(accepted)
    try:
        doc = json.loads(body.decode("utf-8") or "null")
    except ValueError as exc:
        raise errors.bad_request(f"error decoding patch: {exc}") from exc
    name = route.name or ""
    ns = route.namespace or ""
    with sb.store.lock:
        current = sb.store.get(rt, ns, name)
        original = copy.deepcopy(current)
        try:
            if ctype == JSON_PATCH:
                if not isinstance(doc, list):
                    raise errors.bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
                patched = patching.json_patch(current, doc)
            elif ctype == MERGE_PATCH:
                patched = patching.merge_patch(current, doc)
            else:
                if not isinstance(doc, dict):
                    raise errors.bad_request("strategic merge patch must be a JSON object")
                patched = patching.strategic_merge_patch(current, doc, rt.kind)
        except patching.PatchError as exc:
            raise ApiError(422, "Invalid", str(exc)) from exc
        if not isinstance(patched, dict):
            raise errors.bad_request("the patch did not produce an object")
        meta = patched.setdefault("metadata", {})
        stale = meta.get("resourceVersion") not in (None, original["metadata"].get("resourceVersion"))
        if stale:
            raise errors.conflict(rt, name)
        return sb.store.update(rt, ns, name, patched, dry_run=dry, subresource=route.subresource)


def _self_subject_access_review(sb: Sandbox, review: Obj, user: User) -> Obj:
    """Answer from the same rules the server enforces, so `kubectl auth can-i` tells the truth."""
    spec = review.get("spec") or {}
    attrs = spec.get("resourceAttributes")
    allowed = False
    if attrs:
        resource = attrs.get("resource", "")
        if attrs.get("subresource"):
            resource += "/" + attrs["subresource"]
        allowed = sb.authority.allowed(
            user,
            attrs.get("verb", ""),
            resource,
            attrs.get("group", ""),
            attrs.get("namespace") or None,
            attrs.get("name") or None,
        )
    elif spec.get("nonResourceAttributes"):
        path = spec["nonResourceAttributes"].get("path", "")
        allowed = (
            path in ("/version", "/api", "/apis", "/healthz", "/readyz", "/livez")
            or path.startswith(("/api/", "/apis/"))
            or sb.authority.allowed(user, "*", "*", "*", None)
        )
    status: Dict[str, Any] = {"allowed": allowed}
    if allowed and attrs:
        status["reason"] = f'allowed by sandbox rules for user "{user.name}"'
    return {
        "kind": "SelfSubjectAccessReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {"creationTimestamp": None},
        "spec": spec,
        "status": status,
    }
