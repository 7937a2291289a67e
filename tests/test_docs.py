"""docs/rules.md is generated from the catalog, `explain` prints the same text, and every example is true."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kubectl_imgaccess.catalog import RULES, Rule
from kubectl_imgaccess.cli.main import main
from kubectl_imgaccess.render.ruledoc import rule_markdown, rules_markdown

ROOT = Path(__file__).resolve().parents[1]
RULES_MD = ROOT / "docs" / "rules.md"


def section(text: str, rule: Rule) -> str:
    """The rule's section of docs/rules.md as written in the file (from its heading to the next one)."""
    start = text.index(f"\n## {rule.id}\n") + 1
    end = text.find("\n## ", start)
    return text[start:] if end < 0 else text[start:end]


def test_rules_md_is_generated_from_the_catalog() -> None:
    assert RULES_MD.read_text(encoding="utf-8") == rules_markdown(), \
        "docs/rules.md is out of date: run `make docs`"


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_explain_prints_the_rules_section(rule: Rule, capsys: Any) -> None:
    text = RULES_MD.read_text(encoding="utf-8")
    assert f"\n## {rule.id}\n" in text, f"docs/rules.md has no section for {rule.id}: run `make docs`"
    for spelling in (rule.id, rule.id.lower(), rule.name):
        assert main(["explain", spelling]) == 0
        assert capsys.readouterr().out == section(text, rule) == rule_markdown(rule)


def test_every_rule_has_an_anchor_link_and_its_parts() -> None:
    text = RULES_MD.read_text(encoding="utf-8")
    for rule in RULES:
        assert f"[{rule.id}](#{rule.anchor})" in text
        assert rule.help_uri.endswith(f"/docs/rules.md#{rule.anchor}")
        body = section(text, rule)
        for part in ("**Why.**", "**Fix by hand.**", "**Fix with `kubectl imgaccess fix`.**", "**Suppress.**"):
            assert part in body, (rule.id, part)


YAML_EXAMPLES = [r for r in RULES if r.example and not r.example.startswith("$ ")]


@pytest.mark.parametrize("rule", YAML_EXAMPLES, ids=[r.id for r in YAML_EXAMPLES])
def test_each_manifest_example_fires_its_rule(rule: Rule, tmp_path: Any, capsys: Any) -> None:
    path = tmp_path / "example.yaml"
    path.write_text(rule.example, encoding="utf-8")
    code = main(["check", "--offline", "-o", "json", "-f", str(path)])
    out = capsys.readouterr().out
    assert code in (0, 1), out
    doc = json.loads(out)
    assert rule.id in {f["rule"] for d in doc["domains"] for f in d["findings"]}


def test_catalog_ids_are_well_formed_ordered_and_unique() -> None:
    ids = [r.id for r in RULES]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(len(i) == 5 and i.startswith("IA") and i[2:].isdigit() for i in ids)
    assert {f"IA{n:03d}" for n in range(1, 23)} <= set(ids)
    assert len({r.name for r in RULES}) == len(RULES)


def test_readme_links_the_rules_instead_of_repeating_them() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/rules.md)" in readme and "(docs/ci.md)" in readme
    assert not any(f"| {r.id} |" in readme for r in RULES)
