"""Go durations as kubectl's --request-timeout reads them."""

from __future__ import annotations

import pytest

from kubectl_imgaccess.durations import parse_duration


@pytest.mark.parametrize("text, seconds", [
    ("1m30s", 90.0), ("1h2m3.5s", 3723.5), ("500ms", 0.5), ("0", 0.0), ("0s", 0.0), ("30", 30.0),
    ("1.5h", 5400.0), ("300us", 0.0003), ("2\u00b5s", 2e-6), ("10ns", 1e-8), ("+5s", 5.0), (".5s", 0.5),
    ("2562047h", 2562047 * 3600.0),
])
def test_go_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "soon", "-1s", "1d", "1m30", "s", "1.2.3s", "5 s", "2562048h", "1e3s"])
def test_invalid_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)
