"""SMS providers behind one interface: off, console, and NetEase Yunxin.

``send_code(phone)`` blocks (the Yunxin one makes an HTTPS call), so the auth service runs it
on the worker bridge's own SMS lane: a gateway that hangs delays no one but the caller.
"""
from __future__ import annotations

import hashlib
import logging
import secrets
import time
import uuid
from typing import Optional

log = logging.getLogger("chatroom.sms")

CODE_DIGITS = 6
# Connect and read timeouts for the gateway: a slow gateway fails one send_code, it never
# holds a worker thread for long.
GATEWAY_CONNECT_TIMEOUT_S = 5
GATEWAY_READ_TIMEOUT_S = 10


class SmsRateLimited(Exception):
    """The gateway refused: too many codes for this phone (Yunxin code 416)."""


class SmsFailed(Exception):
    """The code could not be sent (gateway error, bad answer, timeout, no network)."""


class SmsProvider:
    name = "off"

    def send_code(self, phone: str) -> str:
        """Send a fresh code to phone and return it (so the server can check it later)."""
        raise SmsFailed("SMS verification is turned off on this server")


class OffSms(SmsProvider):
    name = "off"


class ConsoleSms(SmsProvider):
    """For a lab or a test: the code goes to the server log instead of a phone."""

    name = "console"

    def send_code(self, phone: str) -> str:
        code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
        log.info("SMS code for %s: %s", phone, code)
        return code


class NeteaseSms(SmsProvider):
    """NetEase Yunxin ``sendcode.action`` (docs/PROTOCOL.md §8)."""

    name = "netease"

    def __init__(self, base_url: str, app_key: str, app_secret: str,
                 template_id: Optional[str] = None) -> None:
        try:
            import requests  # noqa: F401  (only when --sms netease is chosen)
        except ImportError:
            raise RuntimeError("--sms netease needs the requests package: pip install requests "
                               "(or pip install -r requirements.txt)") from None
        if not app_key or not app_secret:
            raise RuntimeError("--sms netease needs --sms-app-key and --sms-app-secret "
                               "(or CHATROOM_SMS_APP_SECRET)")
        self.url = base_url.rstrip("/") + "/sms/sendcode.action"
        self.app_key = app_key
        self.app_secret = app_secret
        self.template_id = template_id

    def headers(self, nonce: str, cur_time: str) -> dict:
        checksum = hashlib.sha1((self.app_secret + nonce + cur_time).encode("utf-8")).hexdigest()
        return {"AppKey": self.app_key, "Nonce": nonce, "CurTime": cur_time,
                "CheckSum": checksum,
                "Content-Type": "application/x-www-form-urlencoded;charset=utf-8"}

    def send_code(self, phone: str) -> str:
        import requests
        form = {"mobile": phone, "codeLen": str(CODE_DIGITS)}
        if self.template_id:
            form["templateid"] = self.template_id
        headers = self.headers(uuid.uuid4().hex, str(int(time.time())))
        try:
            answer = requests.post(self.url, data=form, headers=headers,
                                   timeout=(GATEWAY_CONNECT_TIMEOUT_S, GATEWAY_READ_TIMEOUT_S))
            body = answer.json()
        except (requests.RequestException, ValueError) as exc:
            raise SmsFailed("SMS gateway did not answer properly: %s"
                            % type(exc).__name__) from None
        code = body.get("code") if isinstance(body, dict) else None
        if code == 200 and body.get("obj") not in (None, ""):
            return str(body["obj"])
        if code == 416:
            raise SmsRateLimited("the gateway limits codes for this phone")
        log.warning("SMS gateway refused: code=%r msg=%r", code, body.get("msg")
                    if isinstance(body, dict) else None)
        raise SmsFailed("SMS gateway answered code %r" % (code,))


def make_provider(kind: str, url: str = "https://api.netease.im", app_key: str = "",
                  app_secret: str = "", template_id: Optional[str] = None) -> SmsProvider:
    if kind == "off":
        return OffSms()
    if kind == "console":
        return ConsoleSms()
    if kind == "netease":
        return NeteaseSms(url, app_key, app_secret, template_id)
    raise ValueError("unknown SMS provider %r (off, console, netease)" % kind)
