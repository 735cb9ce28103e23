"""The worst GUI-thread stall of a scripted tour of every page (issue 20's goal: none over
200 ms at 200,000 residents).

    .venv/bin/python bench/stall_probe.py DB USER PASSWORD

Signs in like the program, shows the main window (offscreen unless QT_QPA_PLATFORM says
otherwise), then visits every page in tab order, sorts the 人员 table by three columns and the
志愿者, 事件 and 走访 lists by one, picks another focus group, picks a community in the tree,
visits every page again (each reads for the community) and shows 走访 「全部重点人员」. A 10 ms timer on the GUI thread
measures how late it fires; the worst lateness per step and overall are printed as
`stall STEP MS gui_cpu MS` lines (gui_cpu: CPU time the GUI thread itself used in the step's
2 s, so lateness from a busy machine or the background readers shows as lateness with little
GUI CPU) and a last `worst MS`.
"""
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TICK_MS = 10
SETTLE_S = 2.0


def main() -> int:
    from PySide6.QtCore import QTimer, Qt
    from PySide6.QtWidgets import QApplication

    from shequ_desktop.security import unlock
    from ui import app as ui_app, background, start
    from ui.main_window import PAGES

    path, user, password = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    app = ui_app.make_app([])
    key = unlock.unlock(path, user, password)
    session = start.signed_in(path, user, key)
    window = ui_app.build_main_window(session.conn, path, user=session.user)
    window.resize(1366, 740)
    window.show()

    state = {"last": time.perf_counter(), "worst": 0.0}

    def tick() -> None:
        now = time.perf_counter()
        state["worst"] = max(state["worst"], (now - state["last"]) * 1000 - TICK_MS)
        state["last"] = now

    timer = QTimer()
    timer.setInterval(TICK_MS)
    timer.timeout.connect(tick)
    timer.start()
    results: list[tuple[str, float]] = []

    def step(name: str, action) -> None:
        state["worst"], state["last"] = 0.0, time.perf_counter()
        started, cpu = time.perf_counter(), time.thread_time()
        action()
        tick()                                   # the action itself, if it blocked
        while time.perf_counter() - started < SETTLE_S:
            app.processEvents()
            time.sleep(0.002)
        results.append((name, state["worst"], (time.thread_time() - cpu) * 1000))

    step("首页", lambda: window.show_page("dashboard"))
    for key, title in PAGES[1:]:
        step(title, lambda k=key: window.show_page(k))
    page = window.show_page("residents")
    for column in ("name", "address", "age"):
        index = page.model.columns.index(column)
        step(f"人员 按{column}排序", lambda i=index: page.view.sortByColumn(
            i, page.view.horizontalHeader().sortIndicatorOrder()))
    focus = window.show_page("focus")
    if focus.groups.rowCount() > 1:
        step("重点人群 换一类", lambda: focus.group_view.setCurrentIndex(
            focus.groups.index(1, 0)))
    for key, view_of, column in (("volunteers", lambda p: p.view, 5),
                                 ("events", lambda p: p.view, 0),
                                 ("visits", lambda p: p.view, 0)):
        page = window.show_page(key)
        step(f"{dict(PAGES)[key]} 排序", lambda v=view_of(page), c=column: v.sortByColumn(
            c, Qt.SortOrder.DescendingOrder))
    community = session.conn.execute(
        "SELECT id FROM grid_units WHERE level = 'community' LIMIT 1").fetchone()[0]
    step("选择社区", lambda: window.tree.select_unit(community))
    for key, title in PAGES:                     # every page again, scoped to the community
        step(f"社区 {title}", lambda k=key: window.show_page(k))
    visits = window.show_page("visits")
    step("走访 全部重点人员", lambda: visits.set_mode("all"))
    step("数据质量 刷新", lambda: window.show_page("quality").refresh())
    for name, ms, cpu in results:
        print(f"stall {name} {ms:.0f} gui_cpu {cpu:.0f}", flush=True)
    print(f"worst {max(ms for _n, ms, _c in results):.0f}", flush=True)
    background.finish_all()
    session.conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
