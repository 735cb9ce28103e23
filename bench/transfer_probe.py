"""Started as a fresh process by bench/run.py (so each side's peak memory is its own): one
import or export, then `result SECONDS PEAK_MB ROWS` (peak = VmHWM of this process, or the
sampled peak of it and its child process together when larger).

    sheet OUT.xlsx N            write an N-row sheet as grid workers keep it (not timed)
    import-ours FILE DB         shequ_desktop.transfer.importing: read, plan, apply, end to end
    import-peer FILE DB         pandas.read_excel(openpyxl) + an INSERT per row (no checks)
    import-peer-same FILE DB    pandas.read_excel(openpyxl) + the domain's own services row by
                                row (clean_record, create_household / add_member) in one
                                transaction: the same database as ours, the straightforward way
    import-floor FILE DB        the machine's floor: calamine read + executemany of the cells as
                                they are into our residents table + our search index (no checks)
    import-pandas FILE DB       a competent peer: pandas.read_excel(engine="calamine") +
                                executemany into our residents table (no checks, no index)
    export-ours DB OUT.xlsx     shequ_desktop.transfer.exporting, district template, masked
    export-peer DB OUT.xlsx     pandas.read_sql + DataFrame.to_excel (xlsxwriter)
    template OUT.xlsx           write a blank 天阙-shaped template (title rows, two-row header,
                                widths, a drop-down; not timed)
    fill-ours DB TPL OUT.xlsx   shequ_desktop.transfer.exporting.fill: the template filled (masked,
                                labels, addresses) in a copy of the file
    fill-peer DB TPL OUT.xlsx   pandas.read_sql of the same columns + DataFrame.to_excel
                                (openpyxl, the usual default), no template, no labels
"""
import datetime as dt
import os
import random
import resource
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

HEADERS = ["序号", "户号", "姓名", "公民身份号码", "与户主关系", "性别", "出生日期", "民族",
           "联系电话", "文化程度", "婚姻状况", "现住址"]


def peak_mb() -> float:
    """This process's peak (VmHWM: ru_maxrss would count the pages of bench/run.py that this
    process had between fork and exec), or the peak of this process and its child (the
    import's second process) together, sampled every 20 ms, whichever is larger."""
    try:
        with open("/proc/self/status") as f:
            own = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return max(own, _tree_peak[0])


_tree_peak = [0.0]


def _rss_mb(pid: int | str) -> float:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize() / 2**20
    except OSError:
        return 0.0


def _execed(pid: str) -> bool:
    """False for a child between fork and exec: its RSS is still our pages, not its own."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"shequ_desktop.transfer.importing.worker" in f.read()
    except OSError:
        return False


def _sample_tree() -> None:
    """Keep _tree_peak at the largest RSS of this process plus its children (Linux)."""
    me = os.getpid()
    while True:
        total = _rss_mb(me)
        for task in os.listdir(f"/proc/{me}/task"):
            try:
                with open(f"/proc/{me}/task/{task}/children") as f:
                    total += sum(_rss_mb(pid) for pid in f.read().split() if _execed(pid))
            except OSError:
                pass
        _tree_peak[0] = max(_tree_peak[0], total)
        time.sleep(0.02)


def write_sheet(path: str, n: int) -> None:
    """Households of 1–4 with valid IDs, mixed date spellings, addresses 3栋2单元501 / 3-2-501,
    a title row above and a 合计 row below."""
    import xlsxwriter
    from shequ_desktop.core.idnumber import check_digit

    rng = random.Random(5)
    book = xlsxwriter.Workbook(path, {"constant_memory": True})
    ws = book.add_worksheet("居民")
    ws.write(0, 0, "某社区居民信息登记表")
    ws.write_row(1, 0, HEADERS)
    surnames = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
    given = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华"
    row, household, used = 2, 0, set()
    while row - 2 < n:
        household += 1
        building, unit, floor, room = household // 96 + 1, household // 24 % 4 + 1, \
            household // 2 % 12 + 1, household % 2 + 1
        address = (f"{building}栋{unit}单元{floor}{room:02d}" if household % 3
                   else f"{building}-{unit}-{floor}{room:02d}")
        surname = rng.choice(surnames)
        for k, relation in enumerate(("户主", "妻", "子", "女")[:rng.randint(1, 4)]):
            if row - 2 >= n:
                break
            while True:
                birth = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(365 * 80))
                male = relation in ("户主", "子")
                seq = rng.randrange(500) * 2 + (1 if male else 0)
                body = f"110105{birth:%Y%m%d}{seq:03d}"
                if body not in used:
                    used.add(body)
                    break
            number = body + check_digit(body)
            spelled = (birth.isoformat(), f"{birth.year}.{birth.month}.{birth.day}",
                       f"{birth.year}年{birth.month}月{birth.day}日", f"{birth:%Y%m%d}")[row % 4]
            ws.write_row(row, 0, [row - 1, f"H{household:06d}",
                                  (surname if k != 1 else rng.choice(surnames))
                                  + rng.choice(given) + rng.choice(given), number, relation,
                                  "男" if male else "女", spelled, "汉族",
                                  f"13{rng.randrange(10**9):09d}", rng.choice(
                                      ("小学", "初中", "高中", "大学本科")), "已婚", address])
            row += 1
    ws.write_row(row, 0, ["合计", "", f"{n}人"])
    book.close()


def import_ours(path: str, db_path: str) -> int:
    import db
    from shequ_desktop.places import founding as community
    from shequ_desktop.core.context import Context
    from shequ_desktop.transfer.importing import apply_plan, build_plan, read_table

    conn = db.open_db(db_path)
    ctx = Context(conn, "bench")
    unit = community.init_community(ctx, "新社区").id
    plan = build_plan(conn, read_table(path))
    counts = apply_plan(ctx, plan, unit)
    assert counts["errors"] == 0, [r.reason() for r in plan.error_rows()[:3]]
    return counts["created"]


def import_peer(path: str, db_path: str) -> int:
    import pandas as pd

    import db
    conn = db.open_db(db_path)
    frame = pd.read_excel(path, engine="openpyxl", header=1, dtype=str)
    frame = frame[frame["姓名"].notna()]
    n = 0
    conn.execute("BEGIN")
    for row in frame.itertuples(index=False):
        conn.execute("INSERT INTO residents (name, id_number, gender, birth_date, phone,"
                     " relation_to_head, ethnicity, education, marital_status, notes)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (row[2], row[3], row[5], row[6], row[8], row[4], row[7], row[9], row[10],
                      row[11]))
        n += 1
    conn.execute("COMMIT")
    return n


_FLOOR_COLUMNS = ["id", "household_id", "name", "id_number", "relation_to_head", "gender",
                  "birth_date", "ethnicity", "phone", "education", "marital_status", "notes",
                  "status", "residence_type", "separated", "id_type"]


def _floor_rows(cells) -> list[tuple]:
    out = []
    for i, r in enumerate(cells, start=1):
        if not r[2] or r[0] == "合计":
            continue
        out.append((i, None, r[2], r[3], r[4], r[5], str(r[6]), r[7], str(r[8]), r[9], r[10],
                    r[11], "在册", "1", 0, "01"))
    return out


def import_floor(path: str, db_path: str) -> int:
    from python_calamine import CalamineWorkbook

    import db
    from shequ_desktop.core.context import Context

    conn = db.open_db(db_path)
    book = CalamineWorkbook.from_path(path)
    cells = book.get_sheet_by_index(0).to_python(skip_empty_area=False)[2:]
    rows = _floor_rows(cells)
    ctx = Context(conn, "bench")
    with ctx.transaction():                     # the search index is written at commit
        ctx.bulk_insert("residents", _FLOOR_COLUMNS, rows)
    return len(rows)


def import_pandas(path: str, db_path: str) -> int:
    import pandas as pd

    import db
    conn = db.open_db(db_path)
    frame = pd.read_excel(path, engine="calamine", header=1, dtype=str)
    frame = frame[frame["姓名"].notna()]
    rows = _floor_rows(frame.itertuples(index=False))
    with conn:
        conn.executemany(f"INSERT INTO residents ({', '.join(_FLOOR_COLUMNS)}) VALUES "
                         f"({', '.join('?' * len(_FLOOR_COLUMNS))})", rows)
    return len(rows)


def import_peer_same(path: str, db_path: str) -> int:
    import pandas as pd

    import db
    from shequ_desktop.places import founding as community
    from shequ_desktop.population import households, residents
    from shequ_desktop.core.context import Context

    conn = db.open_db(db_path)
    ctx = Context(conn, "bench")
    community.init_community(ctx, "新社区")
    frame = pd.read_excel(path, engine="openpyxl", header=1, dtype=str)
    n = 0
    current = {}
    with ctx.transaction():
        for row in frame.itertuples(index=False):
            if row[0] == "合计":
                continue
            values = {"name": row[2], "id_number": row[3], "gender": row[5],
                      "birth_date": row[6], "ethnicity": row[7], "phone": row[8],
                      "education": row[9], "marital_status": row[10]}
            if row[4] == "户主":
                current[row[1]] = households.create_household(
                    ctx, None, values, {"household_no": row[1]}).id
            else:
                residents.add_member(ctx, current[row[1]], values, row[4])
            n += 1
    return n


def export_ours(db_path: str, out: str) -> int:
    import db
    from shequ_desktop.transfer import exporting

    conn = db.open_db(db_path)
    return exporting.export(conn, exporting.for_what("residents"), out, "xlsx")["rows"]


def export_peer(db_path: str, out: str) -> int:
    import pandas as pd

    import db
    conn = db.open_db(db_path)
    frame = pd.read_sql("SELECT r.id_number, r.name, r.gender, r.ethnicity, r.birth_date,"
                        " r.id_type, r.residence_type, r.relation_to_head, h.household_no,"
                        " r.separated, r.phone, r.political_status, r.education,"
                        " r.marital_status, r.occupation, r.workplace, r.health,"
                        " ho.room_no, r.moved_in_at FROM residents r"
                        " LEFT JOIN households h ON h.id = r.household_id"
                        " LEFT JOIN houses ho ON ho.id = h.house_id"
                        " WHERE r.status = '在册'", conn)
    frame.to_excel(out, engine="xlsxwriter", index=False)
    return len(frame)


TEMPLATE_TOP = ["姓名*", "所属网格*", "性别*", "出生日期", "身份证号码*", "救助原因*", "户籍地",
                "", "", "关注程度", "户籍详细地址", "现住地址*", "其他地址", "曾用名",
                "工作单位或就读学校", "联系电话", "联系手机", "电子邮箱", "民族*", "政治面貌*",
                "文化程度*", "职业", "婚姻状况*", "血型", "宗教信仰", "身高(CM)", "备注"]
# the columns the template's header names, as the peer selects them
FILL_SQL = """SELECT r.name, g.name AS grid, r.gender, r.birth_date, r.id_number,
    r.register_address, ho.room_no, r.former_name, r.workplace, r.phone, r.ethnicity,
    r.political_status, r.education, r.occupation, r.marital_status, r.religion, r.notes
    FROM residents r LEFT JOIN households h ON h.id = r.household_id
    LEFT JOIN houses ho ON ho.id = h.house_id LEFT JOIN grid_units u ON u.id = ho.unit_id
    LEFT JOIN grid_units g ON g.id = u.parent_id WHERE r.status = '在册'"""


def write_template(path: str) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(path)
    ws = book.add_worksheet("需要救助人员登记表")
    ws.merge_range(0, 1, 0, 11, "需要救助人员信息登记表")
    ws.write(0, 0, "1.0")
    ws.write_row(2, 0, ["填报单位：", "某某省", "省*", "某某市", "市*"])
    for c, label in enumerate(TEMPLATE_TOP):
        if c in (6, 7, 8):
            continue
        ws.merge_range(4, c, 5, c, label)
    ws.merge_range(4, 6, 4, 8, "户籍地")
    ws.write_row(5, 6, ["省*", "市*", "区县*"])
    ws.set_column(0, 0, 10)
    ws.set_column(4, 4, 22)
    ws.data_validation(6, 2, 999, 2, {"validate": "list", "source": ["男", "女"]})
    book.close()


def fill_ours(db_path: str, template_path: str, out: str) -> int:
    import db
    from shequ_desktop.transfer.exporting import fill

    conn = db.open_db(db_path)
    template = fill.open_template(template_path)
    plan = fill.plan_columns("residents", template.labels)
    return fill.fill(conn, template, plan, "residents", out)["rows"]


def fill_peer(db_path: str, template_path: str, out: str) -> int:
    import pandas as pd

    import db
    conn = db.open_db(db_path)
    frame = pd.read_sql(FILL_SQL, conn)
    frame.to_excel(out, index=False)
    return len(frame)


def main() -> None:
    mode, *args = sys.argv[1:]
    if mode == "sheet":
        write_sheet(args[0], int(args[1]))
        print(f"result 0 {peak_mb():.1f} {args[1]}")
        return
    if mode == "template":
        write_template(args[0])
        print(f"result 0 {peak_mb():.1f} 0")
        return
    if os.environ.get("BENCH_DB_KEY"):          # the database is (to be) encrypted
        import db
        db.use_key(args[-1], bytes.fromhex(os.environ["BENCH_DB_KEY"]))
    fn = {"import-ours": import_ours, "import-peer": import_peer,
          "import-peer-same": import_peer_same, "import-floor": import_floor,
          "import-pandas": import_pandas,
          "export-ours": export_ours, "export-peer": export_peer,
          "fill-ours": fill_ours, "fill-peer": fill_peer}[mode]
    if Path("/proc/self/task").is_dir():
        threading.Thread(target=_sample_tree, daemon=True).start()
    start, cpu = time.perf_counter(), _cpu()
    rows = fn(*args)
    print(f"result {time.perf_counter() - start:.3f} {peak_mb():.1f} {rows} {_cpu() - cpu:.3f}",
          flush=True)


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the import's second process)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


if __name__ == "__main__":
    main()
