"""Options: the command lines of the server and the clients, JSON config files under them,
and the client's TLS choice. Every launcher parses its options here, so no module has to
import another launcher to share them.
"""
from __future__ import annotations

import argparse
import json
import os
from typing import Callable, List, Optional, Tuple

from server.config import VERSION, ServerConfig

# Options can live in a JSON file; the server and the clients take different options, so each
# has its own default file, read from the current folder when present.
SERVER_CONFIG_FILE = "chatroom-server.json"
CLIENT_CONFIG_FILE = "chatroom-client.json"


def parse_with_config(parser: argparse.ArgumentParser, argv: Optional[List[str]],
                      default_file: str) -> argparse.Namespace:
    """Options from a JSON config file, overridden by the command line. Keys are option
    names with '_' or '-' ("auth_port" or "auth-port"); unknown keys are an error."""
    first, _ = parser.parse_known_args(argv)
    path = first.config or (default_file if os.path.exists(default_file) else None)
    if path:
        try:
            with open(path, encoding="utf-8") as f:
                values = json.load(f)
        except (OSError, ValueError) as exc:
            parser.error("cannot read the config file %s: %s" % (path, exc))
        if not isinstance(values, dict):
            parser.error("the config file %s must hold a JSON object" % path)
        known = {action.dest for action in parser._actions}
        defaults = {}
        for key, value in values.items():
            dest = key.replace("-", "_")
            if dest not in known or dest in ("help", "version", "config"):
                parser.error("unknown option %r in the config file %s" % (key, path))
            defaults[dest] = value
        parser.set_defaults(**defaults)
    return parser.parse_args(argv)


def client_parser(prog: str, description: str) -> argparse.ArgumentParser:
    from ui.i18n import LANGUAGES
    p = argparse.ArgumentParser(prog=prog, description=description,
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="examples:\n  python %s --host 192.168.1.10\n"
                                       "  python %s --host 127.0.0.1 --port 9999 --lang zh"
                                       % (prog, prog))
    p.add_argument("--host", default=None, help="the server's address (default 127.0.0.1, "
                   "or the last one used)")
    p.add_argument("--port", type=int, default=None, help="its auth port (default 9999)")
    p.add_argument("--lang", choices=LANGUAGES, default=None,
                   help="zh or en (default: from the locale)")
    p.add_argument("--tls", action="store_true", help="speak TLS (the default once a "
                   "server's certificate is pinned, or with --ca)")
    p.add_argument("--ca", metavar="FILE", help="verify the server's certificate against "
                   "this CA file instead of pinning its fingerprint")
    p.add_argument("--trust-fingerprint", metavar="HEX", help="for scripts: trust a server "
                   "whose certificate has this SHA-256 fingerprint, without asking")
    p.add_argument("--discover-to", action="append", metavar="ADDRESS[:PORT]",
                   help="where LAN discovery probes go, repeatable (default: the broadcast "
                   "address of every IPv4 interface and 255.255.255.255, on --port)")
    p.add_argument("--config", metavar="FILE", help="JSON file of these options; flags "
                   "override it (default: ./%s when it exists)" % CLIENT_CONFIG_FILE)
    add_chaos_options(p)
    return p


def discover_targets(args: argparse.Namespace) -> Callable[[], List[Tuple[str, int]]]:
    """Where a round of discovery probes goes (docs/PROTOCOL.md §14): the --discover-to
    addresses, looked up now, or else the broadcast addresses the interfaces have when the
    round starts; on --port (default 9999). Raises ValueError for an address that is wrong."""
    from net.datagrams import DEFAULT_PORT, probe_targets, resolve_targets
    port = args.port or DEFAULT_PORT
    given = args.discover_to
    if isinstance(given, str):  # "discover-to": "10.0.0.1" in a config file
        given = [given]
    if given:
        targets = resolve_targets(given, port)
        return lambda: list(targets)
    return lambda: probe_targets(port)


def tls_for(args: argparse.Namespace, host: str, port: int, decide):
    """TlsOptions when TLS is asked for or the server is already pinned; else None."""
    from ui.pins import KnownServers, tls_options, trust_given
    server = "%s:%d" % (host, port)
    known = KnownServers()
    if not (args.tls or args.ca or args.trust_fingerprint or known.get(server)):
        return None
    if args.trust_fingerprint:
        decide = trust_given(args.trust_fingerprint)
    return tls_options(server, known, decide, args.ca)



def lan_addresses() -> List[str]:
    """This machine's IPv4 addresses on its networks (not loopback), best first."""
    from net.datagrams import ipv4_interfaces
    found = [i.address for i in ipv4_interfaces() if i.broadcast]
    if not found:  # the interfaces cannot be read here: the address of the default route
        import socket
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.connect(("192.0.2.1", 9))  # TEST-NET-1; connect() on UDP sends nothing
                address = sock.getsockname()[0]
            if not address.startswith(("127.", "0.")):
                found.append(address)
        except OSError:
            pass
    return found


def connect_hint(host: str, auth_port: int, tls: bool,
                 addresses: Optional[List[str]] = None) -> str:
    """The server's line saying how students reach it (issue 20: it printed only the
    address it listens on, 0.0.0.0, which no client can use). addresses: this machine's LAN
    addresses (default: lan_addresses())."""
    flags = ("" if auth_port == 9999 else " --port %d" % auth_port) + (" --tls" if tls else "")
    if host in ("127.0.0.1", "localhost", "::1"):
        return ("only this machine can connect (python chatroom.py client%s); add --host "
                "0.0.0.0 to serve the LAN" % flags)
    if host not in ("0.0.0.0", "", "::"):
        return "students connect with: python chatroom.py client --host %s%s" % (host, flags)
    if addresses is None:
        addresses = lan_addresses()
    if not addresses:
        return ("students connect with: python chatroom.py client --host THIS_MACHINE%s "
                "(no LAN address found here)" % flags)
    return "students connect with: %s" % " or ".join(
        "python chatroom.py client --host %s%s" % (address, flags) for address in addresses)


def server_name(text: str) -> str:
    """argparse type: a server name for discovery answers (docs/PROTOCOL.md §14)."""
    from net.discovery import check_server_name
    why = check_server_name(text)
    if why:
        raise argparse.ArgumentTypeError("%r: %s" % (text, why))
    return text


def count(text: str) -> int:
    """argparse type: a whole number from 0 (limits where 0 means none)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a whole number" % text) from None
    if value < 0:
        raise argparse.ArgumentTypeError("%s must be 0 or more" % text)
    return value


def positive(text: str) -> int:
    """argparse type: a whole number from 1 (how many processes)."""
    value = count(text)
    if value < 1:
        raise argparse.ArgumentTypeError("%s must be 1 or more" % text)
    return value


# issue 20: the help names the command people run (python chatroom.py server), not the
# module behind it
EXAMPLES = """examples:
  python chatroom.py server                      local test server, SQLite in ./chatroom-data
  python chatroom.py server --host 0.0.0.0       serve the classroom LAN
  python chatroom.py server --auth-port 0 --chat-port 0 --file-port 0   pick free ports
  python chatroom.py server --max-conns-per-ip 64 --quota 2147483648
                                                 a stricter lab: 64 connections per address,
                                                 2 GiB of files per student
  python chatroom.py server --db mysql://chat:pw@db.lab:3306/chatroom --sms netease \\
      --sms-app-key KEY --sms-template 123       (secret in CHATROOM_SMS_APP_SECRET)
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="chatroom.py server", description="chatroom server: auth, chat and file services "
        "in one event loop.", epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    d = ServerConfig()
    p.add_argument("--host", default=d.host, help="address to listen on (default %(default)s; "
                   "0.0.0.0 for a LAN)")
    p.add_argument("--auth-port", type=int, default=d.auth_port, help="default %(default)s")
    p.add_argument("--chat-port", type=int, default=d.chat_port, help="default %(default)s")
    p.add_argument("--file-port", type=int, default=d.file_port, help="default %(default)s "
                   "(0 picks a free port for any of the three)")
    p.add_argument("--data-dir", default=os.path.join(".", "chatroom-data"),
                   help="database and uploaded files (default %(default)s)")
    p.add_argument("--db", help="sqlite:///FILE or mysql://user:password@host:port/database "
                   "(default sqlite:///DATA_DIR/chatroom.db)")
    p.add_argument("--storage", help="where file contents are kept (default DATA_DIR/files)")
    p.add_argument("--sms", choices=["off", "console", "netease"], default=d.sms,
                   help="phone verification: off, console (code in the server log), netease")
    p.add_argument("--sms-url", default=d.sms_url, help="Yunxin API base URL")
    p.add_argument("--sms-app-key", default="", help="Yunxin AppKey")
    p.add_argument("--sms-app-secret", default=os.environ.get("CHATROOM_SMS_APP_SECRET", ""),
                   help="Yunxin AppSecret (or set CHATROOM_SMS_APP_SECRET)")
    p.add_argument("--sms-template", help="Yunxin template id")
    p.add_argument("--max-file-size", type=int, default=d.max_file_size,
                   help="largest upload in bytes (default %(default)s)")
    p.add_argument("--flood-limit", type=float, default=d.flood_limit,
                   help="say per second per chat connection, burst twice that; all of one "
                        "user's connections together twice that (burst four times); 0 = off")
    p.add_argument("--idle-timeout", type=float, default=d.idle_timeout_s,
                   help="close connections silent this many seconds (default %(default)s)")
    p.add_argument("--tls-cert", metavar="FILE", help="PEM certificate: serve every service "
                   "over TLS (make one with: python chatroom.py make-cert)")
    p.add_argument("--tls-key", metavar="FILE", help="PEM private key for --tls-cert")
    p.add_argument("--quota", type=count, default=d.quota, metavar="BYTES",
                   help="bytes of files (finished and unfinished) per user (default "
                   "%(default)s = 10 GiB); 0 = no quota")
    p.add_argument("--max-conns-per-ip", type=count, default=d.max_conns_per_ip, metavar="N",
                   help="open connections from one address, all services (default "
                   "%(default)s); 0 = no limit")
    p.add_argument("--max-conns-per-user", type=count, default=d.max_conns_per_user,
                   metavar="N", help="authenticated chat + file connections of one user "
                   "(default %(default)s); 0 = no limit")
    p.add_argument("--logins-per-ip", type=count, default=d.logins_per_ip, metavar="N",
                   help="login attempts per minute from one address (default %(default)s); "
                   "0 = no limit")
    p.add_argument("--codes-per-ip", type=count, default=d.codes_per_ip, metavar="N",
                   help="SMS codes per 10 minutes from one address (default %(default)s); "
                   "0 = no limit")
    p.add_argument("--sms-hourly", type=count, default=d.sms_hourly, metavar="N",
                   help="SMS codes per hour in all (default %(default)s); 0 = no limit")
    p.add_argument("--admin", action="append", default=[], metavar="USERNAME",
                   help="make USERNAME an admin (a teacher) at start, or when they register; "
                   "repeatable")
    p.add_argument("--uploads", choices=["all", "admins"], default=d.uploads,
                   help="who may share files: all (default) or admins; students may always "
                   "hand work in")
    p.add_argument("--name", type=server_name, default=None,
                   help="the server's name in LAN discovery answers (default: the host name)")
    p.add_argument("--no-discovery", action="store_true",
                   help="do not answer LAN discovery probes (UDP on the auth port)")
    p.add_argument("--workers", type=positive, default=d.workers, metavar="N",
                   help="serving processes on this host, sharing the ports (default "
                   "%(default)s); each uses one core. POSIX only. Several hosts: start one "
                   "server per host on the same --db (docs/PROTOCOL.md §13)")
    p.add_argument("--log-level", default=d.log_level,
                   choices=["DEBUG", "INFO", "WARNING", "ERROR"], type=str.upper)
    p.add_argument("--trace", action="store_true",
                   help="log every frame in and out (passwords, codes, tokens masked)")
    p.add_argument("--log-file", metavar="FILE", help="append the log to FILE as well as "
                   "standard error")
    p.add_argument("--config", metavar="FILE", help="JSON file of options, e.g. "
                   '{"host": "0.0.0.0", "sms": "off"}; flags given here override it '
                   "(default: ./%s when it exists)" % SERVER_CONFIG_FILE)
    p.add_argument("--version", action="version", version="chatroom " + VERSION)
    add_chaos_options(p)
    return p


def config_from_args(args: argparse.Namespace) -> ServerConfig:
    return ServerConfig(
        host=args.host, auth_port=args.auth_port, chat_port=args.chat_port,
        file_port=args.file_port, data_dir=args.data_dir, db=args.db, storage=args.storage,
        sms=args.sms, sms_url=args.sms_url, sms_app_key=args.sms_app_key,
        sms_app_secret=args.sms_app_secret, sms_template=args.sms_template,
        max_file_size=args.max_file_size, flood_limit=args.flood_limit,
        idle_timeout_s=args.idle_timeout, tls_cert=args.tls_cert, tls_key=args.tls_key,
        log_level=args.log_level, trace=args.trace, quota=args.quota,
        max_conns_per_ip=args.max_conns_per_ip, max_conns_per_user=args.max_conns_per_user,
        logins_per_ip=args.logins_per_ip, codes_per_ip=args.codes_per_ip,
        sms_hourly=args.sms_hourly, admins=list(args.admin), uploads=args.uploads,
        name=args.name or "", discovery=not args.no_discovery, workers=args.workers)


def add_chaos_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--chaos", type=int, metavar="SEED", help="for teaching: cut every write "
                   "into random pieces, hold some back, cap every read, the same way for the "
                   "same SEED (docs/LABS.md, lab 2); loopback only")
    p.add_argument("--chaos-anywhere", action="store_true",
                   help="allow --chaos with a --host that is not this machine")


def chaos_from_args(parser: argparse.ArgumentParser, args: argparse.Namespace,
                    host: Optional[str]):
    """The net.chaos.Chaos that --chaos asks for, or None. A classroom must not suffer a
    teacher's experiment: with a --host other than this machine it is refused, unless
    --chaos-anywhere says it is meant."""
    if args.chaos is None:
        return None
    from net.chaos import Chaos, is_loopback
    if host and not (args.chaos_anywhere or is_loopback(host)):
        parser.error("--chaos %d is refused with --host %s: chaos mode breaks the network on "
                     "purpose, for this machine only (loopback). Add --chaos-anywhere if you "
                     "really mean everyone on %s to suffer it." % (args.chaos, host, host))
    return Chaos(args.chaos, anywhere=args.chaos_anywhere)
