"""Security: the source never evaluates or unpickles, never renders user text as HTML or Markdown,
and the production config is safe. Static checks read the code with `ast`; the rest run the pages."""

from __future__ import annotations

import ast
import io
import math
import tomllib
from pathlib import Path

import numpy as np
import pytest

from core import datasets
from core import spectrum as sp
from tests.apptest_helpers import open_page
from ui.controls import escape_markdown

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted([ROOT / "app.py", *[p for d in ("core", "ui", "pages") for p in (ROOT / d).glob("*.py")]])

CODE_RUNNERS = {"eval", "exec", "compile", "__import__", "execfile", "breakpoint"}
UNSAFE_MODULES = {"pickle", "cPickle", "_pickle", "marshal", "shelve", "dill", "cloudpickle", "joblib", "subprocess"}
UNSAFE_CALLS = {("os", "system"), ("os", "popen"), ("pd", "read_pickle"), ("pandas", "read_pickle")}
# Streamlit calls whose text is Markdown (the first argument, or body=/label=).
MARKDOWN_CALLS = {
    "markdown",
    "write",
    "caption",
    "info",
    "warning",
    "error",
    "success",
    "toast",
    "title",
    "header",
    "subheader",
    "exception",
}
TOKEN = "**bold** [link](http://x)"
# The same token as it must appear in the Markdown source: every active character backslash-escaped,
# so the browser shows the characters typed (written out by hand, not computed by the code under test).
TOKEN_ESCAPED = r"\*\*bold\*\* \[link\](http\://x)"


def parsed() -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))) for path in SOURCES]


def where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(ROOT)}:{node.lineno}"


def calls(tree: ast.AST):
    return (node for node in ast.walk(tree) if isinstance(node, ast.Call))


def dotted(func: ast.expr) -> tuple[str, ...]:
    """("np", "load") for np.load(...), ("eval",) for eval(...)."""
    parts = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    return tuple(reversed(parts))


def keyword(call: ast.Call, name: str):
    return next((k.value for k in call.keywords if k.arg == name), None)


def is_literal_text(node) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def test_the_scan_sees_the_whole_app():
    names = {str(p.relative_to(ROOT)) for p in SOURCES}
    assert {"app.py", "core/spectrum.py", "ui/controls.py", "pages/eos.py"} <= names and len(names) >= 20


def test_nothing_evaluates_code():
    found = []
    for path, tree in parsed():
        for call in calls(tree):
            name = dotted(call.func)
            # compile() is Python's; re.compile builds a regex and is fine.
            if (len(name) == 1 and name[0] in CODE_RUNNERS) or (name[:1] == ("builtins",) and name[-1] in CODE_RUNNERS):
                found.append(f"{where(path, call)} {'.'.join(name)}()")
            if name[-1:] in (("eval",), ("exec",), ("query",)) and len(name) > 1 and name[0] != "re":
                found.append(f"{where(path, call)} {'.'.join(name)}() evaluates an expression string")
            if name[-2:] in UNSAFE_CALLS or name[-2:] == ("importlib", "import_module"):
                found.append(f"{where(path, call)} {'.'.join(name)}()")
    assert not found, found


def test_no_pickle_like_modules_are_imported():
    found = []
    for path, tree in parsed():
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            else:
                continue
            found += [f"{where(path, node)} {m}" for m in modules if m.split(".")[0] in UNSAFE_MODULES]
    assert not found, found


def test_every_np_load_refuses_pickles():
    loads = [(path, call) for path, tree in parsed() for call in calls(tree) if dotted(call.func)[-1:] == ("load",)]
    assert loads, "core.spectrum reads .npy uploads with np.load"
    for path, call in loads:
        flag = keyword(call, "allow_pickle")
        assert isinstance(flag, ast.Constant) and flag.value is False, f"{where(path, call)}: allow_pickle=False"


def test_np_load_of_a_pickled_array_is_refused():
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="not a readable .npy array"):
        sp.from_file("evil.npy", buffer.getvalue())


def test_html_is_only_ever_static_text_written_in_the_code():
    found, html_calls = [], 0
    for path, tree in parsed():
        for call in calls(tree):
            name = dotted(call.func)
            unsafe = keyword(call, "unsafe_allow_html")
            if unsafe is not None and not (isinstance(unsafe, ast.Constant) and unsafe.value is False):
                html_calls += 1
                if not (call.args and is_literal_text(call.args[0])):
                    found.append(f"{where(path, call)}: unsafe_allow_html with a non-literal body")
            if name[-1:] == ("html",) or name[-2:] == ("components", "html") or "iframe" in name:
                if not (call.args and is_literal_text(call.args[0])):
                    found.append(f"{where(path, call)}: {'.'.join(name)} with a non-literal body")
    assert html_calls >= 1, "app.py's presentation CSS is the one known use"
    assert not found, found


def test_exception_messages_reach_markdown_only_escaped():
    """`except ValueError as exc` + st.error(f"… {exc}") would render a user's token as Markdown."""
    found, checked = [], 0
    for path, tree in parsed():
        for handler in (n for n in ast.walk(tree) if isinstance(n, ast.ExceptHandler) and n.name):
            for call in (c for stmt in handler.body for c in calls(stmt)):
                name = dotted(call.func)
                if not name or name[-1] not in MARKDOWN_CALLS:
                    continue
                for arg in [*call.args, *(k.value for k in call.keywords)]:
                    for value in (v for v in ast.walk(arg) if isinstance(v, ast.FormattedValue)):
                        names = {n.id for n in ast.walk(value.value) if isinstance(n, ast.Name)}
                        if handler.name in names:
                            checked += 1
                            call_name = dotted(value.value.func) if isinstance(value.value, ast.Call) else ()
                            if call_name[-1:] != ("escape_markdown",):
                                found.append(f"{where(path, call)}: {handler.name} shown unescaped")
    assert checked >= 2, "the spectrum and EoS error boxes quote exceptions"
    assert not found, found


def test_escape_markdown_keeps_the_text_and_disarms_every_construct():
    assert escape_markdown(TOKEN) == TOKEN_ESCAPED
    for text in ["`x`", "$x$", "~~x~~", "_x_", "<http://x>", "www.x.com", "a@b.co", "&amp;", ":red[x]", "![i](u)"]:
        out = escape_markdown(text)
        assert out.replace("\\", "") == text.replace("\\", "")  # the same characters once shown
        assert out != text  # and something was escaped
    assert escape_markdown("a\nb\r\n# c") == "a b # c"  # one line: a heading or list can never start
    assert escape_markdown(r"a\b") == r"a\\b"


# A parse error quotes the offending word (repr); a URL notice and the exercise note quote it all.
WORD_ESCAPED = r"Item #2, '\*\*bold\*\*', is not a number"


@pytest.mark.parametrize(
    "page,query,kind,box,shown",
    [
        ("quadratic", {"n": TOKEN}, "warning", "URL parameter `n`", TOKEN_ESCAPED),
        ("toy", {"tstart": TOKEN}, "warning", "URL parameter `tstart`", TOKEN_ESCAPED),
        ("quadratic", {"src": "typed list", "eigs": f"1, {TOKEN}"}, "error", "**Spectrum not changed.**", WORD_ESCAPED),
        ("momentum", {"src": "typed list", "eigs": f"1 {TOKEN}"}, "error", "**Spectrum not changed.**", WORD_ESCAPED),
        ("eos", {"etas": f"0.1 {TOKEN}"}, "error", "**Not run.** Learning rates", WORD_ESCAPED),
        ("eos", {"hidden": f"4 {TOKEN}"}, "error", "**Not run.** Hidden widths", WORD_ESCAPED),
        ("home", {"hide": TOKEN}, "info", "exercise link", TOKEN_ESCAPED),
    ],
)
def test_user_text_is_shown_literally(page, query, kind, box, shown):
    at = open_page(page, query, timeout=120)
    assert not at.exception
    texts = [el.value for el in at.get(kind) if box in el.value]
    assert len(texts) == 1, [el.value for el in at.get(kind)]
    assert "**bold**" not in texts[0] and "[link](" not in texts[0], texts[0]
    assert shown in texts[0], texts[0]


def test_uploaded_file_names_are_escaped_in_errors():
    with pytest.raises(ValueError) as err:
        sp.from_file("[x](http://evil).exe", b"1")
    assert "[x](http" in str(err.value)  # core quotes the name as it is…
    assert "[x](http" not in escape_markdown(err.value)  # …and the page shows it through escape_markdown
    with pytest.raises(ValueError) as err:
        datasets.from_csv("a,b\n1,**x**\n")
    assert r"\*\*x\*\*" in escape_markdown(err.value)


def test_production_config():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["enableXsrfProtection"] is True
    assert config["client"]["showErrorDetails"] == "none"
    assert config["server"]["maxUploadSize"] == sp.MAX_UPLOAD_BYTES // 2**20 == 10  # MB, as core enforces
    assert config["server"].get("enableCORS", True) is True  # never switched off
    assert datasets.MAX_CSV_CHARS <= sp.MAX_UPLOAD_BYTES


@pytest.mark.parametrize("raw", [float("nan"), float("inf"), "0.5", None, True, 10**400, [0.5], {"value": 0.5}])
def test_a_forged_value_from_a_sidebar_slider_or_a_live_release_is_ignored(raw):
    """What the browser sends for the sidebar's live slider (ui.live_slider) and a live release (a chart
    selection) is checked before use: a tampered message is ignored, never an exception."""
    from ui import live, live_momentum, live_slider

    assert live_slider.released_value(raw) is None
    # A release parses what float() takes ("0.5", True): a finite value in range or None, never a raise.
    eta = live.eta_value({"eta": [{"eta": raw}]})
    beta = live_momentum.beta_value({"beta": [{"beta": raw}]})
    assert eta is None or (math.isfinite(eta) and eta >= 0)
    assert beta is None or 0 <= beta < 1


def test_a_sidebar_slider_value_is_taken_as_a_number():
    from ui import live_slider

    assert live_slider.released_value(0.25) == 0.25 and live_slider.released_value(3) == 3.0
