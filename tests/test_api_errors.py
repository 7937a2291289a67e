"""API error statuses become one class each, once, in kube.client; everything else catches them by name."""

from __future__ import annotations

import pytest

from kubectl_imgaccess import errors
from kubectl_imgaccess.kube.client import api_error


@pytest.mark.parametrize(
    ("status", "reason", "cls"),
    [
        (400, "BadRequest", errors.BadRequest),
        (401, "Unauthorized", errors.Unauthorized),
        (403, "Forbidden", errors.Forbidden),
        (404, "NotFound", errors.NotFound),
        (409, "Conflict", errors.Conflict),
        (409, "AlreadyExists", errors.AlreadyExists),
        (410, "Expired", errors.Gone),
        (422, "Invalid", errors.Invalid),
        (429, "TooManyRequests", errors.TooManyRequests),
        (500, "InternalError", errors.ServerError),
        (503, "ServiceUnavailable", errors.ServerError),
        (418, "", errors.ApiError),
    ],
)
def test_each_status_maps_to_its_class(status: int, reason: str, cls: type) -> None:
    exc = api_error("https://api:6443", status, "the message", reason)
    assert type(exc) is cls and exc.status == status and exc.detail == "the message"
    assert isinstance(exc, errors.ClusterError)  # one clear line, exit 2 at the top


def test_the_message_names_server_status_and_phrase() -> None:
    assert str(api_error("https://api:6443", 404, 'domains "x" not found')) == (
        'https://api:6443: 404 Not Found: domains "x" not found')
    assert str(api_error("https://api:6443", 502, "")) == "https://api:6443: 502 Bad Gateway"


def test_already_exists_is_a_conflict() -> None:
    assert issubclass(errors.AlreadyExists, errors.Conflict)
    assert not isinstance(api_error("s", 409, "", "Conflict"), errors.AlreadyExists)
