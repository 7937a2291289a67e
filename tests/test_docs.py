"""The README's rule table is generated from the catalog and must not drift from it."""

from __future__ import annotations

from pathlib import Path

from kubectl_imgaccess.catalog import RULES, markdown_table

README = Path(__file__).resolve().parents[1] / "README.md"


def rules_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("<!-- rules:begin")
    start = text.index("\n", start) + 1
    end = text.index("<!-- rules:end -->")
    return text[start:end].strip()


def test_readme_rule_table_is_generated_from_the_catalog() -> None:
    assert rules_section() == markdown_table(), "run `make docs` to regenerate the README's rule table"


def test_catalog_ids_are_sequential_and_names_unique() -> None:
    ids = [r.id for r in RULES]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(len(i) == 5 and i.startswith("IA") and i[2:].isdigit() for i in ids)
    assert {f"IA{n:03d}" for n in range(1, 23)} <= set(ids)
    assert len({r.name for r in RULES}) == len(RULES)
