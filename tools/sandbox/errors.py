"""API errors carried as the real server's `Status` objects, so clients parse reason, code and details."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from .resources import ResourceType


class ApiError(Exception):
    """An answer other than success; `status()` is the body the real server would send."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        details: Optional[Dict[str, Any]] = None,
        headers: Optional[Dict[str, str]] = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    def status(self) -> Dict[str, Any]:
        body: Dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details is not None:
            body["details"] = self.details
        return body


def _details(rt: ResourceType, name: Optional[str] = None) -> Dict[str, Any]:
    d: Dict[str, Any] = {}
    if name:
        d["name"] = name
    if rt.group:
        d["group"] = rt.group
    d["kind"] = rt.plural
    return d


def not_found(rt: ResourceType, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{rt.group_resource} "{name}" not found', _details(rt, name))


def namespace_not_found(name: str) -> ApiError:
    return ApiError(404, "NotFound", f'namespaces "{name}" not found', {"name": name, "kind": "namespaces"})


def already_exists(rt: ResourceType, name: str) -> ApiError:
    return ApiError(409, "AlreadyExists", f'{rt.group_resource} "{name}" already exists', _details(rt, name))


def conflict(rt: ResourceType, name: str) -> ApiError:
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {rt.group_resource} "{name}": the object has been modified; '
        "please apply your changes to the latest version and try again",
        _details(rt, name),
    )


def invalid(rt: ResourceType, name: str, causes: List[Dict[str, str]]) -> ApiError:
    """422: `Kind "name" is invalid: field: Invalid value: ...`, one cause per field error."""
    text = ", ".join(f"{c['field']}: {c['message']}" for c in causes)
    if len(causes) > 1:
        text = "[" + text + "]"
    details = {"name": name, "group": rt.group, "kind": rt.kind, "causes": causes}
    if not rt.group:
        del details["group"]
    return ApiError(422, "Invalid", f'{rt.kind} "{name}" is invalid: {text}', details)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def forbidden(
    user: str, verb: str, rt_plural: str, group: str, namespace: Optional[str], name: Optional[str] = None
) -> ApiError:
    """403 with the exact sentence kubectl shows: `secrets is forbidden: User "x" cannot list ...`."""
    gr = f"{rt_plural}.{group}" if group else rt_plural
    subject = f'{gr} "{name}"' if name else gr
    where = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    message = (
        f'{subject} is forbidden: User "{user}" cannot {verb} resource "{rt_plural}" in API group "{group}" {where}'
    )
    details: Dict[str, Any] = {"kind": rt_plural}
    if name:
        details = {"name": name, "kind": rt_plural}
    if group:
        details["group"] = group
    return ApiError(403, "Forbidden", message, details)


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


def expired() -> ApiError:
    return ApiError(
        410,
        "Expired",
        "The provided continue parameter is too old to display a consistent list result. "
        "You can start a new list without the continue parameter.",
    )


def unsupported_media_type(accepted: List[str]) -> ApiError:
    return ApiError(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: " + ", ".join(accepted),
    )


def method_not_allowed(
    message: str = "the server does not allow this method on the requested resource",
) -> ApiError:
    return ApiError(405, "MethodNotAllowed", message)
