"""Imports point one way (STYLE.md). Read with ast, so a violation fails here, not in review."""
import ast
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PURE_NET = ("net/framing.py", "net/messages.py", "net/connection.py", "net/rules.py",
            "net/outbox.py", "net/timers.py", "net/service.py", "net/discovery.py")
IO_MODULES = {"socket", "selectors", "ssl", "select", "asyncio", "threading", "subprocess"}
THIRD_PARTY_RUNTIME = {"pymysql", "requests"}
STDLIB_ONLY_PACKAGES = ("net", "server", "db", "ui")


def modules(folder):
    for name in sorted(os.listdir(os.path.join(ROOT, folder))):
        if name.endswith(".py"):
            yield "%s/%s" % (folder, name)


def imports(path, top_level_only=False):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    nodes = tree.body if top_level_only else ast.walk(tree)
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def roots(names):
    return {n.split(".")[0] for n in names}


@pytest.mark.parametrize("path", PURE_NET)
def test_pure_protocol_modules_touch_no_io_and_nothing_of_ours_that_does(path):
    found = imports(path)
    assert not roots(found) & IO_MODULES, found
    ours = {n for n in found if n.split(".")[0] in ("net", "server", "db", "ui")}
    assert ours <= {m[:-3].replace("/", ".") for m in PURE_NET}, ours


@pytest.mark.parametrize("path", list(modules("server")))
def test_server_never_touches_sockets_or_ui(path):
    found = roots(imports(path))
    assert not found & {"socket", "selectors", "ssl", "select", "tkinter", "ui"}, found


@pytest.mark.parametrize("path", list(modules("db")))
def test_db_never_imports_net_or_ui_or_server(path):
    assert not roots(imports(path)) & {"net", "ui", "server", "tkinter"}


def test_ui_presenters_never_import_tkinter():
    if not os.path.isdir(os.path.join(ROOT, "ui")):
        pytest.skip("no ui/ yet")
    for path in modules("ui"):
        if os.path.basename(path).startswith(("presenter", "model", "i18n", "transfers")):
            assert "tkinter" not in roots(imports(path)), path


def test_net_never_imports_server_db_or_ui():
    for path in modules("net"):
        assert not roots(imports(path)) & {"server", "db", "ui"}, path


@pytest.mark.parametrize("package", STDLIB_ONLY_PACKAGES)
def test_optional_dependencies_are_imported_only_where_used(package):
    if not os.path.isdir(os.path.join(ROOT, package)):
        pytest.skip("no %s/ yet" % package)
    for path in modules(package):
        top = roots(imports(path, top_level_only=True))
        assert not top & THIRD_PARTY_RUNTIME, "%s imports %s at module level" % (path, top)


# -- the whole import graph (issue "one room per job") ----------------------------------

LAUNCHERS = ("chatroom", "server_main", "client_main")
PACKAGES = ("net", "server", "db", "ui")


def our_modules():
    """module name -> path, for every module of ours (launchers, options, the packages)."""
    found = {}
    for name in os.listdir(ROOT):
        if name.endswith(".py"):
            found[name[:-3]] = name
    for package in PACKAGES:
        for folder, _, files in os.walk(os.path.join(ROOT, package)):
            for name in files:
                if name.endswith(".py"):
                    rel = os.path.relpath(os.path.join(folder, name), ROOT)
                    module = rel[:-3].replace(os.sep, ".")
                    found[module[:-len(".__init__")] if module.endswith(".__init__")
                          else module] = rel
    return found


def graph():
    """module -> the modules of ours it imports anywhere (top level or inside functions)."""
    mods = our_modules()
    edges = {}
    for module, path in mods.items():
        targets = set()
        for name in imports(path):
            # "from net.loop import Loop" names net.loop; "from ui import x" may name ui.x
            while name and name not in mods:
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
        edges[module] = targets
    return edges


def test_no_import_cycles_among_our_modules():
    edges = graph()
    state = {}
    stack = []

    def visit(module):
        state[module] = "open"
        stack.append(module)
        for target in sorted(edges[module]):
            if state.get(target) == "open":
                cycle = stack[stack.index(target):] + [target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        stack.pop()
        state[module] = "done"

    for module in sorted(edges):
        if module not in state:
            visit(module)


def test_no_launcher_is_imported_but_by_the_one_dispatcher():
    """chatroom.py dispatches to the two composition roots; nothing imports chatroom.py,
    and the composition roots import no launcher (so none is ever loaded twice)."""
    for module, targets in graph().items():
        launchers = targets & set(LAUNCHERS)
        if module == "chatroom":
            assert launchers <= {"server_main", "client_main"}, launchers
        else:
            assert not launchers, "%s imports %s" % (module, launchers)


def test_server_imports_from_net_only_the_service_api_messages_and_rules():
    allowed = {"net.service", "net.messages", "net.rules"}
    for module, targets in graph().items():
        if module == "server" or module.startswith("server."):
            used = {t for t in targets if t.split(".")[0] == "net"}
            assert used <= allowed, "%s imports %s" % (module, used - allowed)


def test_only_the_tk_room_of_ui_imports_tkinter():
    for module, path in our_modules().items():
        if "tkinter" in roots(imports(path)):
            assert module.startswith("ui.tk") or module == "client_main", module
