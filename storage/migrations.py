"""Numbered schema migrations, applied in order at start-up.

``PRAGMA user_version`` holds the number of the last applied migration, so a database made by an
older version of adbot upgrades in place. Never edit a released migration: append a new one.

Times are unix seconds (REAL, UTC). Constraints are the backstop for the rules the code enforces:
a session has at most one owner (a column plus a trigger refusing a change of owner), no API pair holds
more sessions than its capacity (trigger, counting sidecar sessions with the pair's api_id too), and the
ledger holds one row per (campaign, cycle, group).
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: customers and their campaign, API pairs, session pool, groups
    """
    CREATE TABLE customers (
        user_id            INTEGER PRIMARY KEY,              -- Telegram user id; also the campaign id
        plan_sessions      INTEGER NOT NULL CHECK (plan_sessions >= 0),
        plan_expires_at    REAL    NOT NULL,
        created_at         REAL    NOT NULL,
        -- the campaign (one per customer)
        post_kind          TEXT CHECK (post_kind IN ('link', 'text')),
        post_link          TEXT,                            -- the link as the customer gave it
        post_peer          TEXT,                            -- '@username' or '-100<id>'
        post_msg_id        INTEGER,
        post_text          TEXT,                            -- text post, plain text
        post_entities      TEXT,                            -- text post, JSON list of MessageEntity dicts
        drop_author        INTEGER NOT NULL DEFAULT 0 CHECK (drop_author IN (0, 1)),
        interval_s         INTEGER NOT NULL CHECK (interval_s >= 1),
        status             TEXT    NOT NULL DEFAULT 'stopped' CHECK (status IN ('stopped', 'running')),
        stop_reason        TEXT,
        cycle_no           INTEGER NOT NULL DEFAULT 0,      -- number of the current or last cycle
        cycle_started_at   REAL,
        cycle_finished_at  REAL,                            -- NULL while cycle_no is in progress
        next_cycle_at      REAL,
        updated_at         REAL    NOT NULL
    );

    CREATE TABLE api_pairs (
        id          INTEGER PRIMARY KEY,
        api_id      INTEGER NOT NULL UNIQUE CHECK (api_id > 0),
        api_hash    TEXT    NOT NULL,
        capacity    INTEGER NOT NULL CHECK (capacity >= 1),   -- [pool] max_sessions_per_pair
        created_at  REAL    NOT NULL
    );

    CREATE TABLE sessions (
        id               INTEGER PRIMARY KEY,
        file_name        TEXT    NOT NULL UNIQUE,            -- server-generated, never the upload's name
        auth_key_sha     TEXT    NOT NULL UNIQUE,            -- sha256 of the auth key: duplicate detection
        dc_id            INTEGER NOT NULL CHECK (dc_id BETWEEN 1 AND 5),
        state            TEXT    NOT NULL DEFAULT 'unused'
                         CHECK (state IN ('unused', 'assigned', 'cooling', 'limited', 'dead')),
        owner_id         INTEGER REFERENCES customers(user_id),
        pair_id          INTEGER REFERENCES api_pairs(id),   -- pool pair; NULL when own_api_id is set
        own_api_id       INTEGER,                            -- from a sidecar: the session keeps its app
        own_api_hash     TEXT,
        device_json      TEXT,                               -- sidecar device parameters (JSON object)
        phone            TEXT,
        folder           TEXT    NOT NULL,                   -- where the file lives, relative to sessions_dir
        cooldown_until   REAL,                               -- flood wait: no request before this time
        state_reason     TEXT,
        added_at         REAL    NOT NULL,
        state_changed_at REAL    NOT NULL,
        last_checked_at  REAL,
        CHECK ((state IN ('assigned', 'cooling')) = (owner_id IS NOT NULL))
    );
    CREATE INDEX sessions_by_owner ON sessions(owner_id);
    CREATE INDEX sessions_by_state ON sessions(state);
    CREATE INDEX sessions_by_pair ON sessions(pair_id);

    CREATE TRIGGER sessions_single_owner BEFORE UPDATE OF owner_id ON sessions
    WHEN OLD.owner_id IS NOT NULL AND NEW.owner_id IS NOT NULL AND NEW.owner_id != OLD.owner_id
    BEGIN SELECT RAISE(ABORT, 'session already belongs to another customer'); END;

    CREATE TRIGGER sessions_pair_cap_insert BEFORE INSERT ON sessions
    WHEN NEW.pair_id IS NOT NULL AND (SELECT COUNT(*) FROM sessions WHERE pair_id = NEW.pair_id)
         >= (SELECT capacity FROM api_pairs WHERE id = NEW.pair_id)
    BEGIN SELECT RAISE(ABORT, 'api pair is full'); END;

    CREATE TRIGGER sessions_pair_cap_update BEFORE UPDATE OF pair_id ON sessions
    WHEN NEW.pair_id IS NOT NULL AND NEW.pair_id IS NOT OLD.pair_id
         AND (SELECT COUNT(*) FROM sessions WHERE pair_id = NEW.pair_id)
         >= (SELECT capacity FROM api_pairs WHERE id = NEW.pair_id)
    BEGIN SELECT RAISE(ABORT, 'api pair is full'); END;

    CREATE TABLE groups (
        id                   INTEGER PRIMARY KEY,
        customer_id          INTEGER NOT NULL REFERENCES customers(user_id) ON DELETE CASCADE,
        ref                  TEXT    NOT NULL,               -- normalised: '@name' or '-100<id>', '#<topic>'
        added_at             REAL    NOT NULL,
        consecutive_failures INTEGER NOT NULL DEFAULT 0,
        last_error           TEXT,
        paused_reason        TEXT,                           -- NULL = active
        paused_at            REAL,
        slowmode_seconds     INTEGER,                        -- the group's slow-mode window, once seen
        slowmode_until       REAL,                           -- next time a post is allowed
        UNIQUE (customer_id, ref)
    );

    CREATE TABLE default_groups (
        id        INTEGER PRIMARY KEY,
        ref       TEXT NOT NULL UNIQUE,
        added_at  REAL NOT NULL
    );
    """,
    # 2: the send ledger, stats kept beside it, cached peers, notification outbox
    """
    CREATE TABLE sends (
        id           INTEGER PRIMARY KEY,
        customer_id  INTEGER NOT NULL REFERENCES customers(user_id) ON DELETE CASCADE,
        cycle_no     INTEGER NOT NULL,
        group_ref    TEXT    NOT NULL,
        session_id   INTEGER REFERENCES sessions(id),
        outcome      TEXT    NOT NULL
                     CHECK (outcome IN ('pending', 'sent', 'failed', 'waiting', 'skipped', 'in_doubt')),
        error        TEXT,                                   -- classified error name, never a secret
        message_id   INTEGER,
        random_id    INTEGER NOT NULL,
        attempts     INTEGER NOT NULL DEFAULT 0,
        flood_waits  INTEGER NOT NULL DEFAULT 0,
        started_at   REAL    NOT NULL,
        finished_at  REAL,
        UNIQUE (customer_id, cycle_no, group_ref)
    );
    CREATE INDEX sends_by_time ON sends(finished_at);

    CREATE TABLE stats (
        customer_id          INTEGER PRIMARY KEY REFERENCES customers(user_id) ON DELETE CASCADE,
        total_posts          INTEGER NOT NULL DEFAULT 0,     -- finished attempts (sent + failed)
        total_success        INTEGER NOT NULL DEFAULT 0,
        total_failures       INTEGER NOT NULL DEFAULT 0,
        total_flood_waits    INTEGER NOT NULL DEFAULT 0,
        total_messages_sent  INTEGER NOT NULL DEFAULT 0,
        banned_sessions      INTEGER NOT NULL DEFAULT 0,     -- sessions of this customer that died
        last_activity        REAL
    );

    CREATE TABLE group_stats (
        customer_id  INTEGER NOT NULL REFERENCES customers(user_id) ON DELETE CASCADE,
        group_ref    TEXT    NOT NULL,
        success      INTEGER NOT NULL DEFAULT 0,
        failures     INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (customer_id, group_ref)
    );

    CREATE TABLE peer_cache (
        session_id   INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        ref          TEXT    NOT NULL,
        peer_type    TEXT    NOT NULL CHECK (peer_type IN ('user', 'chat', 'channel')),
        peer_id      INTEGER NOT NULL,
        access_hash  INTEGER,
        resolved_at  REAL    NOT NULL,
        PRIMARY KEY (session_id, ref)
    );

    CREATE TABLE events (
        id           INTEGER PRIMARY KEY,
        customer_id  INTEGER,                                -- NULL: for the admins
        kind         TEXT    NOT NULL,
        payload      TEXT    NOT NULL DEFAULT '{}',          -- JSON object
        created_at   REAL    NOT NULL,
        delivered_at REAL
    );
    CREATE INDEX events_undelivered ON events(delivered_at) WHERE delivered_at IS NULL;
    """,
    # 3: the stem of the uploaded file a session came from, so a sidecar sent later finds its session
    # (display and matching only: never used as a path)
    """
    ALTER TABLE sessions ADD COLUMN source_name TEXT;
    CREATE INDEX sessions_by_source ON sessions(source_name);
    """,
    # 4: membership discovery: the chats each session is in, as its own dialogs say (with its own access
    # hash), and when its dialogs were last read / are next due
    """
    CREATE TABLE memberships (
        session_id   INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        peer_type    TEXT    NOT NULL CHECK (peer_type IN ('chat', 'channel')),
        chat_id      INTEGER NOT NULL,                       -- bare id (a channel's is -100<id> marked)
        kind         TEXT    NOT NULL CHECK (kind IN ('group', 'forum', 'channel')),
        access_hash  INTEGER,                                -- this session's; NULL for basic groups
        username     TEXT,                                   -- lower case, without '@'
        title        TEXT    NOT NULL DEFAULT '',
        can_write    INTEGER NOT NULL CHECK (can_write IN (0, 1)),
        why_not      TEXT CHECK ((can_write = 1) = (why_not IS NULL)),
        slow_mode    INTEGER NOT NULL DEFAULT 0 CHECK (slow_mode >= 0),
        archived     INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),
        seen_at      REAL    NOT NULL,
        PRIMARY KEY (session_id, peer_type, chat_id)
    );
    CREATE INDEX memberships_by_chat ON memberships(peer_type, chat_id);
    CREATE INDEX memberships_by_username ON memberships(username) WHERE username IS NOT NULL;
    ALTER TABLE sessions ADD COLUMN dialogs_checked_at REAL;
    ALTER TABLE sessions ADD COLUMN dialogs_due_at REAL;
    """,
    # 5: whether the customer's sessions can reach each group (placement by membership), and whether the
    # customer was told it cannot
    """
    ALTER TABLE groups ADD COLUMN reach TEXT;               -- NULL: reachable; else why not ('not_member', ...)
    ALTER TABLE groups ADD COLUMN reach_detail TEXT;        -- e.g. the members' reasons ('read_only,banned')
    ALTER TABLE groups ADD COLUMN reach_changed_at REAL;    -- when ``reach`` last changed
    ALTER TABLE groups ADD COLUMN reach_told_at REAL;       -- the customer was told it is unreachable
    """,
    # 6: joins an admin asked for: the queue (paced per session, counted per day from its rows), and a
    # flood wait on joining, kept apart from the session's send cooldown
    """
    CREATE TABLE joins (
        id            INTEGER PRIMARY KEY,
        session_id    INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        target        TEXT    NOT NULL,                      -- '@name' or '+<invite hash>'
        title         TEXT,                                  -- the chat's title, when a preview said it
        status        TEXT    NOT NULL DEFAULT 'queued'
                      CHECK (status IN ('queued', 'joined', 'already', 'pending', 'refused', 'failed')),
        reason        TEXT,                                  -- error name behind the status, or why it waits
        requested_by  INTEGER NOT NULL,                      -- the admin's user id
        created_at    REAL    NOT NULL,
        due_at        REAL    NOT NULL,                      -- not before (pacing, flood wait)
        tried_at      REAL,                                  -- when its last request went out
        done_at       REAL,
        CHECK ((status = 'queued') = (done_at IS NULL))
    );
    CREATE INDEX joins_queued ON joins(due_at) WHERE status = 'queued';
    CREATE INDEX joins_by_session ON joins(session_id, tried_at);
    ALTER TABLE sessions ADD COLUMN join_wait_until REAL;
    """,
    # per-session proxies: the one a session connects through for life (from its sidecar or an admin),
    # and the last check of it (a TCP connect through it to the session's DC)
    """
    CREATE TABLE session_proxies (
        session_id   INTEGER PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
        spec         TEXT    NOT NULL,                       -- the proxy URL with its credentials: a secret
        set_by       TEXT    NOT NULL,                       -- 'sidecar', 'cli' or 'admin:<user id>'
        set_at       REAL    NOT NULL,
        checked_at   REAL,                                   -- NULL: never checked
        check_error  TEXT                                    -- NULL: the last check reached Telegram
    );
    """,
    # the daily send cap: each session's post requests in the last 24 hours are counted from its rows
    """
    CREATE INDEX IF NOT EXISTS sends_by_session ON sends(session_id, started_at);
    """,
    # flood waits per method class (core.waits): one row per (session, class), never shortened. The 'send'
    # class is also sessions.cooldown_until (kept in step); sessions.join_wait_until moves to the 'join'
    # row and is no longer read
    """
    CREATE TABLE method_waits (
        session_id  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        method      TEXT    NOT NULL
                    CHECK (method IN ('send', 'resolve', 'dialogs', 'join', 'read', 'connect')),
        until       REAL    NOT NULL,                        -- no request of the class before this time
        PRIMARY KEY (session_id, method)
    );
    CREATE INDEX method_waits_by_until ON method_waits(until);
    INSERT INTO method_waits (session_id, method, until)
        SELECT id, 'send', cooldown_until FROM sessions WHERE cooldown_until IS NOT NULL;
    INSERT INTO method_waits (session_id, method, until)
        SELECT id, 'join', join_wait_until FROM sessions WHERE join_wait_until IS NOT NULL;
    """,
    # issue 16 part E: permanent refusals of one session's posts by one chat (or one topic of a forum),
    # kept until the session's dialogs no longer hold the chat (``storage.refusals``)
    """
    CREATE TABLE refusals (
        session_id  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        peer_type   TEXT    NOT NULL CHECK (peer_type IN ('channel', 'chat')),
        chat_id     INTEGER NOT NULL,                        -- bare id, as in memberships
        topic_id    INTEGER NOT NULL DEFAULT 0,              -- 0: the whole chat; else one topic
        reason      TEXT    NOT NULL,                        -- core.outcomes.RefusalReason
        error       TEXT,                                    -- the Telegram error behind it
        refused_at  REAL    NOT NULL,
        PRIMARY KEY (session_id, peer_type, chat_id, topic_id)
    );
    -- the ids a forward of a source post sends (its whole album, or the post alone), read once per
    -- session (``storage.albums``): a restart makes no new read
    CREATE TABLE post_albums (
        session_id  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        peer_type   TEXT    NOT NULL,
        chat_id     INTEGER NOT NULL,
        msg_id      INTEGER NOT NULL,
        ids         TEXT    NOT NULL,                        -- JSON list of message ids, in order
        read_at     REAL    NOT NULL,
        PRIMARY KEY (session_id, peer_type, chat_id, msg_id)
    );
    """,
    # (issue 16, part D) account states Telegram really has: 'frozen' joins the states the sessions
    # table's CHECK allows, and a limited session's quarantine (how many times, until when) and a frozen
    # one's dates are kept on its row. SQLite cannot alter a CHECK: the table's stored SQL is edited in
    # place (SQLite's documented writable_schema procedure; every existing row still passes), so columns
    # other migrations added stay; the ALTERs after it bump the schema cookie, so every other connection
    # reloads the schema.
    """
    PRAGMA writable_schema = ON;
    UPDATE sqlite_master
       SET sql = replace(sql, '''limited'', ''dead'')', '''limited'', ''dead'', ''frozen'')')
     WHERE type = 'table' AND name = 'sessions' AND sql NOT LIKE '%''frozen''%';
    PRAGMA writable_schema = RESET;
    ALTER TABLE sessions ADD COLUMN quarantine_count INTEGER NOT NULL DEFAULT 0;  -- times it was limited
    ALTER TABLE sessions ADD COLUMN quarantine_until REAL;     -- a limited one rests at least until then
    ALTER TABLE sessions ADD COLUMN frozen_since REAL;         -- the app config's freeze_since_date
    ALTER TABLE sessions ADD COLUMN frozen_until REAL;         -- freeze_until_date (deleted after it)
    ALTER TABLE sessions ADD COLUMN frozen_appeal_url TEXT;    -- freeze_appeal_url
    ALTER TABLE sessions ADD COLUMN status_checked_at REAL;    -- its app config was last read then
    -- sessions already in quarantine get the default minimum (24 h) from when they were limited
    UPDATE sessions SET quarantine_count = 1, quarantine_until = state_changed_at + 86400 WHERE state = 'limited';
    """,
    # one identity per session, for life: the API pair (``pair_id``) or own app (``own_api_id``) and the
    # device profile (``device_json``) are chosen once at intake and kept by every state but the owner
    # changes; ``identity_used_at``: when the session first connected with it (from then on a sidecar
    # sent later cannot change it). The per-pair cap counts every session connecting with the pair's
    # api_id (those pointing at the pair and those whose own app id equals it), dead ones excepted.
    """
    ALTER TABLE sessions ADD COLUMN identity_used_at REAL;
    DROP TRIGGER IF EXISTS sessions_pair_cap_insert;
    DROP TRIGGER IF EXISTS sessions_pair_cap_update;
    CREATE TRIGGER sessions_identity_cap_insert BEFORE INSERT ON sessions
    WHEN NEW.state != 'dead' AND EXISTS (
        SELECT 1 FROM api_pairs p
        WHERE (p.id = NEW.pair_id OR (NEW.pair_id IS NULL AND p.api_id = NEW.own_api_id))
          AND (SELECT COUNT(*) FROM sessions s WHERE s.state != 'dead'
               AND (s.pair_id = p.id OR (s.pair_id IS NULL AND s.own_api_id = p.api_id))) >= p.capacity)
    BEGIN SELECT RAISE(ABORT, 'api pair is full'); END;
    CREATE TRIGGER sessions_identity_cap_update BEFORE UPDATE OF pair_id, own_api_id ON sessions
    WHEN NEW.state != 'dead'
         AND (NEW.pair_id IS NOT OLD.pair_id OR NEW.own_api_id IS NOT OLD.own_api_id)
         AND EXISTS (
        SELECT 1 FROM api_pairs p
        WHERE (p.id = NEW.pair_id OR (NEW.pair_id IS NULL AND p.api_id = NEW.own_api_id))
          AND (SELECT COUNT(*) FROM sessions s WHERE s.state != 'dead' AND s.id != NEW.id
               AND (s.pair_id = p.id OR (s.pair_id IS NULL AND s.own_api_id = p.api_id))) >= p.capacity)
    BEGIN SELECT RAISE(ABORT, 'api pair is full'); END;
    CREATE TRIGGER sessions_own_app_fixed BEFORE UPDATE OF own_api_id, own_api_hash ON sessions
    WHEN OLD.identity_used_at IS NOT NULL
         AND (NEW.own_api_id IS NOT OLD.own_api_id OR NEW.own_api_hash IS NOT OLD.own_api_hash)
    BEGIN SELECT RAISE(ABORT, 'a session keeps the app it connected with'); END;
    CREATE INDEX sessions_by_own_api ON sessions(own_api_id) WHERE own_api_id IS NOT NULL;
    """,
    # a session of Telegram's test servers (``[pool] allow_test_servers``): it connects to the test DC
    # table only (``core.dcs``, ``engine.session_address``); its DC id is then 1..3
    """
    ALTER TABLE sessions ADD COLUMN test_mode INTEGER NOT NULL DEFAULT 0 CHECK (test_mode IN (0, 1));
    """,
    # issue 18: everyone who wrote to the bot (strangers too: /grant @username and access requests read
    # it), with what they chose in /settings; and the strangers' requests for access
    """
    CREATE TABLE users (
        user_id        INTEGER PRIMARY KEY,
        username       TEXT,                            -- lower case, without '@'; NULL: none
        first_name     TEXT,
        language_code  TEXT,                            -- Telegram's, as last seen
        locale         TEXT,                            -- chosen in /settings; NULL: follow language_code
        time_zone      TEXT,                            -- IANA name; NULL: UTC
        notify_level   TEXT    NOT NULL DEFAULT 'problems',  -- core.states.NotifyLevel (no CHECK: it grows)
        first_seen_at  REAL    NOT NULL,
        last_seen_at   REAL    NOT NULL
    );
    CREATE INDEX users_by_username ON users(username) WHERE username IS NOT NULL;

    CREATE TABLE access_requests (
        id            INTEGER PRIMARY KEY,
        user_id       INTEGER NOT NULL,
        requested_at  REAL    NOT NULL,
        handled_at    REAL,                             -- NULL: still open
        handled_by    INTEGER,                          -- the admin who answered
        outcome       TEXT                              -- 'granted' | 'declined' (a key, never words)
    );
    -- at most one open request per person
    CREATE UNIQUE INDEX access_requests_open ON access_requests(user_id) WHERE handled_at IS NULL;
    """,
    # Reserved slots, one per part of issue 18, in this order: each owner replaces only its own text
    # (a slot left as a comment is an empty migration, so the numbers never shift).
    """
    -- issue 18 part D: a person's answered requests, latest first (storage.users.last_answered: the
    -- cool-down after a decline)
    CREATE INDEX access_requests_by_user ON access_requests(user_id, handled_at);
    """,
    """
    -- issue 18 part E: the customer's own media post (photos, videos, GIFs, files, albums), one row per item
    -- in order; customers.post_media counts them (a media post needs no text: post_kind stays 'text')
    ALTER TABLE customers ADD COLUMN post_media INTEGER NOT NULL DEFAULT 0 CHECK (post_media >= 0);
    CREATE TABLE post_media (
        customer_id     INTEGER NOT NULL REFERENCES customers(user_id) ON DELETE CASCADE,
        position        INTEGER NOT NULL CHECK (position >= 0),
        kind            TEXT    NOT NULL CHECK (kind IN ('photo', 'video', 'document', 'animation')),
        file_id         TEXT    NOT NULL,                -- the bot's file_id (the preview sends it back)
        file_unique_id  TEXT    NOT NULL,
        sha256          TEXT    NOT NULL,                -- the kept file: data/media/<sha256>
        size            INTEGER NOT NULL,
        path            TEXT    NOT NULL,
        mime            TEXT,
        file_name       TEXT,
        caption         TEXT    NOT NULL DEFAULT '',
        entities        TEXT,                            -- the caption's formatting, JSON list of MessageEntity dicts
        width           INTEGER NOT NULL DEFAULT 0,
        height          INTEGER NOT NULL DEFAULT 0,
        duration        REAL    NOT NULL DEFAULT 0,
        PRIMARY KEY (customer_id, position)
    );
    """,
    """
    -- issue 18 part F: what each group's chat is, as confirmed when it was added (the bot's getChat, the
    -- sessions' dialogs or Telegram's group picker); checked_at NULL: never checked ("not checked yet",
    -- never shown as fine)
    ALTER TABLE groups ADD COLUMN checked_at REAL;
    ALTER TABLE groups ADD COLUMN chat_kind TEXT;   -- 'group' | 'forum' (NULL: not known)
    ALTER TABLE groups ADD COLUMN title TEXT;       -- as Telegram showed it
    """,
    """
    -- issue 18 part G
    """,
    """
    -- issue 18 part H: plan changes shown to an admin and not confirmed yet (storage.plan_proposals,
    -- single use, short-lived), and an index for "were the admins told of this lately"
    -- (storage.events.told_recently: one SESSIONS_SHORT per customer and reason for a while)
    CREATE TABLE plan_proposals (
        token              TEXT    PRIMARY KEY,          -- rides in the Confirm button
        admin_id           INTEGER NOT NULL,             -- only this admin may confirm it
        user_id            INTEGER NOT NULL,
        kind               TEXT    NOT NULL CHECK (kind IN ('grant', 'revoke')),
        sessions           INTEGER NOT NULL,
        days               INTEGER NOT NULL,
        before_sessions    INTEGER,                      -- the plan it was computed from (NULL: none)
        before_expires_at  REAL,
        created_at         REAL    NOT NULL
    );
    CREATE INDEX events_by_kind ON events(kind, created_at);
    """,
    # issue 18 r2: uploads (a media post's files, ``AccountPort.prepare_media``) are a method class of their
    # own: a flood wait on upload.saveFilePart / messages.uploadMedia holds them, not the session's sends.
    # (foreign_keys is on: the copy keeps every row, and nothing references method_waits)
    """
    CREATE TABLE method_waits_new (
        session_id  INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        method      TEXT    NOT NULL
                    CHECK (method IN ('send', 'upload', 'resolve', 'dialogs', 'join', 'read', 'connect')),
        until       REAL    NOT NULL,                        -- no request of the class before this time
        PRIMARY KEY (session_id, method)
    );
    INSERT INTO method_waits_new (session_id, method, until) SELECT session_id, method, until FROM method_waits;
    DROP TABLE method_waits;
    ALTER TABLE method_waits_new RENAME TO method_waits;
    CREATE INDEX method_waits_by_until ON method_waits(until);
    """,
    # issues 19, 20, 22: one slot per part (a part replaces only its slot's text; an empty slot stays a
    # comment, so the numbers never shift)
    """
    -- issue 19 part A: several posts per campaign (storage.posts). The campaign's one post (customers.post_*
    -- and its post_media rows) becomes post 0 of ``posts``; post_media rows belong to a post; the customer
    -- keeps the campaign's rotation and copy mode; a group may carry a fixed post (rotation 'fixed'); the
    -- ledger row records which post it carried; a session's Premium flag (custom emoji) as its self user said
    CREATE TABLE posts (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,        -- never reused: sends.post_id, stale buttons
        customer_id   INTEGER NOT NULL REFERENCES customers(user_id) ON DELETE CASCADE,
        position      INTEGER NOT NULL CHECK (position >= 0),   -- 0 first; the list and rotation order
        kind          TEXT    NOT NULL CHECK (kind IN ('link', 'text')),
        link          TEXT,                                     -- a link post: as the customer gave it
        peer          TEXT,                                     -- '@username' or '-100<id>'
        msg_id        INTEGER,
        text          TEXT,                                     -- own content: text or caption
        entities      TEXT,                                     -- JSON list of MessageEntity dicts
        media         INTEGER NOT NULL DEFAULT 0 CHECK (media >= 0),  -- post_media rows of the post
        link_preview  INTEGER NOT NULL DEFAULT 1 CHECK (link_preview IN (0, 1)),  -- a text post's web page preview
        created_at    REAL    NOT NULL,
        CHECK ((kind = 'link') = (peer IS NOT NULL AND msg_id IS NOT NULL))
    );
    CREATE INDEX posts_by_customer ON posts(customer_id, position);
    INSERT INTO posts (customer_id, position, kind, link, peer, msg_id, text, entities, media, created_at)
        SELECT user_id, 0, post_kind, post_link, post_peer, post_msg_id, post_text, post_entities, post_media,
               updated_at
          FROM customers
         WHERE (post_kind = 'link' AND post_peer IS NOT NULL AND post_msg_id IS NOT NULL)
            OR (post_kind = 'text' AND (COALESCE(post_text, '') != '' OR post_media > 0));
    CREATE TABLE post_media_new (
        post_id         INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
        customer_id     INTEGER NOT NULL REFERENCES customers(user_id) ON DELETE CASCADE,
        position        INTEGER NOT NULL CHECK (position >= 0),
        kind            TEXT    NOT NULL CHECK (kind IN ('photo', 'video', 'document', 'animation')),
        file_id         TEXT    NOT NULL,
        file_unique_id  TEXT    NOT NULL,
        sha256          TEXT    NOT NULL,
        size            INTEGER NOT NULL,
        path            TEXT    NOT NULL,
        mime            TEXT,
        file_name       TEXT,
        caption         TEXT    NOT NULL DEFAULT '',
        entities        TEXT,
        width           INTEGER NOT NULL DEFAULT 0,
        height          INTEGER NOT NULL DEFAULT 0,
        duration        REAL    NOT NULL DEFAULT 0,
        PRIMARY KEY (post_id, position)
    );
    INSERT INTO post_media_new (post_id, customer_id, position, kind, file_id, file_unique_id, sha256, size, path,
                                mime, file_name, caption, entities, width, height, duration)
        SELECT p.id, m.customer_id, m.position, m.kind, m.file_id, m.file_unique_id, m.sha256, m.size, m.path,
               m.mime, m.file_name, m.caption, m.entities, m.width, m.height, m.duration
          FROM post_media m JOIN posts p ON p.customer_id = m.customer_id AND p.kind = 'text';
    DROP TABLE post_media;
    ALTER TABLE post_media_new RENAME TO post_media;
    CREATE INDEX post_media_by_customer ON post_media(customer_id);
    ALTER TABLE customers DROP COLUMN post_kind;
    ALTER TABLE customers DROP COLUMN post_link;
    ALTER TABLE customers DROP COLUMN post_peer;
    ALTER TABLE customers DROP COLUMN post_msg_id;
    ALTER TABLE customers DROP COLUMN post_text;
    ALTER TABLE customers DROP COLUMN post_entities;
    ALTER TABLE customers DROP COLUMN post_media;
    ALTER TABLE customers ADD COLUMN rotation TEXT NOT NULL DEFAULT 'order'
        CHECK (rotation IN ('order', 'random', 'fixed'));
    -- forwards without captions (Telegram's drop_media_captions: only with drop_author)
    ALTER TABLE customers ADD COLUMN drop_media_captions INTEGER NOT NULL DEFAULT 0
        CHECK (drop_media_captions IN (0, 1));
    ALTER TABLE groups ADD COLUMN post_id INTEGER REFERENCES posts(id) ON DELETE SET NULL;  -- rotation 'fixed'
    ALTER TABLE sends ADD COLUMN post_id INTEGER;   -- the post the row carried (no FK: the history outlives it)
    ALTER TABLE sessions ADD COLUMN premium INTEGER CHECK (premium IN (0, 1));  -- NULL: not known yet
    """,
    """
    -- issue 19 part B: when the campaign's cycles may start (core.schedule): days of the week as a bit mask
    -- (Monday bit 0; 127 every day) and a daily window in minutes after local midnight, in the customer's
    -- time zone (users.time_zone); start = end is the whole day, end < start a window across midnight
    ALTER TABLE customers ADD COLUMN schedule_days INTEGER NOT NULL DEFAULT 127
        CHECK (schedule_days BETWEEN 1 AND 127);
    ALTER TABLE customers ADD COLUMN schedule_start INTEGER NOT NULL DEFAULT 0
        CHECK (schedule_start BETWEEN 0 AND 1439);
    ALTER TABLE customers ADD COLUMN schedule_end INTEGER NOT NULL DEFAULT 0
        CHECK (schedule_end BETWEEN 0 AND 1439);
    """,
    """
    -- issue 19 part S: a customer's ended sends by time (/stats periods, /export's keyset pages in time
    -- order), and one group's deliveries / other ended sends by time (/stats per group: a seek each). All
    -- partial, so the send path pays little: an intent ('pending', no finished_at) enters none of them,
    -- a result enters one or two; what stays pending or becomes 'sent' never enters the third
    CREATE INDEX sends_by_customer_time ON sends(customer_id, finished_at) WHERE finished_at IS NOT NULL;
    CREATE INDEX sends_delivered_by_group ON sends(customer_id, group_ref, finished_at) WHERE outcome = 'sent';
    CREATE INDEX sends_undelivered_by_group ON sends(customer_id, group_ref, finished_at)
        WHERE outcome IN ('failed', 'in_doubt', 'skipped', 'waiting');
    """,
    """
    -- issue 20 part B: sends older than the retention period are folded into per-day aggregates, then
    -- deleted (storage.retention); readers of per-day figures sum this table and the live ``sends`` rows.
    -- ``day`` is the UTC day of ``finished_at``; the totals in ``stats`` / ``group_stats`` are never pruned.
    CREATE TABLE send_days (
        customer_id  INTEGER NOT NULL REFERENCES customers(user_id) ON DELETE CASCADE,
        day          TEXT    NOT NULL CHECK (length(day) = 10),   -- 'YYYY-MM-DD', UTC
        group_ref    TEXT    NOT NULL,
        delivered    INTEGER NOT NULL DEFAULT 0 CHECK (delivered >= 0),  -- outcome 'sent'
        failed       INTEGER NOT NULL DEFAULT 0 CHECK (failed >= 0),
        in_doubt     INTEGER NOT NULL DEFAULT 0 CHECK (in_doubt >= 0),
        skipped      INTEGER NOT NULL DEFAULT 0 CHECK (skipped >= 0),
        PRIMARY KEY (customer_id, day, group_ref)
    );
    """,
    """
    -- issue 20 part C: the integration API's requests that change something (storage.api_requests): one row per
    -- request id, written in the same transaction as the change, so a payment callback retried (also two at
    -- once) applies once and is answered as the first time
    CREATE TABLE api_requests (
        request_id   TEXT    PRIMARY KEY CHECK (length(request_id) BETWEEN 1 AND 128),
        action       TEXT    NOT NULL,                 -- 'plan' (a key)
        customer_id  INTEGER NOT NULL,
        body_sha256  TEXT    NOT NULL,                 -- the request's parameters: the same id with others is refused
        response     TEXT    NOT NULL,                 -- the JSON answered the first time
        created_at   REAL    NOT NULL
    );
    CREATE INDEX api_requests_by_time ON api_requests(created_at);
    """,
    """
    -- issue 22 part A: who the account is (users.getUsers of itself), read once in a session's life, at its
    -- first connect (the pool's first dialogs read after intake, or a health check), then stored, so a
    -- connect asks nothing but Telegram's init (engine.telethon_adapter). self_read_at NULL: never read.
    -- (issue 19 part A adds the account's Premium flag beside these, read by the same request.)
    ALTER TABLE sessions ADD COLUMN self_user_id INTEGER;
    ALTER TABLE sessions ADD COLUMN self_username TEXT;
    ALTER TABLE sessions ADD COLUMN self_phone TEXT;
    ALTER TABLE sessions ADD COLUMN self_name TEXT;
    ALTER TABLE sessions ADD COLUMN self_read_at REAL;
    """,
    """
    -- issue 19 review: the post the open cycle carries (engine.rotation), written with the cycle's opening, so
    -- a cycle resumed after a crash carries it whatever /posts changed meanwhile (NULL: none, or a cycle
    -- opened before this column)
    ALTER TABLE customers ADD COLUMN cycle_post_id INTEGER;
    """,
    """
    -- issue 19 review: a post Telegram refuses for good ('post_invalid', 'source_failed') is left out of the
    -- rotation while other posts remain (storage.posts.set_unusable); the error it met, for the customer
    ALTER TABLE posts ADD COLUMN unusable TEXT CHECK (unusable IN ('post_invalid', 'source_failed'));
    ALTER TABLE posts ADD COLUMN unusable_error TEXT;
    """,
)

LATEST_VERSION = len(MIGRATIONS)
