"""Regenerate the README's rule table from the catalog (`make docs`)."""

from __future__ import annotations

import re
from pathlib import Path

from kubectl_imgaccess.catalog import markdown_table

README = Path(__file__).resolve().parents[1] / "README.md"


def main() -> None:
    text = README.read_text(encoding="utf-8")
    pattern = re.compile(r"(<!-- rules:begin[^\n]*\n).*?(<!-- rules:end -->)", re.S)
    README.write_text(pattern.sub(lambda m: m.group(1) + markdown_table() + "\n" + m.group(2), text),
                      encoding="utf-8")


if __name__ == "__main__":
    main()
