"""Regenerate docs/rules.md from the catalog (`make docs`)."""

from __future__ import annotations

from pathlib import Path

from kubectl_imgaccess.render.ruledoc import rules_markdown

RULES_MD = Path(__file__).resolve().parents[1] / "docs" / "rules.md"


def main() -> None:
    RULES_MD.parent.mkdir(exist_ok=True)
    RULES_MD.write_text(rules_markdown(), encoding="utf-8")


if __name__ == "__main__":
    main()
