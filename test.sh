#!/usr/bin/env bash
# The whole test suite, and everything it needs: ./test.sh   (CI runs exactly this.)
#
#  1. pip installs requirements-dev.txt;
#  2. MariaDB and Xvfb: installed with apt-get when missing and we are root (the tests start
#     their own private instances on loopback; the system services are never touched);
#  3. ruff, then the whole pytest suite, then its end-to-end tests again with CHATROOM_CHAOS set
#     (every server and test client cuts its writes and caps its reads: tests/procs.py, wire.py);
#  4. the portable part of the suite (no MariaDB, no display) under the oldest and the newest
#     Python on the machine, since lab machines run old ones.
# Without root or apt, what cannot be installed is skipped with a loud note; under CI=true a
# missing part is a failure instead.
set -uo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
IN_CI=false
[ "${CI:-}" = "true" ] && IN_CI=true
started=$(date +%s)
skipped=()

say() { printf '\n== %s\n' "$*"; }
die() { printf '\ntest.sh: FAILED: %s\n' "$*" >&2; exit 1; }
skip() {
    if $IN_CI; then die "$1 (required under CI=true)"; fi
    skipped+=("$1")
}

say "Python packages ($($PY --version 2>&1))"
$PY -m pip install -q --disable-pip-version-check -r requirements-dev.txt \
    || die "pip install -r requirements-dev.txt"

say "System packages"
have_mariadb() { command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ]; }
missing=()
have_mariadb || missing+=(mariadb-server)
command -v Xvfb >/dev/null || missing+=(xvfb)
command -v xdotool >/dev/null || missing+=(xdotool)
command -v openssl >/dev/null || missing+=(openssl)
command -v ip >/dev/null || missing+=(iproute2)  # the broadcast test's network namespaces
# the two-node Galera cluster of tests/test_galera.py (docs/PROTOCOL.md §13): the provider,
# and rsync for the state transfer that fills the second node
ls /usr/lib/galera/libgalera_smm.so /usr/lib/*/galera*/libgalera_smm.so >/dev/null 2>&1 \
    || missing+=(galera-4)
command -v rsync >/dev/null || missing+=(rsync)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        t0=$(date +%s)
        echo "installing ${missing[*]} with apt-get"
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends "${missing[@]}" >/dev/null) || die "apt-get install ${missing[*]}"
        echo "installed in $(( $(date +%s) - t0 )) s"
    fi
fi
if have_mariadb; then
    mariadbd_bin=$(command -v mariadbd || echo /usr/sbin/mariadbd)
    echo "MariaDB: $("$mariadbd_bin" --version)"
else
    skip "MariaDB is not installed: the MySQL half of the store tests did not run"
fi
if command -v Xvfb >/dev/null; then
    echo "Xvfb: $(command -v Xvfb) $(dpkg-query -W -f '${Version}' xvfb 2>/dev/null)"
else
    skip "Xvfb is not installed: the GUI tests did not run"
fi
$PY -c "import tkinter" 2>/dev/null || skip "this Python has no tkinter: the GUI tests did not run"

say "ruff"
$PY -m ruff check . || die "ruff check found problems"

say "pytest: the whole suite"
mark_args=()
if ! $IN_CI; then
    have_mariadb || mark_args+=(-m "not mysql")
fi
$PY -m pytest -q -rs ${mark_args[@]+"${mark_args[@]}"}
rc=$?
[ $rc -eq 5 ] && die "pytest ran no tests"
[ $rc -ne 0 ] && die "pytest exit code $rc"

say "pytest: the end-to-end tests again, with --chaos on both ends (frames split and merged)"
# (The RSS test measures memory, not framing, and races the per-address cap at its end.)
CHATROOM_CHAOS=7 $PY -m pytest -q ${mark_args[@]+"${mark_args[@]}"} tests/test_loop.py \
    tests/test_auth.py tests/test_chat.py tests/test_files.py tests/test_tls.py \
    tests/test_client.py tests/test_session.py tests/test_cli.py \
    --deselect tests/test_loop.py::test_memory_returns_to_baseline_after_bad_peers
rc=$?
[ $rc -eq 5 ] && die "pytest ran no tests under chaos"
[ $rc -ne 0 ] && die "pytest under chaos exit code $rc"

say "pytest: the portable part under the oldest and newest Pythons"
for want in 3.8 3.13; do
    other=""
    if command -v pyenv >/dev/null; then
        prefix=$(pyenv prefix "$want" 2>/dev/null | head -1)
        [ -n "$prefix" ] && other="$prefix/bin/python"
    fi
    [ -z "$other" ] && other=$(ls -d "$HOME"/.pyenv/versions/"$want".*/bin/python 2>/dev/null | tail -1)
    [ -z "$other" ] && other=$(command -v "python$want" || true)
    if [ -z "$other" ] || [ ! -x "$other" ]; then
        skip "Python $want is not installed: the portable suite did not run on it"
        continue
    fi
    echo "-- $($other --version 2>&1)"
    $other -m pip install -q --disable-pip-version-check pytest pytest-timeout hypothesis \
        requests PyMySQL "setuptools>=70.1" || die "pip install for Python $want"
    $other -m pytest -q -m "not mysql and not gui" -x
    rc=$?
    [ $rc -eq 5 ] && die "pytest ran no tests on Python $want"
    [ $rc -ne 0 ] && die "pytest on Python $want exit code $rc"
done

say "done in $(( $(date +%s) - started )) s"
if [ ${#skipped[@]} -gt 0 ]; then
    printf '\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n'
    printf '!! NOT EVERYTHING WAS TESTED:\n'
    for s in "${skipped[@]}"; do printf '!!   - %s\n' "$s"; done
    printf '!! Run ./test.sh as root on a Debian/Ubuntu machine to install what is missing.\n'
    printf '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n'
fi
exit 0
