"""`apiconform diff`: classify the changes between two contract versions as breaking or not for a client.

The question answered is "can code written against OLD keep working against NEW?". `_model`: the typed
change records (`Kind`, `Location`, `Change`, `DiffReport`); `_operations`: contract and operation
comparison; `_schema`: schema comparison, direction-aware; `_render`: text, Markdown, JSON;
`_source`: loading OLD and NEW (a path, a vendor, either at a git revision).
"""

from __future__ import annotations

from apiconform.gate.diff._model import Change, DiffReport, Direction, Facet, Kind, Location
from apiconform.gate.diff._operations import diff_contracts
from apiconform.gate.diff._render import FORMATS, render, render_json, render_markdown, render_text
from apiconform.gate.diff._source import open_contract

__all__ = [
    "FORMATS",
    "Change",
    "DiffReport",
    "Direction",
    "Facet",
    "Kind",
    "Location",
    "diff_contracts",
    "open_contract",
    "render",
    "render_json",
    "render_markdown",
    "render_text",
]
