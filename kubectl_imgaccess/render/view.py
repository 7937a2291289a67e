"""How the human-readable views are shown: decided once by the CLI from the flags and the terminal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import FrozenSet, Optional

SHOW_CHOICES = ("info", "suppressed", "baseline")  # what --show adds to the table's findings


@dataclass(frozen=True)
class View:
    color: bool = False
    width: Optional[int] = None  # the terminal's columns when stdout is a terminal; None: never shorten
    headers: bool = True  # --no-headers drops the header row
    show: FrozenSet[str] = frozenset()  # subset of SHOW_CHOICES
