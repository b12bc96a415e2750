"""ui/i18n.py: the catalog holds exactly the strings the clients show. Every key is used
somewhere in ui/, and every key ui/ uses exists in both languages. Keys are found by reading
ui/ with ast: literals like "login.title", plus the families built at run time."""
import ast
import os
import re

from net.messages import STATUSES
from ui.i18n import LANGUAGES, STRINGS, Catalog
from ui.presenters.register import RegisterPresenter
from ui.transfers import STATES

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UI = os.path.join(ROOT, "ui")
PREFIXES = sorted({key.split(".")[0] for key in STRINGS})
KEY_RE = re.compile(r"^(%s)\.[a-z_]+$" % "|".join(PREFIXES))


def ui_sources():
    for folder, _, files in os.walk(UI):
        for name in sorted(files):
            if name.endswith(".py") and name != "i18n.py":
                path = os.path.join(folder, name)
                with open(path, encoding="utf-8") as f:
                    yield path, ast.parse(f.read(), path)


def string_literals():
    found = set()
    for _, tree in ui_sources():
        found.update(node.value for node in ast.walk(tree)
                     if isinstance(node, ast.Constant) and isinstance(node.value, str))
    return found


def files_window_columns():
    """FilesWindow.COLUMNS, read without importing tkinter (the headings are files.<col>)."""
    with open(os.path.join(UI, "tk", "files.py"), encoding="utf-8") as f:
        tree = ast.parse(f.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "COLUMNS":
            return ast.literal_eval(node.value)
    raise AssertionError("FilesWindow.COLUMNS not found")


# Keys built at run time: the code joins a literal prefix (which must appear in ui/) and one
# of these names.
def dynamic_keys():
    return {"hint.": {"hint." + name for name in RegisterPresenter.FIELDS},
            "files.": {"files." + name for name in files_window_columns()},
            "transfer.": {"transfer." + state for state in STATES},
            # tr.error(status): a server status with a sentence of its own (others fall
            # back to error.generic), so this family need not be complete.
            "error.": {"error." + status for status in STATUSES}}


def test_every_catalog_key_is_used_in_ui():
    literals = string_literals()
    used = {s for s in literals if KEY_RE.match(s)}
    for prefix, keys in dynamic_keys().items():
        if prefix != "error.":  # Catalog.error() builds those, from the statuses it is given
            assert prefix in literals, "nothing builds %s... keys any more" % prefix
        used |= keys
    unused = sorted(set(STRINGS) - used)
    assert not unused, "catalog keys nothing shows: %s" % unused


def test_every_key_ui_uses_exists_in_both_languages():
    used = {s for s in string_literals() if KEY_RE.match(s)}
    for prefix, keys in dynamic_keys().items():
        if prefix != "error.":
            used |= keys
    missing = sorted(k for k in used if k not in STRINGS)
    assert not missing, "keys ui/ uses that the catalog lacks: %s" % missing
    for key in used:
        for language in LANGUAGES:
            assert STRINGS[key].get(language), (key, language)


def test_one_of_something_is_singular_in_english():
    assert Catalog("en")("room.members", n=1) == "1 member"
    assert Catalog("en")("room.members", n=2) == "2 members"
    assert Catalog("zh")("room.members", n=1) == "1 人"
