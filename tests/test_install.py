"""pip install . (pyproject.toml): a wheel built from a copy of the checkout, installed into a
fresh virtual environment that cannot see the checkout, then run from outside as a teacher
would: `chatroom --version`, `chatroom server`, a scripted `chatroom cli`, `chatroom build`.

Building needs setuptools>=70.1 in the Python running the tests (requirements-dev.txt; test.sh
installs it for the other Pythons too); nothing is downloaded: the build and the install are
both --no-index.
"""
import email.message
import email.parser
import os
import re
import shutil
import signal
import subprocess
import sys
import zipfile

import pytest

from server.config import VERSION
from tests.procs import ROOT, wait_until
from tests.wire import WireClient

IN_CI = os.environ.get("CI", "").lower() == "true"
# pip wheel, venv with ensurepip and pip install take a few seconds each here; the limit is
# for a slow disk, not a hang (that fails the run instead of holding it).
STEP_TIMEOUT_S = 120
# Cheap copies: everything the build could look at, nothing it must not (caches, old builds).
COPY_IGNORE = shutil.ignore_patterns(".git", "__pycache__", "*.pyc", ".hypothesis",
                                     ".ruff_cache", ".pytest_cache", ".benchmarks", "build",
                                     "dist", "*.egg-info", ".venv*", "chatroom-data", "tmp")


def need(what: str) -> None:
    if IN_CI:
        pytest.fail("%s is required under CI=true but is not available" % what)
    pytest.skip("%s is not available" % what)


def check_build_backend() -> None:
    """The wheel is built by the Python running the tests, without build isolation."""
    try:
        import setuptools
    except ImportError:
        pytest.fail("setuptools is not installed: pip install -r requirements-dev.txt")
    release = tuple(int(part) for part in re.findall(r"\d+", setuptools.__version__)[:2])
    if release < (70, 1):
        pytest.fail("setuptools %s cannot build the wheel offline (bdist_wheel is built in "
                    "from 70.1): pip install 'setuptools>=70.1'" % setuptools.__version__)


def quiet_env(**extra: str) -> dict:
    """The environment for the installed program: nothing that points back at the checkout."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV")}
    env.update(PYTHONNOUSERSITE="1", PIP_DISABLE_PIP_VERSION_CHECK="1",
               PIP_NO_INPUT="1", **extra)
    return env


def run(cmd, **kw) -> subprocess.CompletedProcess:
    kw.setdefault("timeout", STEP_TIMEOUT_S)
    out = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert out.returncode == 0, "%s failed (%s):\n%s\n%s" % (
        " ".join(map(str, cmd)), out.returncode, out.stdout, out.stderr)
    return out


class Installed:
    """The wheel, the source copy it came from, and the venv it is installed in."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.src = os.path.join(base, "src")
        self.venv = os.path.join(base, "venv")
        self.elsewhere = os.path.join(base, "elsewhere")  # the cwd of every installed run
        os.makedirs(self.elsewhere)
        self.env = quiet_env(CHATROOM_CONFIG_DIR=os.path.join(base, "config"))
        bindir = os.path.join(self.venv, "Scripts" if os.name == "nt" else "bin")
        self.python = os.path.join(bindir, "python")
        self.chatroom = os.path.join(bindir, "chatroom")

    def build_wheel(self) -> None:
        shutil.copytree(ROOT, self.src, ignore=COPY_IGNORE)
        out_dir = os.path.join(self.base, "wheels")
        run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
             "--no-index", "-w", out_dir, self.src], cwd=self.base, env=quiet_env())
        wheels = os.listdir(out_dir)
        assert len(wheels) == 1 and wheels[0].endswith(".whl"), wheels
        self.wheel = os.path.join(out_dir, wheels[0])

    def make_venv(self) -> None:
        out = subprocess.run([sys.executable, "-m", "venv", self.venv], capture_output=True,
                             text=True, timeout=STEP_TIMEOUT_S, cwd=self.base)
        if out.returncode != 0 and "ensurepip" in out.stdout + out.stderr:
            need("venv with ensurepip (Debian: apt-get install python3-venv)")
        assert out.returncode == 0, out.stdout + out.stderr
        run([self.python, "-m", "pip", "install", "--no-index", "--no-deps", self.wheel],
            cwd=self.elsewhere, env=self.env)

    def __call__(self, *args: str, **kw) -> subprocess.CompletedProcess:
        """`chatroom ARGS` from the venv, in a folder that has nothing of ours."""
        kw.setdefault("cwd", self.elsewhere)
        return run([self.chatroom] + list(args), env=self.env, **kw)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    try:
        import ensurepip  # noqa: F401
        import venv  # noqa: F401
    except ImportError:
        need("venv with ensurepip")
    check_build_backend()
    inst = Installed(str(tmp_path_factory.mktemp("install")))
    inst.build_wheel()
    inst.make_venv()
    return inst


def wheel_metadata(wheel: str) -> email.message.Message:
    with zipfile.ZipFile(wheel) as z:
        name = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        return email.parser.Parser().parsestr(z.read(name).decode("utf-8"))


def optional(project: str, extra: str, requirement: str) -> bool:
    """Requires-Dist of PROJECT for EXTRA, as any setuptools writes it:
    'PyMySQL>=1.0; extra == "mysql"' (new) or "PyMySQL >=1.0 ; extra == 'mysql'" (older)."""
    pattern = r"%s\b[^;]*;\s*extra\s*==\s*[\"']%s[\"']$" % (re.escape(project), extra)
    return re.match(pattern, requirement) is not None


def test_wheel_metadata_has_the_version_and_the_optional_extras(installed):
    meta = wheel_metadata(installed.wheel)
    assert meta["Name"] == "chatroom"
    assert meta["Version"] == VERSION
    assert os.path.basename(installed.wheel) == "chatroom-%s-py3-none-any.whl" % VERSION
    assert meta["Requires-Python"] == ">=3.8"
    requires = meta.get_all("Requires-Dist") or []
    # Every dependency is optional: a bare Python runs everything else.
    assert all("extra ==" in r for r in requires), requires
    assert any(optional("PyMySQL", "mysql", r) for r in requires), requires
    assert any(optional("requests", "sms", r) for r in requires), requires
    assert set(meta.get_all("Provides-Extra")) == {"mysql", "sms"}


def test_wheel_holds_what_the_zipapp_holds_and_the_command(installed):
    pyz = os.path.join(installed.base, "from-source.pyz")
    run([sys.executable, os.path.join(installed.src, "chatroom.py"), "build", "--output", pyz])
    with zipfile.ZipFile(pyz) as z:
        zipapp = set(z.namelist()) - {"__main__.py"}
    with zipfile.ZipFile(installed.wheel) as z:
        names = z.namelist()
        info = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        entry_points = z.read(info).decode("utf-8")
    wheel = {n for n in names if ".dist-info/" not in n}
    assert wheel == zipapp  # schema.sql at the root, ui.tk and ui.presenters, no tests
    assert "schema.sql" in wheel and "ui/tk/app.py" in wheel
    assert re.search(r"^\[console_scripts\]\s+chatroom = chatroom:main$", entry_points, re.M)


def test_installed_chatroom_does_not_see_the_checkout(installed):
    probe = ("import chatroom, db.dialect; print(chatroom.__file__); "
             "print(db.dialect.SCHEMA_PATH)")
    paths = run([installed.python, "-c", probe], cwd=installed.elsewhere,
                env=installed.env).stdout.split()
    for path in paths:
        assert os.path.realpath(path).startswith(os.path.realpath(installed.venv)), paths
        assert not os.path.realpath(path).startswith(os.path.realpath(ROOT) + os.sep)
    assert os.path.isfile(paths[1])  # schema.sql beside the modules, where dialect looks


def test_installed_version_and_help(installed):
    assert installed("--version").stdout.strip() == "chatroom " + VERSION
    assert installed("server", "--version").stdout.strip() == "chatroom " + VERSION
    checkout = run([sys.executable, os.path.join(ROOT, "chatroom.py"), "--version"])
    assert checkout.stdout.strip() == "chatroom " + VERSION
    out = installed("server", "--help").stdout
    assert "--auth-port" in out and "--sms" in out and "example" in out
    from chatroom import COMMANDS
    usage = installed("--help").stdout
    for command in COMMANDS:
        assert re.search(r"^  %s\s" % re.escape(command), usage, re.M), command
        installed(command, "--help")


def test_installed_server_and_scripted_cli(installed, tmp_path):
    from tests.conftest import new_identity
    data = tmp_path / "data"
    log_path = tmp_path / "server.log"
    sample = tmp_path / "notes.txt"
    sample.write_text("installed with pip " * 50)
    log = open(str(log_path), "w")
    server = subprocess.Popen(
        [installed.chatroom, "server", "--host", "127.0.0.1", "--auth-port", "0",
         "--chat-port", "0", "--file-port", "0", "--data-dir", str(data), "--sms", "console"],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        cwd=installed.elsewhere, env=installed.env)
    cli = None
    try:
        def listening():
            assert server.poll() is None, "server exited:\n" + log_path.read_text()
            return re.search(r"listening auth=\S+:(\d+) chat=\S+:(\d+) file=\S+:(\d+)",
                             log_path.read_text())
        wait_until(listening, 30, what="the installed server's 'listening' line")
        auth = int(listening().group(1))
        with WireClient(auth) as c:
            assert c.request("hello")["server"] == "chatroom " + VERSION

        username, phone = new_identity()
        cli = subprocess.Popen([installed.chatroom, "cli", "--port", str(auth), "--lang", "en"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, cwd=installed.elsewhere,
                               env=installed.env)
        cli.stdin.write("/register %s %s\nsome password 7\n" % (username, phone))
        cli.stdin.flush()
        code = None

        def code_logged():
            nonlocal code
            found = re.search(r"SMS code for %s: (\d+)" % phone, log_path.read_text())
            code = found and found.group(1)
            return code
        wait_until(code_logged, 30, what="the SMS code in the server log")
        out, err = cli.communicate(
            "%s\n/login %s\nsome password 7\ninstalled says hi\n/upload %s\n/files\n/quit\n"
            % (code, username, sample), timeout=60)
        assert cli.returncode == 0, out + err
        assert "Account created" in out and "logged in as %s" % username in out
        assert "%s: installed says hi" % username in out
        assert "SHA-256 verified" in out and "notes.txt" in out
        assert (data / "chatroom.db").is_file()  # the schema came from the wheel
    finally:
        for proc in (cli, server):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        log.close()


def test_installed_build_writes_the_same_zipapp_in_the_current_folder(installed):
    reference = os.path.join(installed.base, "reference.pyz")
    run([sys.executable, os.path.join(installed.src, "chatroom.py"), "build", "--output",
         reference])
    cwd = os.path.join(installed.base, "teacher")
    os.makedirs(cwd)
    installed("build", cwd=cwd)
    built = os.path.join(cwd, "dist", "chatroom.pyz")  # not in site-packages
    with open(built, "rb") as a, open(reference, "rb") as b:
        assert a.read() == b.read()  # same sources, same bytes, installed or not
    out = run([sys.executable, "-I", "-S", built, "--version"], cwd=cwd)
    assert out.stdout.strip() == "chatroom " + VERSION
