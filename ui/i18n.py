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
    "register.fix_first": {"en": "Not registered yet: check the field {field} first.",
                           "zh": "尚未注册：请先检查“{field}”。"},
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
                      "zh": "发送太快了，请 {n} 秒后再试；消息没有丢失。"},
    "chat.refused": {"en": "The server refused this message: {why}",
                     "zh": "服务器拒绝了这条消息：{why}"},
    "chat.not_sent": {"en": "Not sent: {why}", "zh": "未发送：{why}"},
    "chat.maybe_not_sent": {"en": "The connection dropped before the server confirmed this "
                                  "message ({why}); your message is still here.",
                            "zh": "服务器确认这条消息之前连接断开了（{why}），消息没有丢失。"},
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
    "files.pick_first": {"en": "Select a file or a folder in the list first.",
                         "zh": "请先在列表中选中文件或文件夹。"},
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
    "settings.restart_lang": {"en": "A new language applies at once, in every open window.",
                              "zh": "新语言保存后立即用于所有打开的窗口。"},
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
    # where the message was: its sender, and the deletion (the language's own colon)
    "chat.deleted_line": {"en": "{who}: {text}", "zh": "{who}：{text}"},
    "chat.delete_forbidden": {"en": "You may delete only your own messages.",
                              "zh": "你只能删除自己的消息。"},
    "chat.delete_gone": {"en": "That message is gone already.", "zh": "这条消息已经不存在了。"},
    "chat.muted_refused": {"en": "You are muted until {time}; your message is still here. "
                                 "You may still write to the teacher privately.",
                           "zh": "你已被禁言至 {time}，消息没有丢失。仍可私聊老师。"},
    "chat.room_quiet_refused": {"en": "This room is quiet: only its owner and the teachers "
                                      "speak. Your message is still here.",
                                "zh": "本群全员安静中：只有群主和老师可以发言。消息没有丢失。"},
    "chat.quiet_refused": {"en": "The room is quiet: only the teacher speaks. Your message is "
                                 "still here; you may write to the teacher privately.",
                           "zh": "全员安静中：只有老师可以发言。消息没有丢失，可以私聊老师。"},
    "lock.muted": {"en": "You are muted until {time}. You may still write to the teacher "
                         "privately.",
                   "zh": "你已被禁言至 {time}。仍可私聊老师。"},
    "lock.quiet": {"en": "The room is quiet: only the teacher speaks. You may still write to "
                         "the teacher privately.",
                   "zh": "全员安静中：只有老师可以发言。仍可私聊老师。"},
    "lock.room_quiet": {"en": "This room is quiet: only its owner and the teachers speak.",
                        "zh": "本群全员安静中：只有群主和老师可以发言。"},
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
    "mod.room_owner_only": {"en": "Only this room's owner or a teacher may do that.",
                            "zh": "只有群主或老师可以这样做。"},
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
    "mod.room_quiet_on": {"en": "{by} made this room quiet: only its owner and the teachers "
                                "speak",
                          "zh": "{by} 开启了本群的全员安静：只有群主和老师可以发言"},
    "mod.room_quiet_off": {"en": "{by} ended the quiet in this room: everyone may speak again",
                           "zh": "{by} 关闭了本群的全员安静：大家可以发言了"},
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
    # -- issue 20 (9, 11, 12, 16): the terminal client, login/register, demo, language ------
    # why a connection failed (ui/neterrors.py turns net/client.py's reasons into these)
    "net.refused": {"en": "Nothing is listening on {server}. Is the server running?",
                    "zh": "{server} 上没有服务在监听。服务器启动了吗？"},
    "net.unreachable": {"en": "{host} cannot be reached from this computer (check the "
                              "network and the address).",
                        "zh": "从这台电脑无法到达 {host}（请检查网络和地址）。"},
    "net.timeout": {"en": "No answer from {server} (timed out). Check the address and that "
                          "no firewall is in the way.",
                    "zh": "{server} 没有应答（超时）。请检查地址，以及是否被防火墙拦截。"},
    "net.dns": {"en": "The server name {host} cannot be found (check its spelling, or use "
                      "its address).",
                "zh": "找不到服务器名称 {host}（请检查拼写，或直接使用 IP 地址）。"},
    "net.cannot_connect": {"en": "Cannot connect to {server} ({why}).",
                           "zh": "无法连接 {server}（{why}）。"},
    "net.tls_timeout": {"en": "The encrypted (TLS) connection to {server} timed out.",
                        "zh": "与 {server} 建立加密（TLS）连接超时。"},
    "net.cert_invalid": {"en": "The server's certificate is not valid: {why}",
                         "zh": "服务器的证书无效：{why}"},
    "net.tls_failed": {"en": "The encrypted (TLS) connection to {server} failed. Is the "
                             "server encrypted? If not, untick Encrypted (TLS) in the "
                             "login window.",
                       "zh": "与 {server} 的加密（TLS）连接失败。服务器是否加密？"
                             "如果没有加密，请在登录窗口取消勾选“加密连接（TLS）”。"},
    "net.not_trusted": {"en": "The certificate of {server} was not trusted, so nothing was "
                              "sent.",
                        "zh": "没有信任 {server} 的证书，因此什么也没有发送。"},
    "net.cert_changed": {"en": "WARNING: the certificate of {server} has CHANGED.\n"
                               "  pinned: {pinned}\n  now:    {now}\nSomeone may be "
                               "intercepting the connection. Refused. If the server really "
                               "got a new certificate, ask its owner for the fingerprint and "
                               "remove the old pin from {path}.",
                         "zh": "警告：{server} 的证书已经改变。\n  原来：{pinned}\n"
                               "  现在：{now}\n可能有人在截获连接，已拒绝。如果服务器确实换了"
                               "证书，请向管理员索取新指纹，并从 {path} 中删除旧记录。"},
    "net.reset": {"en": "The connection was reset (the server stopped, restarted or dropped "
                        "it).",
                  "zh": "连接被重置（服务器停止、重启或断开了连接）。"},
    "net.timeout_lost": {"en": "The connection timed out.", "zh": "连接超时。"},
    "net.unreachable_lost": {"en": "The network went away (the server cannot be reached).",
                             "zh": "网络断开了（无法到达服务器）。"},
    "net.lost": {"en": "The connection was lost ({why}).", "zh": "连接已断开（{why}）。"},
    "net.closed": {"en": "The server closed the connection.", "zh": "服务器关闭了连接。"},
    "net.closed_saying": {"en": "The server closed the connection: {why}",
                          "zh": "服务器关闭了连接：{why}"},
    "net.protocol": {"en": "The server sent something this client does not understand "
                           "({why}). Is it a chatroom server of the same version?",
                     "zh": "服务器发来了本客户端无法理解的数据（{why}）。它是同一版本的聊天室"
                           "服务器吗？"},
    "net.not_connected": {"en": "Not connected to the server.", "zh": "未连接到服务器。"},
    "net.tls_required": {"en": "The server is encrypted: tick Encrypted (TLS) in the login "
                               "window, then log in or create the account again.",
                         "zh": "该服务器使用加密连接：请在登录窗口勾选“加密连接（TLS）”，"
                               "然后重新登录或注册。"},
    "net.tls_required_cli": {"en": "The server is encrypted: start the client with --tls "
                                   "(python chatroom.py cli --tls --host ...).",
                             "zh": "该服务器使用加密连接：请加 --tls 启动客户端"
                                   "（python chatroom.py cli --tls --host ...）。"},
    "login.tls": {"en": "Encrypted (TLS)", "zh": "加密连接（TLS）"},
    "register.code_console": {"en": "This server prints the code in its terminal (console "
                                    "SMS), not on your phone: ask whoever runs it, or look "
                                    "there if it is you.",
                              "zh": "此服务器不发短信，验证码显示在运行服务器的终端（控制台）"
                                    "里：请向运行服务器的人索取；如果是你自己运行的，请在那里"
                                    "查看。"},
    "register.hint_console": {"en": "The code appears in the server's terminal",
                              "zh": "验证码显示在服务器的终端里"},
    # the demo (python chatroom.py)
    "demo.quit_title": {"en": "Stop the server?", "zh": "停止服务器？"},
    "demo.quit_ask": {"en": "This window runs the chat server. {n} other people are "
                            "connected to it: quitting stops the chat for everyone. Quit "
                            "anyway?",
                      "en_one": "This window runs the chat server. 1 other person is "
                                "connected to it: quitting stops the chat for them too. Quit "
                                "anyway?",
                      "zh": "这个窗口运行着聊天服务器，还有 {n} 个人连接在上面：退出会让所有人"
                            "的聊天都停止。仍然退出吗？"},
    "demo.sms_here": {"en": "Demo: no SMS is sent. When the register window asks for a "
                            "code, it is printed here, in this terminal, in a line "
                            "\"SMS code for PHONE: 123456\".",
                      "zh": "演示模式不发送短信。注册窗口要求输入验证码时，验证码会打印在这个"
                            "终端里，形如 \"SMS code for 手机号: 123456\" 的一行。"},
    "demo.already_running": {"en": "A chatroom server is already running on {server} (another "
                                   "demo?). Opening a client on it; quitting this window "
                                   "leaves that server running.",
                             "zh": "{server} 上已经有一个聊天室服务器在运行（另一个演示？）。"
                                   "现在打开一个连接它的客户端；关闭这个窗口不会停止那个服务器。"},
    "demo.already_running_cli": {"en": "A chatroom server is already running on {host}:{port} "
                                       "(another demo?): use that one, with python chatroom.py "
                                       "cli --host {host} --port {port}",
                                 "zh": "{host}:{port} 上已经有一个聊天室服务器在运行"
                                       "（另一个演示？）：请直接使用它：python chatroom.py cli "
                                       "--host {host} "
                                       "--port {port}"},
    "demo.port_taken": {"en": "{server} is taken by another program (not a chatroom server). "
                              "Start the demo on other ports, e.g. python chatroom.py "
                              "--auth-port 10999 --chat-port 10998 --file-port 10988",
                        "zh": "{server} 被另一个程序占用（不是聊天室服务器）。请换用其他端口启动"
                              "演示，例如 python chatroom.py --auth-port 10999 "
                              "--chat-port 10998 --file-port 10988"},
    # the terminal client
    "cli.banner": {"en": "chatroom — {server} — /help for commands",
                   "zh": "聊天室 — {server} — 输入 /help 查看命令"},
    "cli.usage": {"en": "usage: {usage}", "zh": "用法：{usage}"},
    "cli.usage_create": {"en": "/create NAME [private]", "zh": "/create 名称 [private]"},
    "cli.usage_join": {"en": "/join ROOM_ID|NAME", "zh": "/join 群聊编号|名称"},
    "cli.usage_invite": {"en": "/invite [ROOM_ID|NAME] USER (no room: the room you are in)",
                         "zh": "/invite [群聊编号|名称] 用户名（不写群聊：当前所在的群聊）"},
    "cli.usage_closeroom": {"en": "/closeroom ROOM_ID|NAME", "zh": "/closeroom 群聊编号|名称"},
    "cli.usage_room": {"en": "/room ROOM_ID|NAME (/room 1 or /lobby: the lobby)",
                       "zh": "/room 群聊编号|名称（/room 1 或 /lobby：大厅）"},
    "cli.usage_login": {"en": "/login NAME", "zh": "/login 用户名"},
    "cli.usage_register": {"en": "/register NAME PHONE [EMAIL]",
                           "zh": "/register 用户名 手机号 [邮箱]"},
    "cli.usage_msg": {"en": "/msg USER TEXT", "zh": "/msg 用户名 内容"},
    "cli.usage_files": {"en": "/files [more]", "zh": "/files [more]"},
    "cli.usage_delete": {"en": "/delete MSG_ID, or /delete file FILE_ID",
                         "zh": "/delete 消息编号，或 /delete file 文件编号"},
    "cli.usage_mute": {"en": "/mute USER MINUTES (a whole number from 1 to 10080)",
                       "zh": "/mute 用户名 分钟数（1 到 10080 的整数）"},
    "cli.usage_unmute": {"en": "/unmute USER", "zh": "/unmute 用户名"},
    "cli.usage_kick": {"en": "/kick USER [MINUTES] [REASON]", "zh": "/kick 用户名 [分钟数] [原因]"},
    "cli.usage_kick_minutes": {"en": "/kick USER [MINUTES] [REASON] (MINUTES: a whole number "
                                     "from 0 to 10080)",
                               "zh": "/kick 用户名 [分钟数] [原因]（分钟数：0 到 10080 的整数）"},
    "cli.usage_quiet": {"en": "/quiet on|off", "zh": "/quiet on|off"},
    "cli.usage_audit": {"en": "/audit [N] (N: 1 to 200)", "zh": "/audit [条数]（1 到 200）"},
    "cli.usage_handins": {"en": "/handins, or /handins get all|STUDENT [DEST]",
                          "zh": "/handins，或 /handins get all|学生 [目标文件夹]"},
    "cli.unknown_command": {"en": "unknown command {command} (try /help)",
                            "zh": "没有 {command} 这个命令（输入 /help 查看命令）"},
    "cli.logged_in": {"en": "logged in as {user}", "zh": "已登录为 {user}"},
    "cli.not_logged_in": {"en": "not logged in (use /login NAME)",
                          "zh": "尚未登录（请用 /login 用户名）"},
    "cli.online": {"en": "online: {users}", "zh": "在线：{users}"},
    "cli.created": {"en": "created {room}; /room {id} sends there",
                    "zh": "已创建 {room}；输入 /room {id} 在那里发言"},
    "cli.joined": {"en": "joined {room}; /room {id} sends there",
                   "zh": "已加入 {room}；输入 /room {id} 在那里发言"},
    "cli.plain_lines_go": {"en": "plain lines go to {room}", "zh": "直接输入的文字现在发往 {room}"},
    "cli.the_lobby": {"en": "the lobby", "zh": "大厅"},
    "cli.private": {"en": "private", "zh": "私密"},
    "cli.no_such_path": {"en": "no such file or folder: {path}",
                         "zh": "没有这个文件或文件夹：{path}"},
    "cli.deleted_file": {"en": "deleted file {id}", "zh": "已删除文件 {id}"},
    "cli.reconnecting": {"en": "Connection lost — reconnecting…", "zh": "连接已断开 — 正在重连…"},
    "cli.back_online": {"en": "Back online ({server}) after {n} s, {tries} tries.",
                        "zh": "已重新连上 {server}，用时 {n} 秒，尝试 {tries} 次。"},
    "cli.trust_untrusted": {"en": "{server} has an unknown certificate (SHA-256 {fingerprint}); "
                                  "not trusted. Pass --trust-fingerprint {fingerprint} if that "
                                  "is the server's.",
                            "zh": "{server} 的证书未知（SHA-256 {fingerprint}），没有信任。如果"
                                  "这确实是该服务器的证书，请加 --trust-fingerprint "
                                  "{fingerprint}。"},
    "cli.trust_shown": {"en": "The server {server} presents a certificate with SHA-256 "
                              "fingerprint\n  {fingerprint}\nCompare it with the one the "
                              "server's owner gave you.",
                        "zh": "服务器 {server} 的证书 SHA-256 指纹为\n  {fingerprint}\n"
                              "请与服务器管理员提供的指纹核对。"},
    "cli.trust_ask": {"en": "Trust it from now on? [y/N]", "zh": "以后都信任它吗？[y/N]"},
    "cli.help": {"en": """commands:
  /login NAME               log in (asks for the password)
  /register NAME PHONE [EMAIL]   create an account (asks for password and SMS code)
  TEXT                      say TEXT in the room you are in (the lobby: everyone)
  /msg USER TEXT            say TEXT to USER only
rooms:
  /rooms                    the public rooms, yours, and those you are invited to
  /create NAME [private]    make a room (private: members join by invitation only)
  /join ROOM                join a room: its name (any case) or its number (after # in
                            /rooms)
  /room ROOM                where plain lines go from now on (a line says so after each
                            switch); /room 1 or /lobby: the lobby
  /switch ROOM              the same as /room
  /lobby                    plain lines go to everyone again
  /leave [ROOM]             leave a room (no ROOM: the room you are in)
  /invite [ROOM] USER       invite USER into a room you are in (no ROOM: the current one)
  /closeroom ROOM           close a room (its owner, or a teacher)
  /users                    who is online
  /history [N]              the last N messages (default 20) of the room you are in
  /members [NAME]           everyone, online first (NAME: part of a name)
  /search TEXT              the messages containing TEXT that you may read, newest first
  /unread                   your conversations with unread messages
  /passwd                   change your password (asks for the current and the new one)
  /files                    the newest shared files
  /files more               the next page of older files
  /upload PATH              share a file or a whole folder
  /download ID [DEST]       fetch a shared file
  /download OWNER/NAME/ [DEST]   fetch every file of OWNER's folder NAME (just NAME/ when
                            only one user has a folder of that name)
  /delete MSG_ID            delete one of your messages (the number after # in
                            [#42]); a teacher may delete any message
  /delete file ID           delete a file you shared (a teacher: any file)
  /handin PATH              hand a file (or a folder's files) in: only the teachers and
                            you see it
  /logout                   log out here (then /login again, perhaps as someone else)
  /quit                     leave (Ctrl+D too)
teachers (admins) only:
  /mute USER MINUTES        USER may not speak for MINUTES (1-10080)
  /unmute USER              USER may speak again
  /kick USER [MINUTES] [REASON]   remove USER from the chat; with MINUTES (1-10080), USER
                            may not log in again until then
  /quiet on|off             while on, only teachers and its owner speak in the room you
                            write to (/room); in a quiet lobby students may still write to
                            a teacher with /msg. A room's owner may quiet it too
  /handins                  every student's hand-ins
  /handins get all|STUDENT [DEST]   download them into DEST/STUDENT/
  /audit [N]                the last N moderation actions (default 20)
  /resetpw USER             set USER's password (asks for the new one); USER is logged out
""", "zh": """命令：
  /login 用户名               登录（会询问密码）
  /register 用户名 手机号 [邮箱]   注册账号（会询问密码和短信验证码）
  文字                        在当前所在的群聊里发言（大厅：所有人）
  /msg 用户名 文字            只发给这个用户（私聊）
群聊：
  /rooms                      公开的群聊、你加入的群聊和邀请你的群聊
  /create 名称 [private]      新建群聊（private：私密，只能受邀加入）
  /join 群聊                  加入群聊：名称（不分大小写）或编号（/rooms 中 # 后的数字）
  /room 群聊                  之后直接输入的文字发往哪里（每次切换都会提示）；
                              /room 1 或 /lobby：大厅
  /switch 群聊                同 /room
  /lobby                      直接输入的文字重新发给所有人
  /leave [群聊]               退出群聊（不写群聊：当前所在的群聊）
  /invite [群聊] 用户名       邀请用户加入你所在的群聊（不写群聊：当前的群聊）
  /closeroom 群聊             关闭群聊（群主或老师）
  /users                      谁在线
  /history [条数]             当前群聊最近的若干条消息（默认 20 条）
  /members [名字]             所有成员，在线的在前（名字：名字的一部分）
  /search 文字                搜索你能看到的、包含该文字的消息，最新的在前
  /unread                     有未读消息的会话
  /passwd                     修改密码（会询问当前密码和新密码）
  /files                      最新的共享文件
  /files more                 下一页更早的文件
  /upload 路径                共享一个文件或整个文件夹
  /download 编号 [目标]       下载一个共享文件
  /download 上传者/文件夹/ [目标]   下载该用户这个文件夹里的全部文件（只有一个人有同名
                              文件夹时，写 文件夹/ 即可）
  /delete 消息编号            删除自己的一条消息（[#42] 中 # 后的数字）；老师可以删除任何
                              消息
  /delete file 编号           删除自己共享的文件（老师：任何文件）
  /handin 路径                上交作业（文件或文件夹中的文件）：只有老师和你能看到
  /logout                     退出登录（之后可以再 /login，也可以换一个账号）
  /quit                       退出程序（也可以按 Ctrl+D）
仅限老师（管理员）：
  /mute 用户名 分钟数         禁言该用户若干分钟（1-10080）
  /unmute 用户名              解除禁言
  /kick 用户名 [分钟数] [原因]   将用户移出聊天室；给出分钟数（1-10080）时，在此之前不能
                              重新登录
  /quiet on|off               开启后只有老师和群主能在当前聊天室（/room）发言；大厅安静时
                              学生仍可用 /msg 私聊老师。群主也可以让自己的群安静
  /handins                    所有学生上交的作业
  /handins get all|学生 [目标]   下载到 目标/学生/ 下
  /audit [条数]               最近的管理记录（默认 20 条）
  /resetpw 用户名             重置该用户的密码（会询问新密码）；该用户会被退出登录
"""},
    # -- end of issue 20 (9, 11, 12, 16) ------------------------------------------------------
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
    "status.connected_tls": {"en": "Connected to {server} (encrypted)",
                             "zh": "已连接 {server}（加密）"},
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
    # -- issue 20 (4, Add): member directory, message search, passwords (PROTOCOL.md §5) --
    "members.open": {"en": "Members…", "zh": "成员…"},
    "members.title": {"en": "Members", "zh": "成员"},
    "members.search": {"en": "Find:", "zh": "查找："},
    "members.name": {"en": "Name", "zh": "名字"},
    "members.status": {"en": "Status", "zh": "状态"},
    "members.role": {"en": "Role", "zh": "身份"},
    "members.online": {"en": "online", "zh": "在线"},
    "members.offline": {"en": "offline", "zh": "离线"},
    "members.you": {"en": "{user} (you)", "zh": "{user}（你）"},
    "members.message": {"en": "Message", "zh": "发消息"},
    "members.reset": {"en": "Reset password…", "zh": "重置密码…"},
    "members.more": {"en": "Not everyone is listed: type part of a name to narrow the list.",
                     "zh": "未列出全部成员：输入名字的一部分可缩小范围。"},
    "members.none": {"en": "Nobody by that name.", "zh": "没有这个名字的成员。"},
    "members.not_yourself": {"en": "That is you: pick someone else to write to.",
                             "zh": "这是你自己：请选择其他人发消息。"},
    "search.open": {"en": "Search…", "zh": "搜索…"},
    "search.title": {"en": "Search messages", "zh": "搜索消息"},
    "search.submit": {"en": "Search", "zh": "搜索"},
    "search.older": {"en": "Load older", "zh": "加载更早的"},
    "search.go": {"en": "Show conversation", "zh": "打开会话"},
    "search.time": {"en": "Time", "zh": "时间"},
    "search.where": {"en": "Where", "zh": "位置"},
    "search.who": {"en": "From", "zh": "发送者"},
    "search.text": {"en": "Message", "zh": "消息"},
    "search.empty": {"en": "Type what to look for.", "zh": "请输入要搜索的内容。"},
    "search.too_long": {"en": "Search for at most {n} characters.",
                        "zh": "搜索内容最多 {n} 个字符。"},
    "search.count": {"en": "{n} messages found (newest first).",
                     "en_one": "{n} message found.", "zh": "找到 {n} 条消息（最新的在前）。"},
    "search.none": {"en": "No message contains “{text}”.", "zh": "没有消息包含“{text}”。"},
    "password.open": {"en": "Change password…", "zh": "修改密码…"},
    "password.title_change": {"en": "Change password", "zh": "修改密码"},
    "password.title_reset": {"en": "Reset the password of {user}",
                             "zh": "重置 {user} 的密码"},
    "password.old": {"en": "Current password", "zh": "当前密码"},
    "password.new": {"en": "New password", "zh": "新密码"},
    "password.confirm": {"en": "New password again", "zh": "再次输入新密码"},
    "password.submit": {"en": "Save", "zh": "保存"},
    "password.cancel": {"en": "Cancel", "zh": "取消"},
    "password.close": {"en": "Close", "zh": "关闭"},
    "password.need_old": {"en": "Enter your current password.", "zh": "请输入当前密码。"},
    "password.mismatch": {"en": "The two new passwords differ.",
                          "zh": "两次输入的新密码不一致。"},
    "password.wrong_old": {"en": "The current password is wrong.", "zh": "当前密码不正确。"},
    "password.changed": {"en": "Password changed. Your other logins have been ended.",
                         "zh": "密码已修改。你在其他地方的登录已退出。"},
    "password.reset_done": {"en": "{user}'s password was reset and {user} was logged out. "
                                  "Tell them the new password.",
                            "zh": "已重置 {user} 的密码，{user} 已被退出登录。"
                                  "请把新密码告诉对方。"},
    "password.reset_forbidden": {"en": "Only a teacher may reset passwords, and never a "
                                       "teacher's.",
                                 "zh": "只有老师可以重置密码，且不能重置老师的密码。"},
    "cli.usage_resetpw": {"en": "/resetpw USER (asks for the new password)",
                          "zh": "/resetpw 用户名（随后输入新密码）"},
    "cli.usage_search": {"en": "/search TEXT (1 to 200 characters)",
                         "zh": "/search 文字（1 到 200 个字符）"},
    "cli.unread_line": {"en": "{where}: {n} unread", "zh": "{where}：{n} 条未读"},
    "cli.no_unread": {"en": "Nothing unread.", "zh": "没有未读消息。"},
    "cli.usage_upload": {"en": "/upload PATH (a file or a folder)",
                         "zh": "/upload 路径（文件或文件夹）"},
    "cli.usage_handin": {"en": "/handin PATH (a file or a folder)",
                         "zh": "/handin 路径（文件或文件夹）"},
    "cli.usage_download": {"en": "/download ID [DEST], or /download OWNER/NAME/ [DEST]",
                           "zh": "/download 编号 [目标]，或 /download 上传者/文件夹/ [目标]"},
    "cli.usage_history": {"en": "/history [N] (N: 1 to 200)", "zh": "/history [条数]（1 到 200）"},
    "cli.empty_folder": {"en": "nothing to send in {path}: the folder is empty, or you may "
                               "not read it",
                         "zh": "{path} 里没有可发送的文件：文件夹是空的，或者你没有读取它的权限"},
    "cli.cancelled": {"en": "cancelled", "zh": "已取消"},
    "cli.logged_out": {"en": "Logged out. /login NAME to log in again.",
                       "zh": "已退出登录。输入 /login 用户名 可以重新登录。"},
    "cli.still_reconnecting": {"en": "the connection to the server is lost and is being made "
                                     "again; try once it says it is back",
                               "zh": "与服务器的连接已断开，正在重连；提示已重新连上后再试"},
    "audit.action_reset_password": {"en": "reset password", "zh": "重置密码"},
    # -- end of issue 20 (4, Add) -------------------------------------------------------------
    # -- issue 20 (3, 6, 7, 8, 13, 16): the files window and transfers --------------------
    "files.filter": {"en": "Filter:", "zh": "筛选："},
    "files.clear_finished": {"en": "Clear finished", "zh": "清除已结束"},
    "files.queue_summary": {"en": "Transfers: {active} in progress · {done} done · {failed} "
                                  "failed or cancelled",
                            "zh": "传输：{active} 个进行中 · {done} 个已完成 · {failed} 个失败"
                                  "或已取消"},
    "files.open_folder": {"en": "Open folder", "zh": "打开文件夹"},
    "files.cannot_open": {"en": "Cannot open {folder}: this computer has no file manager to "
                                "ask.",
                          "zh": "无法打开 {folder}：这台电脑上没有可用的文件管理器。"},
    "files.downloaded": {"en": "Downloaded {name} to {folder}.",
                         "zh": "已下载 {name} 到 {folder}。"},
    "files.downloaded_folder": {"en": "Downloaded the folder {name} ({n} files) to {folder}.",
                                "en_one": "Downloaded the folder {name} (1 file) to {folder}.",
                                "zh": "已下载文件夹 {name}（{n} 个文件）到 {folder}。"},
    "files.downloaded_many": {"en": "Downloaded {n} files to {folder}.",
                              "zh": "已下载 {n} 个文件到 {folder}。"},
    "files.downloaded_as": {"en": "Downloaded {name} to {folder} as {saved}: a file of that "
                                  "name was there already, and it is kept.",
                            "zh": "已下载 {name} 到 {folder}，另存为 {saved}：那里已有同名文件，"
                                  "原文件保留不变。"},
    "files.too_large": {"en": "{name} is {size}; this server accepts files up to {limit}.",
                        "zh": "{name} 大小为 {size}，此服务器只接受不超过 {limit} 的文件。"},
    "files.delete_question": {"en": "Delete {name} (shared by {owner})? Nobody will be able "
                                    "to download it any more.",
                              "zh": "删除 {name}（{owner} 共享）？删除后任何人都无法再下载它。"},
    "files.delete_folder_question": {
        "en": "Delete the folder {name} of {owner}, with all its {n} files? Nobody will be "
              "able to download them any more.",
        "en_one": "Delete the folder {name} of {owner}, with its 1 file? Nobody will be able "
                  "to download it any more.",
        "zh": "删除 {owner} 的文件夹 {name} 及其中全部 {n} 个文件？删除后任何人都无法再下载。"},
    "files.delete_many_question": {"en": "Delete these {n} files? Nobody will be able to "
                                         "download them any more.",
                                   "zh": "删除这 {n} 个文件？删除后任何人都无法再下载。"},
    "files.deleted": {"en": "You deleted {name} (shared by {owner}).",
                      "zh": "你删除了 {name}（{owner} 共享）。"},
    "files.deleted_folder": {"en": "You deleted the folder {name} of {owner} ({n} files).",
                             "en_one": "You deleted the folder {name} of {owner} (1 file).",
                             "zh": "你删除了 {owner} 的文件夹 {name}（{n} 个文件）。"},
    "files.deleted_many": {"en": "You deleted {n} files.", "zh": "你删除了 {n} 个文件。"},
    "files.preview_loading": {"en": "Loading the preview…", "zh": "正在加载预览…"},
    "files.preview_caption": {"en": "{name} · {size}", "zh": "{name} · {size}"},
    "files.preview_failed": {"en": "No preview: the picture could not be fetched.",
                             "zh": "无法预览：图片获取失败。"},
    "transfer.retry": {"en": "waiting to try again ({tries} of {most}): {why}",
                       "zh": "等待重试（第 {tries} 次，共 {most} 次）：{why}"},
    "transfer.done_as": {"en": "done ✓ SHA-256 verified · saved as {saved}",
                         "zh": "完成 ✓ SHA-256 校验通过 · 另存为 {saved}"},
    "error.connection_lost": {"en": "The connection to the server was lost.",
                              "zh": "与服务器的连接断开了。"},
    "error.local_missing": {"en": "The file on this computer is gone (moved or deleted).",
                            "zh": "本机上的文件不见了（被移动或删除）。"},
    "error.local_denied": {"en": "No permission to read or write the file on this computer.",
                           "zh": "没有读写本机文件的权限。"},
    "error.local_full": {"en": "This computer's disk is full.", "zh": "本机磁盘已满。"},
    "error.local_changed": {"en": "The file changed while it was being sent.",
                            "zh": "文件在发送过程中被修改了。"},
    "error.local_no_folder": {"en": "Could not make the folder {folder} on this computer to "
                                    "save into: choose another folder.",
                              "zh": "无法在本机创建用来保存的文件夹 {folder}，请换一个文件夹。"},
    "error.local_error": {"en": "The file on this computer could not be read or written.",
                          "zh": "无法读写本机上的文件。"},
    "error.bad_request": {"en": "The server did not accept the request.",
                          "zh": "服务器不接受这个请求。"},
    # -- end of issue 20 (files window and transfers) ---------------------------------------
    # issue 20, the chat window: recipient bar, dates, new-messages line, mentions, pasting,
    # refusals that say why, the online list while disconnected, font size and theme
    "chat.to_everyone": {"en": "To: everyone", "zh": "发给：所有人"},
    "chat.to_room": {"en": "To: room {room}", "zh": "发给：房间 {room}"},
    "chat.to_private": {"en": "Private: {user}", "zh": "私聊：{user}"},
    "chat.online_unknown": {"en": "Online (not connected)", "zh": "在线（未连接）"},
    "chat.you": {"en": "{name} (you)", "zh": "{name}（我）"},
    "chat.new_messages": {"en": "new messages", "zh": "以下为新消息"},
    "chat.mentioned_title": {"en": "({n}) new, you were mentioned — chatroom",
                             "zh": "（{n}）条新消息，有人@了你 — 聊天室"},
    "chat.too_long": {"en": "Not sent: {n} characters, and a message may have at most "
                            "{limit}. Shorten it or split it; your text is still here.",
                      "zh": "未发送：共 {n} 个字符，一条消息最多 {limit} 个。请删减或分成几条；"
                            "内容仍保留在输入框中。"},
    "chat.paste_cut": {"en": "The clipboard held {n} characters; only what fits in one "
                             "message ({limit}) was pasted.",
                       "zh": "剪贴板中有 {n} 个字符，只粘贴了一条消息能容纳的部分（{limit} 个）。"},
    "chat.paste_binary": {"en": "The clipboard holds data, not text: nothing was pasted. "
                                "To share a file, use File → Upload file….",
                          "zh": "剪贴板中是数据而不是文字，未粘贴。"
                                "要分享文件，请用 文件 → 上传文件…。"},
    "chat.paste_image": {"en": "Pictures cannot be pasted here. Save the picture as a file "
                               "and share it with File → Upload file….",
                         "zh": "这里不能粘贴图片。请先把图片保存为文件，"
                               "再用 文件 → 上传文件… 分享。"},
    "chat.weekdays": {"en": "Monday,Tuesday,Wednesday,Thursday,Friday,Saturday,Sunday",
                      "zh": "星期一,星期二,星期三,星期四,星期五,星期六,星期日"},
    "chat.months": {"en": "January,February,March,April,May,June,July,August,September,"
                          "October,November,December",
                    "zh": "1月,2月,3月,4月,5月,6月,7月,8月,9月,10月,11月,12月"},
    "chat.date": {"en": "{weekday} {day} {month_name} {year}",
                  "zh": "{year}年{month}月{day}日 {weekday}"},
    "settings.font_size": {"en": "Text size", "zh": "字号"},
    "settings.theme": {"en": "Theme", "zh": "主题"},
    "settings.theme_light": {"en": "Light", "zh": "浅色"},
    "settings.theme_dark": {"en": "Dark", "zh": "深色"},
    # -- issue 20 follow-ups: folder lines, who deleted what, why a session ended ---------
    "chat.folder_shared": {"en": "{user} shared the folder {name} ({n} files)",
                           "zh": "{user} 分享了文件夹 {name}（{n} 个文件）"},
    "chat.folder_handed_in": {"en": "{user} handed in the folder {name} ({n} files)",
                              "zh": "{user} 上交了作业文件夹 {name}（{n} 个文件）"},
    "chat.file_deleted": {"en": "{user} deleted {owner}'s {name}",
                          "zh": "{user} 删除了 {owner} 的 {name}"},
    "chat.file_deleted_own": {"en": "{user} deleted {name}", "zh": "{user} 删除了 {name}"},
    "chat.folder_deleted": {"en": "{user} deleted {owner}'s folder {name} ({n} files)",
                            "zh": "{user} 删除了 {owner} 的文件夹 {name}（{n} 个文件）"},
    "chat.folder_deleted_own": {"en": "{user} deleted the folder {name} ({n} files)",
                                "zh": "{user} 删除了文件夹 {name}（{n} 个文件）"},
    "chat.file_removed_by": {"en": "{user} deleted a shared file",
                             "zh": "{user} 删除了一个共享文件"},
    "login.password_reset": {"en": "A teacher ({by}) reset your password; ask them for the "
                                   "new one, then log in with it.",
                             "zh": "老师（{by}）重置了你的密码；请向老师索取新密码后重新登录。"},
    "login.password_changed": {"en": "Your password was changed on another device. Log in "
                                     "with the new password.",
                               "zh": "你的密码已在另一台设备上修改。请用新密码重新登录。"},
    # -- end of issue 20 follow-ups -------------------------------------------------------
    # -- issue 20: thumbnails of shared pictures in the chat ------------------------------
    "chat.picture_loading": {"en": "[loading the picture…]", "zh": "［正在加载图片…］"},
    "chat.picture_failed": {"en": "[the picture could not be loaded: click to see it in "
                                  "Files]",
                            "zh": "［图片加载失败：点击在“文件”中查看］"},
    "chat.picture_open": {"en": "[picture: click to see it in Files]",
                          "zh": "［图片：点击在“文件”中查看］"},
    # -- end of thumbnails -----------------------------------------------------------------
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
    """One per application, shared by every presenter and window: set_language() changes
    what all of them say from the next call on (the GUI then re-labels what is shown)."""

    def __init__(self, language: str) -> None:
        self.language = language if language in LANGUAGES else "en"

    def set_language(self, language: str) -> None:
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
