"""The schema, one function per change, applied in order. Never edit a released migration:
add a new function at the end of MIGRATIONS instead.

Every record that can travel between PCs has uuid, version and updated_at (UTC, ISO 8601).
"""
from db.driver import sqlite3

_SYNC = """
    uuid TEXT NOT NULL UNIQUE DEFAULT (lower(hex(randomblob(16)))),
    version INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
"""


def _script(db, sql: str) -> None:
    """Run statements one by one: executescript() would COMMIT the migration's transaction."""
    statement = ""
    for line in sql.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            db.conn.execute(statement)
            statement = ""
    assert not statement.strip(), statement


def m001_core(db):
    """Grid hierarchy, houses, households, residents, focus-group tags."""
    _script(db, f"""
    CREATE TABLE grid_units (
        id INTEGER PRIMARY KEY,
        parent_id INTEGER REFERENCES grid_units(id),
        level TEXT NOT NULL CHECK (level IN
            ('street', 'community', 'grid', 'compound', 'building', 'unit')),
        code TEXT,
        name TEXT NOT NULL CHECK (trim(name) <> ''),
        sort INTEGER NOT NULL DEFAULT 0,
        floors INTEGER,
        notes TEXT,
        {_SYNC}
    );
    CREATE INDEX grid_units_parent ON grid_units(parent_id, sort);
    CREATE UNIQUE INDEX grid_units_code ON grid_units(code) WHERE code IS NOT NULL;

    CREATE TABLE houses (
        id INTEGER PRIMARY KEY,
        unit_id INTEGER NOT NULL REFERENCES grid_units(id),
        room_no TEXT NOT NULL CHECK (trim(room_no) <> ''),
        floor INTEGER,
        area REAL,
        usage TEXT NOT NULL DEFAULT '自住'
            CHECK (usage IN ('自住', '出租', '空置', '商用', '其他')),
        owner_name TEXT,
        owner_phone TEXT,
        owner_id_number TEXT,
        notes TEXT,
        {_SYNC},
        UNIQUE (unit_id, room_no)
    );

    CREATE TABLE households (
        id INTEGER PRIMARY KEY,
        house_id INTEGER REFERENCES houses(id),
        household_no TEXT,
        kind TEXT NOT NULL DEFAULT '1',
        head_resident_id INTEGER REFERENCES residents(id) DEFERRABLE INITIALLY DEFERRED,
        phone TEXT,
        status TEXT NOT NULL DEFAULT '在册' CHECK (status IN ('在册', '注销')),
        notes TEXT,
        {_SYNC}
    );
    CREATE INDEX households_house ON households(house_id);
    CREATE INDEX households_no ON households(household_no);
    CREATE INDEX households_head ON households(head_resident_id);

    CREATE TABLE residents (
        id INTEGER PRIMARY KEY,
        household_id INTEGER REFERENCES households(id),
        name TEXT NOT NULL CHECK (trim(name) <> ''),
        id_type TEXT NOT NULL DEFAULT '01',
        id_number TEXT,
        gender TEXT,
        birth_date TEXT,
        ethnicity TEXT,
        relation_to_head TEXT,
        residence_type TEXT NOT NULL DEFAULT '1',
        separated INTEGER NOT NULL DEFAULT 0 CHECK (separated IN (0, 1)),
        phone TEXT,
        political_status TEXT,
        education TEXT,
        marital_status TEXT,
        occupation TEXT,
        workplace TEXT,
        health TEXT,
        status TEXT NOT NULL DEFAULT '在册' CHECK (status IN ('在册', '迁出', '死亡')),
        moved_in_at TEXT,
        moved_out_at TEXT,
        moved_out_to TEXT,
        death_date TEXT,
        notes TEXT,
        name_initials TEXT,
        {_SYNC}
    );
    CREATE INDEX residents_household ON residents(household_id);
    CREATE INDEX residents_id_number ON residents(id_number);
    CREATE INDEX residents_name ON residents(name);
    CREATE INDEX residents_status ON residents(status);

    CREATE TABLE tags (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE CHECK (trim(name) <> ''),
        visit_interval_days INTEGER CHECK (visit_interval_days IS NULL OR visit_interval_days > 0),
        sort INTEGER NOT NULL DEFAULT 0,
        active INTEGER NOT NULL DEFAULT 1,
        {_SYNC}
    );

    CREATE TABLE resident_tags (
        id INTEGER PRIMARY KEY,
        resident_id INTEGER NOT NULL REFERENCES residents(id),
        tag_id INTEGER NOT NULL REFERENCES tags(id),
        since TEXT NOT NULL,
        until TEXT CHECK (until IS NULL OR until >= since),
        notes TEXT,
        {_SYNC}
    );
    CREATE INDEX resident_tags_resident ON resident_tags(resident_id);
    CREATE INDEX resident_tags_tag ON resident_tags(tag_id, until);

    CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT
    );
    """)


def m002_default_tags(db):
    """The focus groups every community keeps, with their usual visit intervals."""
    rows = [
        ("独居老人", 7), ("高龄老人", 30), ("空巢老人", 30), ("留守儿童", 30),
        ("残疾人", 30), ("低保", 90), ("特困", 30), ("严重精神障碍", 14),
        ("社区矫正", 7), ("刑满释放", 30), ("退役军人", 180), ("优抚对象", 90),
    ]
    db.conn.executemany(
        "INSERT INTO tags (name, visit_interval_days, sort) VALUES (?, ?, ?)",
        [(name, days, i) for i, (name, days) in enumerate(rows)])



def m003_search_index(db):
    """Full-text indexes for the search box (filled by shequ_desktop.core.search, not by SQL).

    resident_names: name characters spaced apart, pinyin initials and full pinyin, so that a
    phrase query finds a name part of any length (FTS5 trigram finds nothing under 3 characters).
    resident_digits: ID number and phone, trigram-tokenised, for fragments of 3 digits or more.
    """
    _script(db, """
    CREATE VIRTUAL TABLE resident_names USING fts5(names, tokenize = 'unicode61 remove_diacritics 0');
    CREATE VIRTUAL TABLE resident_digits USING fts5(digits, tokenize = 'trigram');
    CREATE INDEX houses_room ON houses(room_no);
    """)


def m004_resident_events(db):
    """A resident's moves and life events, so the history stays visible after the fact."""
    _script(db, f"""
    CREATE TABLE resident_events (
        id INTEGER PRIMARY KEY,
        resident_id INTEGER NOT NULL REFERENCES residents(id),
        kind TEXT NOT NULL CHECK (kind IN ('迁入', '户间迁移', '迁出', '死亡', '设为户主')),
        date TEXT NOT NULL,
        household_id INTEGER REFERENCES households(id),
        from_household_id INTEGER REFERENCES households(id),
        note TEXT,
        {_SYNC}
    );
    CREATE INDEX resident_events_resident ON resident_events(resident_id, date);
    """)


def m005_visits_events(db):
    """Focus-group visits (走访), and events (事件) with their closed-loop log."""
    _script(db, f"""
    CREATE TABLE visits (
        id INTEGER PRIMARY KEY,
        resident_id INTEGER NOT NULL REFERENCES residents(id),
        visited_on TEXT NOT NULL,
        method TEXT NOT NULL CHECK (method IN ('入户', '电话', '视频', '其他')),
        visitor TEXT NOT NULL CHECK (trim(visitor) <> ''),
        findings TEXT,
        follow_up INTEGER NOT NULL DEFAULT 0 CHECK (follow_up IN (0, 1)),
        follow_up_note TEXT,
        {_SYNC}
    );
    CREATE INDEX visits_resident ON visits(resident_id, visited_on);
    CREATE INDEX visits_date ON visits(visited_on);

    CREATE TABLE event_categories (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE CHECK (trim(name) <> ''),
        sort INTEGER NOT NULL DEFAULT 0,
        active INTEGER NOT NULL DEFAULT 1,
        {_SYNC}
    );

    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        category_id INTEGER NOT NULL REFERENCES event_categories(id),
        unit_id INTEGER NOT NULL REFERENCES grid_units(id),
        household_id INTEGER REFERENCES households(id),
        resident_id INTEGER REFERENCES residents(id),
        description TEXT NOT NULL CHECK (trim(description) <> ''),
        location TEXT,
        found_at TEXT NOT NULL,
        reporter TEXT NOT NULL CHECK (trim(reporter) <> ''),
        status TEXT NOT NULL DEFAULT '上报'
            CHECK (status IN ('上报', '受理', '处置中', '办结', '归档')),
        accepted_at TEXT,
        deadline_days INTEGER CHECK (deadline_days IS NULL OR deadline_days > 0),
        deadline TEXT,
        resolution TEXT,
        closed_at TEXT,
        {_SYNC}
    );
    CREATE INDEX events_status ON events(status, deadline);
    CREATE INDEX events_unit ON events(unit_id);

    CREATE TABLE event_log (
        id INTEGER PRIMARY KEY,
        event_id INTEGER NOT NULL REFERENCES events(id),
        at TEXT NOT NULL,
        user TEXT NOT NULL,
        action TEXT NOT NULL,
        from_status TEXT,
        to_status TEXT,
        note TEXT,
        {_SYNC}
    );
    CREATE INDEX event_log_event ON event_log(event_id, id);
    """)
    db.conn.executemany("INSERT INTO event_categories (name, sort) VALUES (?, ?)",
                        [(name, i) for i, name in enumerate(
                            ("矛盾纠纷", "安全隐患", "环境卫生", "民生诉求", "其他"))])


def m006_audit_log(db):
    """An append-only, hash-chained audit log (the audit trail, shequ_desktop/core/audit.py)."""
    _script(db, """
    CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        entity TEXT,
        entity_id INTEGER,
        summary TEXT NOT NULL DEFAULT '',
        detail TEXT,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE INDEX audit_log_entity ON audit_log(entity, entity_id);
    CREATE INDEX audit_log_action ON audit_log(action, at);
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, '审计日志只能追加，不能修改'); END;
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, '审计日志只能追加，不能删除'); END;
    """)


def m007_volunteers(db):
    """Volunteers (志愿者), teams (服务队), activities, service records and points (积分).

    Times of an activity are local 'YYYY-MM-DD HH:MM'. Points of a service record are fixed
    when it is entered, from the rate then in force. Balance = earned + adjustments − redeemed.
    """
    _script(db, f"""
    CREATE TABLE volunteer_teams (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE CHECK (trim(name) <> ''),
        unit_id INTEGER REFERENCES grid_units(id),
        leader_id INTEGER REFERENCES volunteers(id) DEFERRABLE INITIALLY DEFERRED,
        founded_on TEXT,
        notes TEXT,
        {_SYNC}
    );

    CREATE TABLE volunteers (
        id INTEGER PRIMARY KEY,
        resident_id INTEGER REFERENCES residents(id),
        name TEXT NOT NULL CHECK (trim(name) <> ''),
        id_number TEXT,
        gender TEXT,
        birth_date TEXT,
        phone TEXT,
        skills TEXT,
        team_id INTEGER REFERENCES volunteer_teams(id),
        joined_on TEXT NOT NULL,
        left_on TEXT CHECK (left_on IS NULL OR left_on >= joined_on),
        status TEXT NOT NULL DEFAULT '在册' CHECK (status IN ('在册', '退出')),
        notes TEXT,
        {_SYNC}
    );
    CREATE UNIQUE INDEX volunteers_id_number ON volunteers(id_number) WHERE id_number IS NOT NULL;
    CREATE INDEX volunteers_resident ON volunteers(resident_id);
    CREATE INDEX volunteers_team ON volunteers(team_id);
    CREATE INDEX volunteers_name ON volunteers(name);

    CREATE TABLE activities (
        id INTEGER PRIMARY KEY,
        title TEXT NOT NULL CHECK (trim(title) <> ''),
        category TEXT NOT NULL CHECK (trim(category) <> ''),
        organiser TEXT,
        place TEXT,
        starts_at TEXT NOT NULL,
        ends_at TEXT NOT NULL CHECK (ends_at > starts_at),
        unit_id INTEGER REFERENCES grid_units(id),
        notes TEXT,
        {_SYNC}
    );
    CREATE INDEX activities_starts ON activities(starts_at);

    CREATE TABLE service_records (
        id INTEGER PRIMARY KEY,
        activity_id INTEGER NOT NULL REFERENCES activities(id),
        volunteer_id INTEGER NOT NULL REFERENCES volunteers(id),
        hours REAL NOT NULL CHECK (hours > 0 AND hours <= 24),
        points REAL NOT NULL DEFAULT 0,
        notes TEXT,
        {_SYNC},
        UNIQUE (activity_id, volunteer_id)
    );
    CREATE INDEX service_records_volunteer ON service_records(volunteer_id);

    CREATE TABLE point_adjustments (
        id INTEGER PRIMARY KEY,
        volunteer_id INTEGER NOT NULL REFERENCES volunteers(id),
        points REAL NOT NULL CHECK (points <> 0),
        reason TEXT NOT NULL CHECK (trim(reason) <> ''),
        made_on TEXT NOT NULL,
        made_by TEXT NOT NULL,
        {_SYNC}
    );
    CREATE INDEX point_adjustments_volunteer ON point_adjustments(volunteer_id);

    CREATE TABLE point_redemptions (
        id INTEGER PRIMARY KEY,
        volunteer_id INTEGER NOT NULL REFERENCES volunteers(id),
        points REAL NOT NULL CHECK (points > 0),
        item TEXT NOT NULL CHECK (trim(item) <> ''),
        redeemed_on TEXT NOT NULL,
        made_by TEXT NOT NULL,
        {_SYNC}
    );
    CREATE INDEX point_redemptions_volunteer ON point_redemptions(volunteer_id);
    """)


def m008_users(db):
    """Program users, their role and the grid units a 网格员 may work on (a JSON list of
    grid unit ids, so a change of units is one field change through Context, audited with its
    old and new value). Passwords are not here: each user's wrapped database key in the key
    file is their credential (keys.py)."""
    _script(db, f"""
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL UNIQUE CHECK (trim(username) <> ''),
        display_name TEXT,
        role TEXT NOT NULL CHECK (role IN ('管理员', '网格员', '只读')),
        unit_ids TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(unit_ids)),
        active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
        {_SYNC}
    );
    """)


def m009_dashboard_indexes(db):
    """Covering indexes for the dashboard's figures (shequ_desktop.reports.stats): who is on record
    and their make-up read from an index instead of the wide residents rows (by household,
    for a unit's subtree, or all of it for the whole database), and the focus-group tags
    read in resident order without touching resident_tags' rows."""
    _script(db, """
    CREATE INDEX residents_figures ON residents(household_id, status, birth_date, gender,
        residence_type, separated, moved_out_at, death_date, moved_in_at);
    CREATE INDEX resident_tags_current ON resident_tags(resident_id, since, until, tag_id);
    """)


def m010_exchange(db):
    """Multi-PC exchange (shequ_desktop/sync/exchange.py). tombstones: one row per deleted record
    (written by Context.delete). sync_peers: the sites we exchanged packages with.
    sync_base: per peer site, each record as last received from it (JSON, references as
    uuids): the base of the three-way merge, with the peer's package number it came in
    (`got`; sync_peers.acked_seq: up to which we have told the peer what we hold).
    sync_conflicts: fields changed on both sides,
    kept for the user to choose; values are JSON in package form."""
    _script(db, """
    CREATE TABLE tombstones (
        id INTEGER PRIMARY KEY,
        entity TEXT NOT NULL,
        uuid TEXT NOT NULL,
        deleted_at TEXT NOT NULL,
        site TEXT NOT NULL
    );
    CREATE UNIQUE INDEX tombstones_uuid ON tombstones(entity, uuid);

    CREATE TABLE sync_peers (
        site TEXT PRIMARY KEY,
        name TEXT,
        unit_uuid TEXT,
        last_seq INTEGER NOT NULL DEFAULT 0,
        acked_seq INTEGER NOT NULL DEFAULT 0,
        last_package TEXT,
        merged_at TEXT,
        exported_at TEXT
    );

    CREATE TABLE sync_base (
        peer TEXT NOT NULL,
        entity TEXT NOT NULL,
        uuid TEXT NOT NULL,
        data TEXT NOT NULL,
        got INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (peer, entity, uuid)
    );

    CREATE TABLE sync_conflicts (
        id INTEGER PRIMARY KEY,
        peer TEXT NOT NULL,
        entity TEXT NOT NULL,
        uuid TEXT NOT NULL,
        field TEXT NOT NULL,
        base TEXT,
        ours TEXT,
        theirs TEXT,
        found_at TEXT NOT NULL,
        resolved_at TEXT,
        resolution TEXT CHECK (resolution IS NULL OR resolution IN ('ours', 'theirs', 'agreed')),
        resolved_by TEXT
    );
    CREATE INDEX sync_conflicts_open ON sync_conflicts(resolved_at, peer, entity, uuid);
    """)


def m011_import_extras(db):
    """What an imported register had beyond our fields (issue 15): residents.extras, a JSON
    object column label -> text (户籍地/省, 联系手机 as a second phone, a focus group's own
    columns, values no code table knows), shown in the details panel and carried by exports
    and packages with the person."""
    _script(db, """
    ALTER TABLE residents ADD COLUMN extras TEXT CHECK (extras IS NULL OR json_valid(extras));
    """)


def m012_standard_fields(db):
    """GB/T 31000-2015 items residents lacked (issue 16): 曾用名, 籍贯, 宗教信仰, 户籍地 and
    户籍详址, 流入原因/时间, the residence permit (办证类型, 号码, 到期日期), 登记日期, 住所类型.
    Codes as in resources/codes; dates ISO like every other date column."""
    for column in ("former_name", "native_place", "religion", "register_place",
                   "register_address", "inflow_reason", "inflow_date", "permit_type",
                   "permit_number", "permit_expires_on", "registered_on", "dwelling_type"):
        db.conn.execute(f"ALTER TABLE residents ADD COLUMN {column} TEXT")


def m013_security(db):
    """Issue 18. sync_handouts: the packages of a whole unit (or of everything) this database
    wrote, i.e. what it handed to which laptop; a laptop's packages name the one it was
    started from, and may change only that unit (unit_uuid NULL: everything)."""
    _script(db, """
    CREATE TABLE sync_handouts (
        package TEXT PRIMARY KEY,
        unit_uuid TEXT,
        created_at TEXT NOT NULL,
        file TEXT
    );
    """)


def m015_community_workflows(db):
    """The community's own workflows (issue 21). tags.fields: a focus group's own extra
    fields (JSON list of labels) when an administrator set them; NULL: the catalogue's
    (resources/focus_groups.json). The values live in residents.extras under those labels,
    as an imported register leaves them. services: 一老一小 services (助餐, 上门服务, 托育 …)
    given to a resident, recorded like visits. microgrids (微网格) below a 网格: a building or
    unit (unit_id) or a chosen set of households (microgrid_households, a household in at
    most one such set), each with its head (微网格员: a resident or anyone, with role and
    phone); events.microgrid_id: the micro-grid head an event is assigned to. meetings (议事
    协商) with their participants, follow-up items (each becomes an event in the closed loop)
    and attachments (photos, signed sheets: stored in the database, encrypted with it; the
    record through Context, its bytes beside it in meeting_attachment_data so the audit log
    and change lists carry name, size and hash, not the file). checkups (社区体检): one per
    compound (or community) and year, a status per 完整社区 item (resources/checkup_items.json),
    and findings that become improvement items followed through as events. site_plans (以图
    管房): a compound's plan image (bytes beside it in site_plan_images) and its buildings
    placed as rectangles in fractions of the plan (site_plan_buildings)."""
    _script(db, f"""
    ALTER TABLE tags ADD COLUMN fields TEXT CHECK (fields IS NULL OR json_valid(fields));

    CREATE TABLE services (
        id INTEGER PRIMARY KEY,
        resident_id INTEGER NOT NULL REFERENCES residents(id),
        served_on TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (trim(kind) <> ''),
        provider TEXT NOT NULL CHECK (trim(provider) <> ''),
        content TEXT,
        {_SYNC}
    );
    CREATE INDEX services_resident ON services(resident_id, served_on);
    CREATE INDEX services_date ON services(served_on);

    CREATE TABLE microgrids (
        id INTEGER PRIMARY KEY,
        grid_id INTEGER NOT NULL REFERENCES grid_units(id),
        name TEXT NOT NULL CHECK (trim(name) <> ''),
        unit_id INTEGER REFERENCES grid_units(id),
        head_name TEXT,
        head_role TEXT,
        head_phone TEXT,
        head_resident_id INTEGER REFERENCES residents(id),
        notes TEXT,
        sort INTEGER NOT NULL DEFAULT 0,
        {_SYNC},
        UNIQUE (grid_id, name)
    );
    CREATE INDEX microgrids_unit ON microgrids(unit_id);

    CREATE TABLE microgrid_households (
        id INTEGER PRIMARY KEY,
        microgrid_id INTEGER NOT NULL REFERENCES microgrids(id),
        household_id INTEGER NOT NULL UNIQUE REFERENCES households(id),
        {_SYNC}
    );
    CREATE INDEX microgrid_households_microgrid ON microgrid_households(microgrid_id);

    ALTER TABLE events ADD COLUMN microgrid_id INTEGER REFERENCES microgrids(id);

    CREATE TABLE meetings (
        id INTEGER PRIMARY KEY,
        unit_id INTEGER NOT NULL REFERENCES grid_units(id),
        kind TEXT NOT NULL CHECK (kind IN ('院落议事会', '小区议事会', '居民议事会', '其他')),
        held_on TEXT NOT NULL,
        place TEXT,
        topic TEXT NOT NULL CHECK (trim(topic) <> ''),
        host TEXT,
        recorder TEXT,
        discussion TEXT,
        decisions TEXT,
        votes_for INTEGER CHECK (votes_for IS NULL OR votes_for >= 0),
        votes_against INTEGER CHECK (votes_against IS NULL OR votes_against >= 0),
        votes_abstain INTEGER CHECK (votes_abstain IS NULL OR votes_abstain >= 0),
        notes TEXT,
        {_SYNC}
    );
    CREATE INDEX meetings_held ON meetings(held_on);
    CREATE INDEX meetings_unit ON meetings(unit_id);

    CREATE TABLE meeting_participants (
        id INTEGER PRIMARY KEY,
        meeting_id INTEGER NOT NULL REFERENCES meetings(id),
        name TEXT NOT NULL CHECK (trim(name) <> ''),
        role TEXT NOT NULL DEFAULT '居民',
        resident_id INTEGER REFERENCES residents(id),
        {_SYNC}
    );
    CREATE INDEX meeting_participants_meeting ON meeting_participants(meeting_id);

    CREATE TABLE meeting_items (
        id INTEGER PRIMARY KEY,
        meeting_id INTEGER NOT NULL REFERENCES meetings(id),
        content TEXT NOT NULL CHECK (trim(content) <> ''),
        owner TEXT,
        event_id INTEGER REFERENCES events(id),
        {_SYNC}
    );
    CREATE INDEX meeting_items_meeting ON meeting_items(meeting_id);

    CREATE TABLE meeting_attachments (
        id INTEGER PRIMARY KEY,
        meeting_id INTEGER NOT NULL REFERENCES meetings(id),
        name TEXT NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        {_SYNC}
    );
    CREATE INDEX meeting_attachments_meeting ON meeting_attachments(meeting_id);
    CREATE TABLE meeting_attachment_data (
        attachment_id INTEGER PRIMARY KEY REFERENCES meeting_attachments(id),
        data BLOB NOT NULL
    );

    CREATE TABLE checkups (
        id INTEGER PRIMARY KEY,
        unit_id INTEGER NOT NULL REFERENCES grid_units(id),
        year INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2100),
        checked_on TEXT NOT NULL,
        inspector TEXT,
        summary TEXT,
        {_SYNC},
        UNIQUE (unit_id, year)
    );

    CREATE TABLE checkup_results (
        id INTEGER PRIMARY KEY,
        checkup_id INTEGER NOT NULL REFERENCES checkups(id),
        item TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('达标', '基本达标', '不达标', '不适用')),
        notes TEXT,
        {_SYNC},
        UNIQUE (checkup_id, item)
    );

    CREATE TABLE checkup_findings (
        id INTEGER PRIMARY KEY,
        checkup_id INTEGER NOT NULL REFERENCES checkups(id),
        item TEXT NOT NULL,
        content TEXT NOT NULL CHECK (trim(content) <> ''),
        owner TEXT,
        event_id INTEGER REFERENCES events(id),
        {_SYNC}
    );
    CREATE INDEX checkup_findings_checkup ON checkup_findings(checkup_id);

    CREATE TABLE site_plans (
        id INTEGER PRIMARY KEY,
        unit_id INTEGER NOT NULL UNIQUE REFERENCES grid_units(id),
        name TEXT,
        width INTEGER,
        height INTEGER,
        sha256 TEXT,
        {_SYNC}
    );
    CREATE TABLE site_plan_images (
        plan_id INTEGER PRIMARY KEY REFERENCES site_plans(id),
        data BLOB NOT NULL
    );
    CREATE TABLE site_plan_buildings (
        id INTEGER PRIMARY KEY,
        plan_id INTEGER NOT NULL REFERENCES site_plans(id),
        building_id INTEGER NOT NULL UNIQUE REFERENCES grid_units(id),
        x REAL NOT NULL CHECK (x >= 0 AND x <= 1),
        y REAL NOT NULL CHECK (y >= 0 AND y <= 1),
        w REAL NOT NULL CHECK (w > 0 AND w <= 1),
        h REAL NOT NULL CHECK (h > 0 AND h <= 1),
        {_SYNC}
    );
    CREATE INDEX site_plan_buildings_plan ON site_plan_buildings(plan_id);
    """)


def m016_event_resident(db):
    """Issue 20: an event names the resident it concerns. events.resident_id (an optional
    reference to residents, there since m005 but never filled) gets the index that a
    resident's details (their events) and the reference checks of a merge need."""
    _script(db, """
    CREATE INDEX events_resident ON events(resident_id) WHERE resident_id IS NOT NULL;
    """)


def m017_community_media(db):
    """Media of the community workflows (issue 21, second round). checkup_photos: photos per
    item of a check-up (so per item per compound and year), the record through Context, the
    bytes beside it in checkup_photo_data, as meeting attachments keep theirs (media.py).
    site_plan_buildings.points: a building drawn as a polygon (JSON list of [x, y] fractions
    of the plan); x, y, w, h stay its bounding box, so whatever reads rectangles still works."""
    _script(db, f"""
    CREATE TABLE checkup_photos (
        id INTEGER PRIMARY KEY,
        checkup_id INTEGER NOT NULL REFERENCES checkups(id),
        item TEXT NOT NULL,
        name TEXT NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        {_SYNC}
    );
    CREATE INDEX checkup_photos_checkup ON checkup_photos(checkup_id, item);
    CREATE TABLE checkup_photo_data (
        photo_id INTEGER PRIMARY KEY REFERENCES checkup_photos(id),
        data BLOB NOT NULL
    );
    ALTER TABLE site_plan_buildings ADD COLUMN points TEXT
        CHECK (points IS NULL OR json_valid(points));
    """)


MIGRATIONS = [m001_core, m002_default_tags, m003_search_index, m004_resident_events,
              m005_visits_events, m006_audit_log, m007_volunteers, m008_users,
              m009_dashboard_indexes, m010_exchange, m011_import_extras,
              m012_standard_fields, m013_security, m015_community_workflows,
              m016_event_resident, m017_community_media]
