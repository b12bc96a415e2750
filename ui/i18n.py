"""Every visible string, in Simplified Chinese and English. Pure: no tkinter.

    tr = Catalog("zh")
    tr("login.title")              -> "登录"
    tr("chat.unread", n=3)         -> formatted with str.format
"""
from __future__ import annotations

import locale
import os
from typing import Dict, Optional

STRINGS: Dict[str, Dict[str, str]] = {
    "app.name": {"en": "chatroom", "zh": "聊天室"},
    # login
    "login.title": {"en": "Log in", "zh": "登录"},
    "login.banner": {"en": "Welcome to chatroom", "zh": "欢迎来到聊天室"},
    "login.server": {"en": "Server", "zh": "服务器"},
    "login.login": {"en": "Username or phone", "zh": "用户名或手机号"},
    "login.password": {"en": "Password", "zh": "密码"},
    "login.submit": {"en": "Log in", "zh": "登录"},
    "login.register": {"en": "Create account", "zh": "注册账号"},
    "login.connecting": {"en": "Connecting to {server}…", "zh": "正在连接 {server}…"},
    "login.empty": {"en": "Enter your username (or phone) and password.",
                    "zh": "请输入用户名（或手机号）和密码。"},
    "login.bad_server": {"en": "Server address is host:port, for example 192.168.1.10:9999.",
                         "zh": "服务器地址格式为 主机:端口，例如 192.168.1.10:9999。"},
    "login.logged_out": {"en": "You were logged out (perhaps from another window). "
                               "Log in again to go on.",
                         "zh": "你已退出登录（可能是在另一个窗口中退出的）。请重新登录。"},
    "login.expired": {"en": "Your login is no longer valid. Log in again to go on.",
                      "zh": "登录已失效，请重新登录。"},
    # register
    "register.title": {"en": "Create account", "zh": "注册账号"},
    "register.username": {"en": "Username", "zh": "用户名"},
    "register.password": {"en": "Password", "zh": "密码"},
    "register.confirm": {"en": "Confirm password", "zh": "确认密码"},
    "register.phone": {"en": "Phone", "zh": "手机号"},
    "register.code": {"en": "SMS code", "zh": "验证码"},
    "register.email": {"en": "Email (optional)", "zh": "邮箱（可选）"},
    "register.send_code": {"en": "Send code", "zh": "发送验证码"},
    "register.resend_in": {"en": "Resend in {n} s", "zh": "{n} 秒后重发"},
    "register.submit": {"en": "Register", "zh": "注册"},
    "register.back": {"en": "Back to login", "zh": "返回登录"},
    "register.code_sent": {"en": "Code sent. It is valid for 5 minutes.",
                           "zh": "验证码已发送，5 分钟内有效。"},
    "register.done": {"en": "Account created. You can log in now.",
                      "zh": "注册成功，现在可以登录了。"},
    "hint.username": {"en": "1-20 characters, no spaces, not only digits",
                      "zh": "1-20 个字符，不含空格，不能全是数字"},
    "hint.password": {"en": "8-64 characters with a letter and a digit",
                      "zh": "8-64 个字符，含字母和数字"},
    "hint.confirm": {"en": "Type the password again", "zh": "再输入一次密码"},
    "hint.confirm_mismatch": {"en": "The passwords differ", "zh": "两次输入的密码不一致"},
    "hint.phone": {"en": "11-digit mainland mobile number", "zh": "11 位中国大陆手机号"},
    "hint.code": {"en": "6 digits from the SMS", "zh": "短信中的 6 位数字"},
    "hint.email": {"en": "name@example.com, or leave empty", "zh": "name@example.com，可不填"},
    "hint.ok": {"en": "✓", "zh": "✓"},
    # chat
    "chat.title": {"en": "chatroom — {user}", "zh": "聊天室 — {user}"},
    "chat.public": {"en": "Everyone", "zh": "所有人"},
    "chat.private_with": {"en": "Private: {user}", "zh": "私聊：{user}"},
    "chat.online": {"en": "Online ({n})", "zh": "在线（{n}）"},
    "chat.send": {"en": "Send", "zh": "发送"},
    "chat.load_older": {"en": "Load older messages", "zh": "加载更早的消息"},
    "chat.no_older": {"en": "No older messages", "zh": "没有更早的消息了"},
    "chat.counter": {"en": "{n} / 4000", "zh": "{n} / 4000"},
    "chat.joined": {"en": "{user} joined", "zh": "{user} 上线了"},
    "chat.left": {"en": "{user} left", "zh": "{user} 下线了"},
    "chat.file_shared": {"en": "{user} shared {name}", "zh": "{user} 分享了 {name}"},
    "chat.file_removed": {"en": "A shared file was removed", "zh": "一个共享文件已被删除"},
    "chat.private_mark": {"en": "(private)", "zh": "（私聊）"},
    "chat.to": {"en": "to {user}", "zh": "发给 {user}"},
    "chat.new_title": {"en": "({n}) new — chatroom", "zh": "（{n}）条新消息 — 聊天室"},
    "chat.unread": {"en": "{name} ({n})", "zh": "{name}（{n}）"},
    "chat.enter_hint": {"en": "Enter sends, Shift+Enter adds a line",
                        "zh": "回车发送，Shift+回车换行"},
    "chat.too_fast": {"en": "You are sending too fast. Try again in {n} s; your message is "
                            "still here.",
                      "zh": "发送太快了，请 {n} 秒后再试；消息仍保留在输入框中。"},
    "chat.refused": {"en": "The server refused this message: {why}",
                     "zh": "服务器拒绝了这条消息：{why}"},
    "chat.not_sent": {"en": "Not sent: {why}", "zh": "未发送：{why}"},
    "chat.maybe_not_sent": {"en": "The connection dropped before the server confirmed this "
                                  "message ({why}); it is back in the input.",
                            "zh": "服务器确认这条消息之前连接断开了（{why}），消息已放回输入框。"},
    # menus
    "menu.file": {"en": "File", "zh": "文件"},
    "menu.files": {"en": "Shared files…", "zh": "共享文件…"},
    "menu.upload_file": {"en": "Upload file…", "zh": "上传文件…"},
    "menu.upload_folder": {"en": "Upload folder…", "zh": "上传文件夹…"},
    "menu.logout": {"en": "Log out", "zh": "退出登录"},
    "menu.quit": {"en": "Quit", "zh": "退出"},
    "menu.settings": {"en": "Settings", "zh": "设置"},
    "menu.preferences": {"en": "Preferences…", "zh": "偏好设置…"},
    # files
    "files.title": {"en": "Shared files", "zh": "共享文件"},
    "files.name": {"en": "Name", "zh": "名称"},
    "files.owner": {"en": "Owner", "zh": "上传者"},
    "files.size": {"en": "Size", "zh": "大小"},
    "files.type": {"en": "Type", "zh": "类型"},
    "files.uploaded": {"en": "Uploaded", "zh": "上传时间"},
    "files.folder": {"en": "folder", "zh": "文件夹"},
    "files.download": {"en": "Download…", "zh": "下载…"},
    "files.delete": {"en": "Delete", "zh": "删除"},
    "files.refresh": {"en": "Refresh", "zh": "刷新"},
    "files.queue": {"en": "Transfers", "zh": "传输队列"},
    "files.cancel": {"en": "Cancel", "zh": "取消"},
    "files.choose_target": {"en": "Download to which folder?", "zh": "下载到哪个文件夹？"},
    "files.load_more": {"en": "Load more", "zh": "加载更多"},
    "files.loading": {"en": "Loading…", "zh": "加载中…"},
    "files.older_remain": {"en": "The newest {n} files are shown; older ones remain.",
                           "zh": "已显示最新的 {n} 个文件，还有更早的文件。"},
    "files.searching": {"en": "Looking through all shared files for this folder…",
                        "zh": "正在查找该文件夹的全部文件…"},
    "files.search_bound": {"en": "Only the newest {n} shared files were looked through; "
                                 "older files of this folder are not downloaded.",
                           "zh": "只查找了最新的 {n} 个共享文件；该文件夹中更早的文件不会下载。"},
    "transfer.hashing": {"en": "checking {pct}%", "zh": "校验中 {pct}%"},
    "transfer.waiting": {"en": "waiting", "zh": "等待中"},
    "transfer.retrying": {"en": "waiting: {why}", "zh": "等待中：{why}"},
    "transfer.sending": {"en": "{pct}% · {speed}/s · {eta} left",
                         "zh": "{pct}% · {speed}/s · 剩余 {eta}"},
    "transfer.verifying": {"en": "verifying SHA-256…", "zh": "正在校验 SHA-256…"},
    "transfer.done": {"en": "done ✓ SHA-256 verified", "zh": "完成 ✓ SHA-256 校验通过"},
    "transfer.failed": {"en": "failed: {why}", "zh": "失败：{why}"},
    "transfer.cancelled": {"en": "cancelled", "zh": "已取消"},
    "transfer.up": {"en": "↑ {name}", "zh": "↑ {name}"},
    "transfer.down": {"en": "↓ {name}", "zh": "↓ {name}"},
    # settings
    "settings.title": {"en": "Preferences", "zh": "偏好设置"},
    "settings.language": {"en": "Language", "zh": "语言"},
    "settings.server": {"en": "Server address", "zh": "服务器地址"},
    "settings.download_dir": {"en": "Download folder", "zh": "下载文件夹"},
    "settings.notify": {"en": "Flash and beep on new messages when the window is not focused",
                        "zh": "窗口不在前台时，新消息闪烁并响铃"},
    "settings.save": {"en": "Save", "zh": "保存"},
    "settings.browse": {"en": "Browse…", "zh": "浏览…"},
    "settings.restart_lang": {"en": "The new language applies to windows opened from now on.",
                              "zh": "新语言将用于之后打开的窗口。"},
    # the terminal client
    "cli.which_folder": {"en": "Several users have a folder of that name; say whose",
                         "zh": "有多个用户的文件夹同名，请指明是谁的"},
    "cli.more_files": {"en": "Older files remain: /files more shows the next {n}.",
                       "zh": "还有更早的文件：输入 /files more 查看接下来的 {n} 个。"},
    "cli.no_more_files": {"en": "No older files.", "zh": "没有更早的文件了。"},
    "cli.no_files": {"en": "No shared files.", "zh": "没有共享文件。"},
    # TLS
    "tls.title": {"en": "New server certificate", "zh": "新的服务器证书"},
    "tls.ask": {"en": "The server {server} presents a certificate with the SHA-256 "
                      "fingerprint\n\n{fingerprint}\n\nCompare it with the one the server's "
                      "owner gave you. Trust this server from now on?",
                "zh": "服务器 {server} 的证书 SHA-256 指纹为\n\n{fingerprint}\n\n"
                      "请与服务器管理员提供的指纹核对。以后都信任这个服务器吗？"},
    # status bar
    "status.connected": {"en": "Connected to {server}", "zh": "已连接 {server}"},
    "status.reconnecting": {"en": "Connection lost — reconnecting in {n} s",
                            "zh": "连接已断开 — {n} 秒后重连"},
    "status.offline": {"en": "Offline: {why}", "zh": "离线：{why}"},
    "status.refused": {"en": "{why} Trying again in {n} s.", "zh": "{why}{n} 秒后重试。"},
    # errors by status code
    "error.bad_credentials": {"en": "Wrong username/phone or password.",
                              "zh": "用户名/手机号或密码错误。"},
    "error.rate_limited": {"en": "Too many attempts. Try again in {n} s.",
                           "zh": "尝试次数过多，请 {n} 秒后再试。"},
    "error.rate_limited_later": {"en": "Too many attempts. Try again in a little while.",
                                 "zh": "尝试次数过多，请稍后再试。"},
    "error.too_many_conns_address": {
        "en": "Too many connections from this computer. Close other chatroom windows and "
              "try again.",
        "zh": "这台电脑的连接太多了。请关闭其他聊天室窗口后再试。"},
    "error.too_many_conns_account": {
        "en": "Too many connections for this account. Close other windows (or log out on "
              "other devices) and try again.",
        "zh": "此账号的连接太多了。请关闭其他窗口（或在其他设备上退出登录）后再试。"},
    "error.bad_username": {"en": "That username is not allowed.", "zh": "用户名不符合要求。"},
    "error.bad_password": {"en": "That password is not allowed.", "zh": "密码不符合要求。"},
    "error.bad_phone": {"en": "That phone number is not valid.", "zh": "手机号无效。"},
    "error.bad_email": {"en": "That email address is not valid.", "zh": "邮箱地址无效。"},
    "error.bad_code": {"en": "The code is wrong or has expired.", "zh": "验证码错误或已过期。"},
    "error.username_taken": {"en": "That username is taken.", "zh": "用户名已被占用。"},
    "error.phone_taken": {"en": "That phone is already registered.", "zh": "该手机号已注册。"},
    "error.sms_failed": {"en": "The SMS could not be sent. Try again later.",
                         "zh": "短信发送失败，请稍后再试。"},
    "error.no_such_user": {"en": "There is no such user.", "zh": "没有这个用户。"},
    "error.forbidden": {"en": "Only the owner may delete it.", "zh": "只有上传者可以删除。"},
    "error.not_found": {"en": "That file is gone.", "zh": "文件已不存在。"},
    "error.too_large": {"en": "The file is larger than the server accepts.",
                        "zh": "文件超过服务器允许的大小。"},
    "error.storage_full": {"en": "The server's disk is full.", "zh": "服务器磁盘已满。"},
    "error.quota_exceeded": {"en": "You have no room left for files on this server; delete "
                                   "some of yours first.",
                             "zh": "你在此服务器上的文件空间已用完，请先删除一些你的文件。"},
    "error.busy": {"en": "The server is busy with this file already. Try again later.",
                   "zh": "服务器正在处理这个文件，请稍后再试。"},
    "error.checksum_mismatch": {"en": "The data was damaged on the way (SHA-256 differs).",
                                "zh": "数据在传输中损坏（SHA-256 不一致）。"},
    "error.unsafe_name": {"en": "Unsafe file name refused: {name}",
                          "zh": "已拒绝不安全的文件名：{name}"},
    "error.internal_error": {"en": "The server had a problem. Try again.",
                             "zh": "服务器出错了，请重试。"},
    "error.generic": {"en": "Error: {why}", "zh": "错误：{why}"},
}

LANGUAGES = ("zh", "en")


def detect_language(env: Optional[Dict[str, str]] = None) -> str:
    """zh when the user's locale is Chinese, else en."""
    env = os.environ if env is None else env
    for name in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = env.get(name, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    try:
        code = locale.getlocale()[0] or ""
    except ValueError:
        code = ""
    return "zh" if code.lower().startswith(("zh", "chinese")) else "en"


class Catalog:
    def __init__(self, language: str) -> None:
        self.language = language if language in LANGUAGES else "en"

    def __call__(self, key: str, **values: object) -> str:
        entry = STRINGS.get(key)
        if entry is None:
            return key
        text = entry.get(self.language) or entry["en"]
        return text.format(**values) if values else text

    def has_error(self, status: str) -> bool:
        """Whether a server status has a sentence of its own (else error.generic)."""
        return "error." + status in STRINGS

    def error(self, status: str, **values: object) -> str:
        key = "error." + status
        if key in STRINGS:
            values.setdefault("n", 60)
            return self(key, **values)
        return self("error.generic", why=status)
