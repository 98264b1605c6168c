"""Row-naming error templates hold no user text.

``SeqscaleError.at_rows(template, *rows, **values)`` searches only ``template`` for ``{row}``;
a column name, a cell or a series id goes in ``values``. A template built with an f-string or
``+`` from a variable that holds user text would let a value such as ``"{row}"`` be taken for
a row (or break the message). This scan finds every template in the package and allows only
string literals and the few reviewed names below, each built from literals or placeholders.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "seqscale"

# name in a template -> why it cannot hold user text
REVIEWED = {
    "where": "sequence/rows.listed: '{row}' placeholders joined by commas",
    "cause": "frames/values.raise_not_finite: one of two literal sentences",
    "key": "errors.prefixed: a generated value name, '_prefix' and underscores",
    "self._template": "errors.prefixed: a template already checked where it was made",
}


def _parts(node: ast.expr) -> list[ast.expr]:
    """The non-literal pieces of a template expression (f-string values, ``+`` operands)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return []
    if isinstance(node, ast.JoinedStr):
        return [p for v in node.values if isinstance(v, ast.FormattedValue) for p in _parts(v.value)]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _parts(node.left) + _parts(node.right)
    return [node]


def _templates() -> list[tuple[str, int, ast.expr]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "at_rows"
            ):
                found.append((str(path.relative_to(PACKAGE)), node.lineno, node.args[0]))
    return found


def test_the_scan_sees_the_templates():
    templates = _templates()
    assert len(templates) >= 12
    kinds = {type(t).__name__ for _, _, t in templates}
    assert {"Constant", "JoinedStr", "BinOp"} <= kinds  # every way a template is written


def test_row_templates_hold_only_literals_and_reviewed_names():
    unreviewed = [
        f"{path}:{line}: {ast.unparse(part)}"
        for path, line, template in _templates()
        for part in _parts(template)
        if ast.unparse(part) not in REVIEWED
    ]
    assert not unreviewed, (
        "a row template is built from text that may come from the user; pass it as a value "
        "(at_rows(template, *rows, name=text) with {name} in the template) or review it here: "
        + "; ".join(unreviewed)
    )


def test_the_scan_catches_user_text_in_a_template():
    bad = ast.parse('InputError.at_rows(f"column {name} is empty at {{row}}.", 3)').body[0].value
    assert [ast.unparse(p) for p in _parts(bad.args[0])] == ["name"]
    glued = ast.parse('InputError.at_rows("column " + col + " at {row}.", 3)').body[0].value
    assert [ast.unparse(p) for p in _parts(glued.args[0])] == ["col"]
