"""Every refusal a person can read is an ``N_`` template with its values passed apart, so that a
page says it in the reader's language (issue 17: "Errors are not in the user's language").

The test reads ``server/`` with ``ast`` and looks at the message of each call to
``DomainError`` or one of its subclasses, to ``field_error``, and of each ``ValueError`` raised
in a pydantic validator. A message may be ``N_("...")``, a name, attribute or subscript (a
constant or parameter holding an ``N_``-marked text), or a conditional of those; an f-string,
a ``%`` or ``.format`` expression, a bare literal or another call's result is English that
no catalog knows. A call that passes ``errors=`` is judged by those errors instead: its
message is the API's summary, and a page says each error (``server.error_words.explain``), so
an error written out there needs a translatable message or a ``template``. A name counts as
translatable unless the module assigns it English; what a helper function returns is not
followed.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SERVER = Path(__file__).resolve().parents[1] / "server"
#: Functions and classes (besides DomainError's) that take a message: where it goes.
HELPERS = {"field_error": 1, "refused_value": 0, "Problem": 0}
VALIDATORS = {"field_validator", "model_validator"}

#: Refusals only developers or operators read, left in English on purpose: (file, function).
DEVELOPER_ONLY = {
    # The JSON API's own protocol: a client program, not a person, sends a wrong body or an
    # Authorization header, and API tokens are used by programs.
    ("web.py", "json_body"),
    ("accounts/sessions.py", "identity_from_request"),
    ("accounts/sessions.py", "_from_api_token"),
    # A route registered without an access rule: a programming error, answered 500.
    ("middleware.py", "guard"),
    # The ledger's entry kinds are Concord's own constants, never typed by anyone.
    ("ledger/operations.py", "append"),
    # Prometheus scrapers and memory probes (CONCORD_METRICS_ALLOW): operators' tools.
    ("monitoring/scrapers.py", "may_scrape"),
    # The minutes' stored hash no longer matches: an internal invariant, answered 500.
    ("minutes/steps.py", "finalise"),
    # A site page's script reports its connection statistics; no person types them.
    ("monitoring/health_live.py", "_weighted"),
}


@dataclass(frozen=True)
class Found:
    where: str
    function: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"server/{self.where}:{self.line} ({self.function}): {self.text}"


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _trees(root: Path) -> dict[str, ast.Module]:
    return {
        path.relative_to(root).as_posix(): ast.parse(path.read_text(encoding="utf-8"))
        for path in sorted(root.rglob("*.py"))
    }


def _message_positions(trees: dict[str, ast.Module]) -> dict[str, int | None]:
    """Each DomainError class (and import alias of one) -> where its message is passed:
    the ``message`` parameter's position, or None when its ``__init__`` builds the message
    itself (that ``super().__init__`` call is checked instead)."""
    classes: dict[str, ast.ClassDef] = {}
    for tree in trees.values():
        classes.update({n.name: n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)})
    positions: dict[str, int | None] = {"DomainError": 0}
    changed = True
    while changed:
        changed = False
        for name, node in classes.items():
            parents = [p for b in node.bases if (p := _name(b)) in positions]
            if name in positions or not parents:
                continue
            init = next(
                (f for f in node.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"),
                None,
            )
            if init is None:
                positions[name] = positions[parents[0]]
            else:
                params = [a.arg for a in init.args.args[1:]]
                positions[name] = params.index("message") if "message" in params else None
            changed = True
        for tree in trees.values():
            for imp in (n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)):
                for alias in imp.names:
                    if alias.asname and alias.name in positions and alias.asname not in positions:
                        positions[alias.asname] = positions[alias.name]
                        changed = True
    return positions


def _english(node: ast.expr) -> bool:
    """An expression that makes English text on the spot: a literal, an f-string, ``%`` or
    ``.format``."""
    if isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod)
    ):
        return True
    if isinstance(node, ast.Call) and _name(node.func) == "format":
        return True
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _translatable(node: ast.expr | None, assigned: dict[str, list[ast.expr]]) -> bool:
    if node is None or isinstance(node, ast.Attribute | ast.Subscript):
        return True
    if isinstance(node, ast.Name):  # unless the module sets that name to English somewhere
        return not any(_english(value) for value in assigned.get(node.id, []))
    if isinstance(node, ast.IfExp):
        return _translatable(node.body, assigned) and _translatable(node.orelse, assigned)
    return isinstance(node, ast.Call) and _name(node.func) == "N_"


def _assignments(tree: ast.Module) -> dict[str, list[ast.expr]]:
    """Each plain name the module assigns, with the values it gets."""
    found: dict[str, list[ast.expr]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    found.setdefault(target.id, []).append(node.value)
        elif isinstance(node, ast.NamedExpr):
            found.setdefault(node.target.id, []).append(node.value)
    return found


def _argument(call: ast.Call, position: int) -> ast.expr | None:
    if len(call.args) > position:
        return call.args[position]
    return next((k.value for k in call.keywords if k.arg == "message"), None)


def _functions(tree: ast.AST) -> Iterator[tuple[str, str, ast.AST]]:
    """Each node with the names of the innermost function and class around it."""

    def walk(node: ast.AST, function: str, cls: str) -> Iterator[tuple[str, str, ast.AST]]:
        for child in ast.iter_child_nodes(node):
            inner, outer = function, cls
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                inner = child.name
            elif isinstance(child, ast.ClassDef):
                inner = outer = child.name
            yield inner, outer, child
            yield from walk(child, inner, outer)

    yield from walk(tree, "<module>", "")


def _is_validator(function: ast.AST) -> bool:
    return isinstance(function, ast.FunctionDef) and any(
        _name(d.func if isinstance(d, ast.Call) else d) in VALIDATORS
        for d in function.decorator_list
    )


def _untemplated(errors: ast.expr, assigned: dict[str, list[ast.expr]]) -> list[ast.Dict]:
    """The errors written out in ``errors=[{...}]`` whose English message has no template."""
    if not isinstance(errors, ast.List):
        return []
    found = []
    for error in errors.elts:
        if not isinstance(error, ast.Dict):
            continue
        fields = {
            k.value: v
            for k, v in zip(error.keys, error.values, strict=True)
            if isinstance(k, ast.Constant)
        }
        if "message" in fields and "template" not in fields:
            if not _translatable(fields["message"], assigned):
                found.append(error)
    return found


def untranslatable(root: Path = SERVER) -> list[Found]:
    """The refusals under ``root`` whose message no catalog can translate."""
    trees = _trees(root)
    positions = _message_positions(trees)
    found: list[Found] = []
    for where, tree in trees.items():
        assigned = _assignments(tree)
        for owner, cls, node in _functions(tree):
            message: ast.expr | None = None
            if _is_validator(node):
                for raised in ast.walk(node):
                    if isinstance(raised, ast.Raise) and isinstance(raised.exc, ast.Call):
                        call = raised.exc
                        if (
                            _name(call.func) == "ValueError"
                            and not _translatable(_argument(call, 0), assigned)
                            and (where, owner) not in DEVELOPER_ONLY
                        ):
                            found.append(Found(where, owner, call.lineno, ast.unparse(call)))
                continue
            if not isinstance(node, ast.Call):
                continue
            errors = next((k.value for k in node.keywords if k.arg == "errors"), None)
            if errors is not None:
                for said in _untemplated(errors, assigned):
                    found.append(Found(where, owner, said.lineno, ast.unparse(said)[:160]))
                continue
            callee = _name(node.func)
            if callee == "__init__" and isinstance(node.func, ast.Attribute):
                if cls in positions and isinstance(node.func.value, ast.Call):
                    message = _argument(node, 0)
            elif callee in HELPERS:
                message = _argument(node, HELPERS[callee])
            elif callee in positions and (position := positions[callee]) is not None:
                message = _argument(node, position)
            else:
                continue
            if not _translatable(message, assigned) and (where, owner) not in DEVELOPER_ONLY:
                found.append(Found(where, owner, node.lineno, ast.unparse(node)[:160]))
    return found


def test_every_refusal_people_read_is_a_translatable_template() -> None:
    found = untranslatable()
    assert not found, (
        "these refusals reach pages in English; give each an N_ template and its values as"
        " params (or, for one only developers read, add it to DEVELOPER_ONLY with why):\n"
        + "\n".join(map(str, found))
    )


def test_the_check_sees_an_f_string_a_literal_and_a_validator(tmp_path: Path) -> None:
    (tmp_path / "errors.py").write_text(
        "class DomainError(Exception):\n"
        "    def __init__(self, message, *, params=None): ...\n"
        "class NotFound(DomainError): ...\n"
    )
    (tmp_path / "ops.py").write_text(
        "from errors import NotFound as Missing\n"
        "from pydantic import BaseModel, field_validator\n"
        "def N_(m): return m\n"
        "def look(n):\n"
        "    raise Missing(f'there is no entry {n}')\n"
        "def plain():\n"
        "    raise Missing('nothing here')\n"
        "def marked(n):\n"
        "    raise Missing(N_('there is no entry %(n)s'), params={'n': str(n)})\n"
        "def summary(errors):\n"
        "    raise Missing('the body is invalid', errors=errors)\n"
        "def field(n):\n"
        "    raise field_error('to', f'{n!r} is not after from', 'bad_range')\n"
        "class Form(BaseModel):\n"
        "    @field_validator('country')\n"
        "    def country(cls, value):\n"
        "        raise ValueError(f'{value!r} is not a country')\n"
        "def named(n):\n"
        "    said = f'{n} is too large'\n"
        "    raise Missing(said)\n"
        "def written_out(n):\n"
        "    raise Missing('bad', errors=[{'field': 'n', 'message': f'{n} is bad'}])\n"
    )
    assert [(f.function, f.line) for f in untranslatable(tmp_path)] == [
        ("look", 5),
        ("plain", 7),
        ("field", 13),
        ("country", 17),
        ("named", 20),
        ("written_out", 22),
    ]
