-- chatroom database schema, MySQL/MariaDB dialect (InnoDB, utf8mb4).
-- db/dialect.py derives the SQLite form from this file, so keep to its style: one column or
-- key per line, inline AUTO_INCREMENT PRIMARY KEY, indexes as KEY lines.
-- Case-insensitive uniqueness is decided by the program (username_key = NFC + casefold)
-- and compared byte for byte (utf8mb4_bin): MySQL's own *_ci collations would also equate
-- accented and plain letters, which is not what "ignoring case" means.

CREATE TABLE IF NOT EXISTS schema_version (
  version INT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS users (
  id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  username VARCHAR(20) NOT NULL,
  username_key VARCHAR(100) NOT NULL,
  password_hash VARCHAR(255) NOT NULL,
  phone CHAR(11) NOT NULL,
  email VARCHAR(254) NOT NULL DEFAULT '',
  created_at DOUBLE NOT NULL,
  role VARCHAR(16) NOT NULL DEFAULT 'member',
  muted_until DOUBLE NOT NULL DEFAULT 0,
  banned_until DOUBLE NOT NULL DEFAULT 0,
  UNIQUE KEY users_username_key (username_key),
  UNIQUE KEY users_phone (phone)
) ENGINE=InnoDB AUTO_INCREMENT=1001 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS sessions (
  token_hash CHAR(64) NOT NULL PRIMARY KEY,
  user_id INT UNSIGNED NOT NULL,
  created_at DOUBLE NOT NULL,
  expires_at DOUBLE NOT NULL,
  KEY sessions_user (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS sms_codes (
  phone CHAR(11) NOT NULL PRIMARY KEY,
  code_hash CHAR(64) NOT NULL,
  sent_at DOUBLE NOT NULL,
  attempts INT NOT NULL DEFAULT 0,
  used INT NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS messages (
  id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  sender_id INT UNSIGNED NOT NULL,
  recipient_id INT UNSIGNED NULL,
  text TEXT NOT NULL,
  created_at DOUBLE NOT NULL,
  deleted INT NOT NULL DEFAULT 0,
  room_id INT UNSIGNED NULL,
  node INT UNSIGNED NULL,
  KEY messages_room (room_id, id),
  KEY messages_sender (sender_id, id),
  KEY messages_recipient (recipient_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS files (
  id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(1024) NOT NULL,
  owner_id INT UNSIGNED NOT NULL,
  size BIGINT UNSIGNED NOT NULL,
  sha256 CHAR(64) NOT NULL,
  type VARCHAR(255) NOT NULL,
  uploaded_at DOUBLE NOT NULL,
  storage_key VARCHAR(64) NOT NULL,
  state VARCHAR(16) NOT NULL,
  visibility VARCHAR(8) NOT NULL DEFAULT 'all',
  KEY files_state (state, id),
  KEY files_owner (owner_id, sha256)
) ENGINE=InnoDB AUTO_INCREMENT=1 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Every moderation action (docs/PROTOCOL.md §11), newest first by id.
CREATE TABLE IF NOT EXISTS audit (
  id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  ts DOUBLE NOT NULL,
  by_id INT UNSIGNED NULL,
  action VARCHAR(16) NOT NULL,
  user_id INT UNSIGNED NULL,
  detail TEXT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Rooms where only admins may speak (docs/PROTOCOL.md §11 quiet); room 1 is the lobby.
CREATE TABLE IF NOT EXISTS quiet_rooms (
  room_id INT UNSIGNED NOT NULL PRIMARY KEY,
  by_id INT UNSIGNED NOT NULL,
  since DOUBLE NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Rooms (docs/PROTOCOL.md §12). Room 1 is the lobby: everyone is in it, so it has no
-- member rows. A closed room keeps its row (its messages keep their room) but is gone.
CREATE TABLE IF NOT EXISTS rooms (
  id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(40) NOT NULL,
  name_key VARCHAR(200) NOT NULL,
  topic VARCHAR(200) NOT NULL DEFAULT '',
  private INT NOT NULL DEFAULT 0,
  owner_id INT UNSIGNED NULL,
  created_at DOUBLE NOT NULL,
  closed INT NOT NULL DEFAULT 0,
  KEY rooms_name_key (name_key)
) ENGINE=InnoDB AUTO_INCREMENT=1 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS room_members (
  room_id INT UNSIGNED NOT NULL,
  user_id INT UNSIGNED NOT NULL,
  joined_at DOUBLE NOT NULL,
  PRIMARY KEY (room_id, user_id),
  KEY room_members_user (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS room_invites (
  room_id INT UNSIGNED NOT NULL,
  user_id INT UNSIGNED NOT NULL,
  by_id INT UNSIGNED NOT NULL,
  invited_at DOUBLE NOT NULL,
  PRIMARY KEY (room_id, user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Many processes, one database (docs/PROTOCOL.md §13). The database is the only meeting point
-- of the server processes: an ordered log that every process appends to and tails.
-- cluster_seq holds one row, 'log': the last number given to a message or an event. A writer
-- takes the next numbers by updating that row first thing in its transaction, which locks it
-- until the commit: numbers become visible in the order they were given, with no gaps, so
-- "everything up to the row's value" is always complete. Messages take their id from it.
CREATE TABLE IF NOT EXISTS cluster_seq (
  name VARCHAR(16) NOT NULL PRIMARY KEY,
  value BIGINT UNSIGNED NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Every event other processes must hear (presence, files, moderation, rooms, logout), as JSON.
-- origin: the process that wrote it (its cluster_nodes id; 0: every process applies it).
-- Pruned after a few minutes; messages stay in their own table (they are the history).
CREATE TABLE IF NOT EXISTS cluster_events (
  seq BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  origin INT UNSIGNED NOT NULL,
  body TEXT NOT NULL,
  created_at DOUBLE NOT NULL,
  KEY cluster_events_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- One row per server process that ever started: beats grows every second while it lives.
CREATE TABLE IF NOT EXISTS cluster_nodes (
  id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
  host VARCHAR(255) NOT NULL,
  pid INT NOT NULL,
  started_at DOUBLE NOT NULL,
  heartbeat_at DOUBLE NOT NULL,
  beats BIGINT UNSIGNED NOT NULL DEFAULT 0,
  dead INT NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Who is online on which live process.
CREATE TABLE IF NOT EXISTS cluster_presence (
  node INT UNSIGNED NOT NULL,
  user_id INT UNSIGNED NOT NULL,
  username VARCHAR(20) NOT NULL,
  PRIMARY KEY (node, user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- What each user has read (docs/PROTOCOL.md §5, conversations and mark_read): the newest
-- msg_id seen of one conversation: a room (peer_id 0) or a private one with peer_id
-- (room_id 0). Unread counts are the messages of others after it.
CREATE TABLE IF NOT EXISTS read_marks (
  user_id INT UNSIGNED NOT NULL,
  peer_id INT UNSIGNED NOT NULL,
  room_id INT UNSIGNED NOT NULL,
  msg_id BIGINT UNSIGNED NOT NULL,
  PRIMARY KEY (user_id, peer_id, room_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
