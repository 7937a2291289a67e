"""The JSON writer's own indenting against json.dumps(indent=2), byte for byte."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubectl_imgaccess.render.structured import indented

_KEYS = st.one_of(st.text(max_size=6), st.sampled_from(["", "a\nb", "\u00e9", "\U0001F600", "\x00", '"']))
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12))
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.tuples(inner, inner), st.dictionaries(_KEYS, inner, max_size=4),
    st.dictionaries(st.one_of(st.integers(), st.booleans(), st.none()), inner, max_size=2)), max_leaves=20)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=_VALUES, level=st.integers(0, 3))
def test_indented_is_json_dumps_indent_2(doc: Any, level: int) -> None:
    expected = json.dumps(doc, indent=2).replace("\n", "\n" + "  " * level)
    assert indented(doc, level) == expected


def test_the_usual_document_takes_the_fast_way(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = {"name": "d\u00e9", "images": ("a", "b"), "n": [1, 2.5, True, None], "empty": {}, "none": []}
    expected = json.dumps(doc, indent=2)

    def slow(*_args: Any, **_kwargs: Any) -> str:
        raise AssertionError("json.dumps was used")

    monkeypatch.setattr(json, "dumps", slow)
    assert indented(doc) == expected
