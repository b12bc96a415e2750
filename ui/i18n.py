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
    # LAN discovery in the login window (docs/PROTOCOL.md §14)
    "discover.find": {"en": "Find servers", "zh": "查找服务器"},
    "discover.searching": {"en": "Looking for servers on the local network…",
                           "zh": "正在局域网中查找服务器…"},
    "discover.found": {"en": "{n} found. Pick one to use its address.",
                       "zh": "找到 {n} 个服务器，选择一个即可填入地址。"},
    "discover.none": {"en": "No server answered. Is the teacher's server running? You can "
                            "also type its address.",
                      "zh": "没有服务器应答。老师的服务器启动了吗？也可以直接输入地址。"},
    "discover.failed": {"en": "Cannot look for servers: {why}", "zh": "无法查找服务器：{why}"},
    "discover.tls": {"en": "TLS", "zh": "加密"},
    "discover.name": {"en": "Name", "zh": "名称"},
    "discover.address": {"en": "Address", "zh": "地址"},
    "discover.users": {"en": "Online", "zh": "在线"},
    "discover.picked_tls": {"en": "{name} encrypts its connections (TLS). When you log in, "
                                  "compare the certificate fingerprint you are shown.",
                            "zh": "{name} 使用加密连接（TLS）。登录时请核对显示的证书指纹。"},
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
    "menu.network": {"en": "Network", "zh": "网络"},
    "menu.inspector": {"en": "Inspector…", "zh": "帧检查器…"},
    # the frame inspector (Network → Inspector; docs/LABS.md)
    "inspector.title": {"en": "Frame inspector — chatroom", "zh": "帧检查器 — 聊天室"},
    "inspector.pause": {"en": "Pause", "zh": "暂停"},
    "inspector.resume": {"en": "Resume", "zh": "继续"},
    "inspector.clear": {"en": "Clear", "zh": "清空"},
    "inspector.filter": {"en": "Filter:", "zh": "筛选："},
    "inspector.col_time": {"en": "Time", "zh": "时间"},
    "inspector.col_dir": {"en": "Dir.", "zh": "方向"},
    "inspector.col_conn": {"en": "Conn.", "zh": "连接"},
    "inspector.col_kind": {"en": "Kind", "zh": "类型"},
    "inspector.col_length": {"en": "Length", "zh": "长度"},
    "inspector.col_reads": {"en": "Reads", "zh": "读取"},
    "inspector.col_op": {"en": "Op / status", "zh": "操作 / 状态"},
    "inspector.col_preview": {"en": "Preview (secrets masked)", "zh": "预览（已隐藏密码等）"},
    "inspector.in": {"en": "← in", "zh": "← 收"},
    "inspector.out": {"en": "→ out", "zh": "→ 发"},
    "inspector.count": {"en": "{shown} of {total} frames shown",
                        "zh": "显示 {shown} 帧，共 {total} 帧"},
    "inspector.paused": {"en": "Paused: {n} frames not recorded",
                         "zh": "已暂停：{n} 帧未记录"},
    "inspector.hint": {"en": "Select a frame to see its bytes.",
                       "zh": "选中一帧，查看它的字节。"},
    "inspector.reads_note": {"en": "(arrived in {n} recv() calls)",
                             "zh": "（分 {n} 次 recv() 收到）"},
    "inspector.header": {"en": "Header, 5 bytes:", "zh": "帧头，5 字节："},
    "inspector.body": {"en": "Body:", "zh": "帧体："},
    "inspector.kind_json": {"en": "kind 0x4a 'J': a JSON object follows",
                            "zh": "类型 0x4a 'J'：后面是一个 JSON 对象"},
    "inspector.kind_binary": {"en": "kind 0x42 'B': raw file bytes follow",
                              "zh": "类型 0x42 'B'：后面是文件的原始字节"},
    "inspector.length_is": {"en": "length 0x{hex} = {n} bytes of body",
                            "zh": "长度 0x{hex} = 帧体 {n} 字节"},
    "inspector.body_head": {"en": "(the first {n} of {total} bytes)",
                            "zh": "（前 {n} 字节，共 {total} 字节）"},
    "inspector.secret": {"en": "not shown: it carries a password, a code or a token",
                         "zh": "不显示：其中含有密码、验证码或令牌"},
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
    "cli.discover_none": {"en": "No chatroom server answered (probes went to {targets}).",
                          "zh": "没有聊天室服务器应答（探测发往 {targets}）。"},
    "cli.discover_tls": {"en": "{name} ({server}) announces the certificate SHA-256 "
                               "fingerprint\n  {fingerprint}\nAnyone on the network can "
                               "announce anything: when the client asks, compare it with the "
                               "one the server's owner gave you (connect with --tls).",
                         "zh": "{name}（{server}）公布的证书 SHA-256 指纹为\n  {fingerprint}\n"
                               "局域网中任何人都可以冒充：客户端询问时，请与服务器管理员提供的"
                               "指纹核对（连接时加 --tls）。"},
    # the teacher's controls (docs/PROTOCOL.md §11)
    "role.admin": {"en": "Teacher", "zh": "老师"},
    "chat.title_admin": {"en": "chatroom — {user} ({role})", "zh": "聊天室 — {user}（{role}）"},
    "chat.private_action": {"en": "Private message", "zh": "私聊"},
    "chat.delete_message": {"en": "Delete message", "zh": "删除消息"},
    "chat.file_handed_in": {"en": "{user} handed in {name}", "zh": "{user} 上交了作业 {name}"},
    "chat.deleted_by": {"en": "message deleted by {user}", "zh": "消息已被 {user} 删除"},
    "chat.delete_forbidden": {"en": "You may delete only your own messages.",
                              "zh": "你只能删除自己的消息。"},
    "chat.delete_gone": {"en": "That message is gone already.", "zh": "这条消息已经不存在了。"},
    "chat.muted_refused": {"en": "You are muted until {time}; your message is still here. "
                                 "You may still write to the teacher privately.",
                           "zh": "你已被禁言至 {time}，消息仍保留在输入框中。仍可私聊老师。"},
    "chat.quiet_refused": {"en": "The room is quiet: only the teacher speaks. Your message is "
                                 "still here; you may write to the teacher privately.",
                           "zh": "全员安静中：只有老师可以发言。消息仍保留在输入框中，"
                                 "可以私聊老师。"},
    "lock.muted": {"en": "You are muted until {time}. You may still write to the teacher "
                         "privately.",
                   "zh": "你已被禁言至 {time}。仍可私聊老师。"},
    "lock.quiet": {"en": "The room is quiet: only the teacher speaks. You may still write to "
                         "the teacher privately.",
                   "zh": "全员安静中：只有老师可以发言。仍可私聊老师。"},
    "mod.quiet_toggle": {"en": "Quiet room", "zh": "全员安静"},
    "mod.mute_minutes": {"en": "Mute for 5 minutes", "zh": "禁言 5 分钟"},
    "mod.mute_hour": {"en": "Mute for 1 hour", "zh": "禁言 1 小时"},
    "mod.mute_day": {"en": "Mute for a day", "zh": "禁言 1 天"},
    "mod.unmute": {"en": "Unmute", "zh": "解除禁言"},
    "mod.kick": {"en": "Remove from the chat", "zh": "移出聊天室"},
    "mod.ban": {"en": "Remove and ban for a day", "zh": "移出并禁止登录 1 天"},
    "mod.cannot_admin": {"en": "Teachers cannot be muted or removed.",
                         "zh": "不能对老师禁言或将其移出。"},
    "mod.teachers_only": {"en": "Only a teacher (an admin) may do that.",
                          "zh": "只有老师（管理员）可以这样做。"},
    "mod.muted": {"en": "{user} was muted until {time} by {by}",
                  "zh": "{user} 被 {by} 禁言至 {time}"},
    "mod.unmuted": {"en": "{user} may speak again (unmuted by {by})",
                    "zh": "{by} 解除了 {user} 的禁言"},
    "mod.kicked": {"en": "{user} was removed from the chat by {by}",
                   "zh": "{user} 被 {by} 移出了聊天室"},
    "mod.kicked_until": {"en": "{user} was removed from the chat by {by} until {time}",
                         "zh": "{user} 被 {by} 移出了聊天室，{time} 前不能登录"},
    "mod.quiet_on": {"en": "{by} made the room quiet: only the teacher speaks",
                     "zh": "{by} 开启了全员安静：只有老师可以发言"},
    "mod.quiet_off": {"en": "{by} ended the quiet: everyone may speak again",
                      "zh": "{by} 关闭了全员安静：大家可以发言了"},
    "mod.other": {"en": "{by}: {action}", "zh": "{by}：{action}"},
    "login.kicked": {"en": "{by} removed you from the chat.", "zh": "{by} 已将你移出聊天室。"},
    "login.kicked_reason": {"en": "Reason: {reason}.", "zh": "原因：{reason}。"},
    "login.kicked_until": {"en": "You can log in again after {time}.",
                           "zh": "{time} 之后才能重新登录。"},
    "menu.teacher": {"en": "Teacher", "zh": "老师"},
    "menu.audit": {"en": "Moderation log…", "zh": "管理记录…"},
    "menu.hand_ins": {"en": "Hand-ins…", "zh": "作业…"},
    "files.hand_in": {"en": "Hand in…", "zh": "上交作业…"},
    "files.tab_shared": {"en": "Shared files", "zh": "共享文件"},
    "files.tab_hand_ins": {"en": "Hand-ins", "zh": "作业"},
    "files.tab_my_hand_ins": {"en": "My hand-ins", "zh": "我交的作业"},
    "files.download_all": {"en": "Download all…", "zh": "全部下载…"},
    "files.student_summary": {"en": "{n} files · {size}", "zh": "{n} 个文件 · {size}"},
    "files.student_summary_one": {"en": "1 file · {size}", "zh": "1 个文件 · {size}"},
    "files.student_files": {"en": "{n} files", "zh": "{n} 个文件"},
    "files.student_file": {"en": "1 file", "zh": "1 个文件"},
    "files.no_hand_ins": {"en": "No hand-ins yet.", "zh": "还没有人交作业。"},
    "files.hand_ins_note": {"en": "Only you and the teachers see these files.",
                            "zh": "这些文件只有你和老师能看到。"},
    "files.hand_ins_admin_note": {"en": "Each student's hand-ins; only teachers and the "
                                        "student see them.",
                                  "zh": "每位学生上交的作业，只有老师和该学生能看到。"},
    "files.searching_hand_ins": {"en": "Looking through all files for hand-ins…",
                                 "zh": "正在查找全部作业…"},
    "files.delete_forbidden": {"en": "Only its owner or a teacher may delete this file.",
                               "zh": "只有上传者或老师可以删除这个文件。"},
    "files.upload_admins_only": {"en": "On this server only the teacher shares files. Use "
                                       "Hand in… to give your work to the teacher.",
                                 "zh": "此服务器上只有老师可以共享文件。"
                                       "请用“上交作业…”把作业交给老师。"},
    "audit.title": {"en": "Moderation log", "zh": "管理记录"},
    "audit.time": {"en": "Time", "zh": "时间"},
    "audit.by": {"en": "By", "zh": "操作者"},
    "audit.action": {"en": "Action", "zh": "操作"},
    "audit.user": {"en": "User", "zh": "对象"},
    "audit.detail": {"en": "Detail", "zh": "详情"},
    "audit.older": {"en": "Load older", "zh": "加载更早的"},
    "audit.refresh": {"en": "Refresh", "zh": "刷新"},
    "audit.empty": {"en": "Nothing has been moderated yet.", "zh": "还没有管理记录。"},
    "audit.action_mute": {"en": "mute", "zh": "禁言"},
    "audit.action_unmute": {"en": "unmute", "zh": "解除禁言"},
    "audit.action_kick": {"en": "remove", "zh": "移出"},
    "audit.action_quiet": {"en": "quiet room", "zh": "全员安静"},
    "audit.action_delete": {"en": "delete message", "zh": "删除消息"},
    "audit.action_delete_file": {"en": "delete file", "zh": "删除文件"},
    "cli.role_admin": {"en": "You are a teacher (admin) here: /help lists your commands.",
                       "zh": "你在这里是老师（管理员）：输入 /help 查看可用命令。"},
    "cli.no_hand_ins": {"en": "No hand-ins.", "zh": "没有作业。"},
    "cli.message_deleted": {"en": "message #{msg_id} was deleted by {user}",
                            "zh": "消息 #{msg_id} 已被 {user} 删除"},
    "cli.handed_in": {"en": "(hand-in)", "zh": "（作业）"},
    # TLS
    "tls.title": {"en": "New server certificate", "zh": "新的服务器证书"},
    "tls.ask": {"en": "The server {server} presents a certificate with the SHA-256 "
                      "fingerprint\n\n{fingerprint}\n\nCompare it with the one the server's "
                      "owner gave you. Trust this server from now on?",
                "zh": "服务器 {server} 的证书 SHA-256 指纹为\n\n{fingerprint}\n\n"
                      "请与服务器管理员提供的指纹核对。以后都信任这个服务器吗？"},
    "tls.announced_same": {"en": "On the local network this server announced this same "
                                 "fingerprint. Anyone there can announce anything, so still "
                                 "compare it with the one from the server's owner.",
                           "zh": "该服务器在局域网中公布的指纹与此相同。但局域网中任何人都"
                                 "可以冒充，请仍与服务器管理员提供的指纹核对。"},
    "tls.announced_differs": {"en": "WARNING: on the local network this server announced a "
                                    "DIFFERENT fingerprint:\n\n{fingerprint}\n\nSomeone may "
                                    "be impersonating it.",
                              "zh": "警告：该服务器在局域网中公布的指纹与此不同：\n\n"
                                    "{fingerprint}\n\n可能有人在冒充它。"},
    # rooms (docs/PROTOCOL.md §12)
    "room.label": {"en": "# {name}", "zh": "# {name}"},
    "room.label_private": {"en": "# {name} (private)", "zh": "# {name}（私密）"},
    "room.topic_line": {"en": "{name} · {members} — {topic}", "zh": "{name} · {members} — {topic}"},
    "room.topic_none": {"en": "{name} · {members}", "zh": "{name} · {members}"},
    "room.members": {"en": "{n} members", "en_one": "{n} member", "zh": "{n} 人"},
    "room.new": {"en": "New room…", "zh": "新建群聊…"},
    "room.browse": {"en": "Browse rooms", "zh": "浏览群聊"},
    "room.invite": {"en": "Invite…", "zh": "邀请…"},
    "room.leave": {"en": "Leave", "zh": "退出群聊"},
    "room.new_title": {"en": "New room", "zh": "新建群聊"},
    "room.name": {"en": "Name", "zh": "名称"},
    "room.topic": {"en": "Topic", "zh": "主题"},
    "room.private": {"en": "Private (by invitation only)", "zh": "私密（仅限受邀者加入）"},
    "room.create": {"en": "Create", "zh": "创建"},
    "room.cancel": {"en": "Cancel", "zh": "取消"},
    "room.browse_title": {"en": "Rooms", "zh": "群聊列表"},
    "room.join": {"en": "Join", "zh": "加入"},
    "room.dismiss": {"en": "Dismiss", "zh": "忽略"},
    "room.state_joined": {"en": "joined", "zh": "已加入"},
    "room.state_invited": {"en": "invited", "zh": "受邀"},
    "room.none": {"en": "No rooms yet: make one with “New room…”.",
                  "zh": "还没有群聊：用“新建群聊…”创建一个。"},
    "room.invite_who": {"en": "Invite whom to {room}? (a username)",
                        "zh": "邀请谁加入 {room}？（用户名）"},
    "room.invited_notice": {"en": "{user} invited you to {room}",
                            "zh": "{user} 邀请你加入 {room}"},
    "room.invite_sent": {"en": "You invited {user} to {room}", "zh": "你邀请了 {user} 加入 {room}"},
    "room.created": {"en": "{user} made the room {room}; anyone may join it",
                     "zh": "{user} 创建了群聊 {room}，任何人都可以加入"},
    "room.closed": {"en": "The room {room} was closed", "zh": "群聊 {room} 已关闭"},
    "room.user_joined": {"en": "{user} joined {room}", "zh": "{user} 加入了 {room}"},
    "room.user_left": {"en": "{user} left {room}", "zh": "{user} 退出了 {room}"},
    "room.you_left": {"en": "You left {room}", "zh": "你已退出 {room}"},
    "room.not_found": {"en": "There is no such room (or it is private).",
                       "zh": "没有这个群聊（或它是私密的）。"},
    "room.lobby_stays": {"en": "Everyone stays in the lobby.", "zh": "大厅不能退出。"},
    "error.not_member": {"en": "You are not in that room; join it first.",
                         "zh": "你不在这个群聊里，请先加入。"},
    "error.room_taken": {"en": "A room with that name exists.", "zh": "已有同名的群聊。"},
    "error.bad_room_name": {"en": "Room names are 1 to 40 characters, not only spaces.",
                            "zh": "群聊名称为 1 到 40 个字符，且不能全是空格。"},
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
    "error.forbidden": {"en": "You are not allowed to do that.", "zh": "你没有权限这样做。"},
    "error.muted": {"en": "You are muted for now; you may still write to the teacher.",
                    "zh": "你暂时被禁言了，仍可私聊老师。"},
    "error.banned": {"en": "You were removed from this chat for a while.",
                     "zh": "你已被移出聊天室一段时间。"},
    "error.banned_until": {"en": "You were removed until {time}.",
                           "zh": "你已被移出聊天室，{time} 之后才能重新登录。"},
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
        if values.get("n") == 1:  # English says "1 member", not "1 members"
            text = entry.get(self.language + "_one", text)
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
