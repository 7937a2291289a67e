from __future__ import annotations

import pytest

from kubectl_imgaccess.errors import UsageError
from kubectl_imgaccess.selectors import parse_selector

LABELS = {"app": "wls", "tier": "prod", "weblogic.domainUID": "d1"}


@pytest.mark.parametrize(
    "selector, expected",
    [
        ("app=wls", True),
        ("app==wls", True),
        ("app!=wls", False),
        ("app=other", False),
        ("tier in (prod, staging)", True),
        ("tier notin (prod)", False),
        ("missing notin (x)", True),
        ("weblogic.domainUID", True),
        ("!weblogic.domainUID", False),
        ("!absent", True),
        ("app=wls,tier in (prod),!absent", True),
        ("app=wls,tier=dev", False),
        ("", True),
    ],
)
def test_selector(selector: str, expected: bool) -> None:
    assert parse_selector(selector)(LABELS) is expected


def test_bad_selector_names_the_flag() -> None:
    with pytest.raises(UsageError, match="-l/--selector"):
        parse_selector("app=(")
