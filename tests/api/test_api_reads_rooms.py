"""api/ reads the other rooms through their read functions, never their tables (docs/code-map.md, "How the API
reads the rooms"): no module of api/ imports a `tables` or `*_tables` module of dispatch, rules or ingest."""

from __future__ import annotations

import ast
from pathlib import Path

API = Path(__file__).resolve().parents[2] / "api"
ROOMS = ("dispatch", "rules", "ingest", "estate")
# what had to stay, each with its reason: empty now; a new entry needs one
ALLOWED: dict[tuple[str, str], str] = {}


def _table_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):  # `from caretaker.dispatch import tables` too
            names = [node.module or "", *(f"{node.module}.{a.name}" for a in node.names)]
        else:
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        for name in names:
            parts = name.split(".")
            if parts[0] == "caretaker" and len(parts) > 2 and parts[1] in ROOMS and \
                    (parts[-1] == "tables" or parts[-1].endswith("_tables")):
                found.append(name)
    return found


def test_no_api_module_imports_another_rooms_tables():
    found = [f"{path.relative_to(API.parent)}: {name}"
             for path in sorted(API.rglob("*.py")) if "static" not in path.parts
             for name in _table_imports(path)
             if (str(path.relative_to(API.parent)), name) not in ALLOWED]
    assert not found, "api/ reads other rooms through their read modules:\n" + "\n".join(found)


def test_the_check_sees_a_table_import(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("from caretaker.dispatch.tables import TicketRow\nimport caretaker.rules.tables\n"
                     "from caretaker.dispatch.resident_tables import SupplyCutRow\nfrom caretaker.dispatch import lookup\n"
                     "from caretaker.ingest import tables\n")
    assert _table_imports(probe) == ["caretaker.dispatch.tables", "caretaker.rules.tables",
                                     "caretaker.dispatch.resident_tables", "caretaker.ingest.tables"]
