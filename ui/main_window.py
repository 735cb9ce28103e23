"""The main window: grid tree on the left, the page in the middle, details on the right.

It only wires the parts together (DESIGN.md §7); each part is its own widget.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QSplitter, QTabWidget, QWidget

from db.driver import sqlite3
from shequ_desktop.core.context import Change, Context
from ui.details_panel import DetailsPanel
from ui.grid_tree import GridTree

# Imports inside functions here are lazy for start-up: each page, dialog and wizard module is
# imported when it is first built or opened, not when the window shows.

USER = "管理员"

# (key, tab title) in tab order. A page is built by `_build_<key>` the first time it is shown;
# pages may offer set_unit(unit_id), refresh() and apply_changes(changes).
PAGES = (
    ("dashboard", "首页"),
    ("residents", "人员"),
    ("household", "户"),
    ("building", "楼栋图"),
    ("visits", "走访"),
    ("focus", "重点人群"),
    ("community", "社区治理"),
    ("events", "事件"),
    ("volunteers", "志愿者"),
    ("reports", "台账报表"),
    ("quality", "数据质量"),
    ("exchange", "数据交换"),
    ("audit", "审计日志"),
    ("users", "用户"),
)

# The pages inside 社区治理 (ui/pages/community_page.py), in its list's order.
COMMUNITY = (("microgrids", "微网格"), ("meetings", "议事协商"), ("checkups", "社区体检"),
             ("siteplan", "以图管房"))

# Pages beside which the details panel (the chosen resident) means something.
DETAILS_PAGES = ("residents", "household", "visits", "quality")
# The tree and the details panel stay readable (1024×700 included); both can be collapsed by
# dragging the splitter handle to the edge, and the splitter state is remembered.
TREE_MIN_WIDTH, DETAILS_MIN_WIDTH, PAGES_MIN_WIDTH = 170, 200, 420


class MainWindow(QMainWindow):
    def __init__(self, conn: sqlite3.Connection, path, settings: QSettings | None = None,
                 parent: QWidget | None = None, user=None):
        super().__init__(parent)
        self.conn = conn
        self.path = Path(path)
        self.settings = settings if settings is not None else QSettings()
        self.user = user                    # the signed-in users.User (None: unrestricted)
        self.db_key: bytes | None = None    # unwrapped at sign-in (user management needs it)
        self.ctx = Context(conn, user=user.username if user else USER)
        self.ctx.access = user.access if user else None

        self.tree = GridTree(conn, access=self.ctx.access)   # a 网格员: their units only
        self.tree.set_context(self.ctx)
        self.details = DetailsPanel(conn, access=self.ctx.access)
        # Pages are built the first time they are needed (start-up stays light).
        self.built: dict[str, QWidget] = {}
        self.pages = QTabWidget()
        self.pages.setDocumentMode(True)
        for _key, title in PAGES:
            self.pages.addTab(QWidget(), self.tr(title))
        self.pages.currentChanged.connect(self._on_page)
        self._unit_id: int | None = self.tree.current_unit()    # a 网格员's first unit
        self._household_id: int | None = None
        self._on_page(self.pages.currentIndex())       # the first page (首页) is shown at start

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.tree)
        self.splitter.addWidget(self.pages)
        self.splitter.addWidget(self.details)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 0)
        self.splitter.setCollapsible(0, True)
        self.splitter.setCollapsible(1, False)
        self.splitter.setCollapsible(2, True)
        self.tree.setMinimumWidth(TREE_MIN_WIDTH)
        self.details.setMinimumWidth(DETAILS_MIN_WIDTH)
        # A wide page (审计日志) is narrowed, not the tree: the splitter keeps to this minimum.
        self.pages.setMinimumWidth(PAGES_MIN_WIDTH)
        self.details.setVisible(self.current_page() in DETAILS_PAGES)
        self.setCentralWidget(self.splitter)

        self.setWindowTitle(self.tr("社区网格工作台 — {0}").format(self.path.name))
        self.path_label = QLabel(self.tr("数据库：{0}").format(self.path))
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.statusBar().addWidget(self.path_label, 1)
        if user is not None:
            self.statusBar().addPermanentWidget(QLabel(self.tr("当前用户：{0}（{1}）").format(
                user.display_name, user.role)))
        self._build_menus()

        self.tree.unitSelected.connect(self._on_unit)
        self.details.memberActivated.connect(self._show_member)
        self.details.historyRequested.connect(
            lambda rid: self.show_page("audit").show_record("residents", rid))
        self.ctx.subscribe(self._on_changes)
        self._restore_layout()

    # --- pages ---------------------------------------------------------------------------------
    def _on_unit(self, unit_id: int | None) -> None:
        self._unit_id = unit_id
        for key, page in self.built.items():
            if key == "building":
                page.show_building(self._building_of(unit_id))
            elif hasattr(page, "set_unit"):
                page.set_unit(unit_id)

    def page(self, key: str) -> QWidget | None:
        """The page with this key if it has been built."""
        if key in dict(COMMUNITY):
            return self.built["community"].page(key) if "community" in self.built else None
        return self.built.get(key)

    def show_page(self, key: str) -> QWidget:
        if key in dict(COMMUNITY):
            return self.show_page("community").choose(key)
        self.pages.setCurrentIndex([k for k, _title in PAGES].index(key))
        return self._ensure(key)

    @property
    def residents_page(self):
        """The 人员 page (built on first use, also when another part needs it)."""
        return self._ensure("residents")

    def _building_of(self, unit_id: int | None) -> int | None:
        """The building a tree node stands for (a unit's parent building), else None."""
        unit = self.tree.unit(unit_id)
        if unit and unit["level"] == "unit":
            unit = self.tree.unit(unit["parent_id"])
        return unit["id"] if unit and unit["level"] == "building" else None

    def _on_resident(self, resident_id: int | None) -> None:
        self.details.show_resident(resident_id)
        if resident_id is not None:
            self._household_id = self.details.household_id
            if "household" in self.built:
                self.built["household"].show_household(self._household_id)

    def _on_page(self, index: int) -> None:
        key = PAGES[index][0]
        self._ensure(key)
        if self.details.parentWidget() is not None:      # in the splitter already
            # The details panel only says something beside lists of residents.
            self.details.setVisible(key in DETAILS_PAGES)

    def _ensure(self, key: str) -> QWidget:
        if key in self.built:
            return self.built[key]
        index = [k for k, _title in PAGES].index(key)
        page = getattr(self, f"_build_{key}")()
        self.built[key] = page
        blocker = self.pages.blockSignals(True)
        current = self.pages.currentIndex()
        self.pages.removeTab(index)
        self.pages.insertTab(index, page, self.tr(PAGES[index][1]))
        self.pages.setCurrentIndex(current)
        self.pages.blockSignals(blocker)
        if key not in ("household", "building") and hasattr(page, "set_unit"):
            page.set_unit(self._unit_id)
        return page

    def _build_residents(self) -> QWidget:
        from ui.pages.residents_page import ResidentsPage
        page = ResidentsPage(self.ctx)
        page.residentSelected.connect(self._on_resident)
        page.residentOpened.connect(self.edit_resident)
        page.restore_state(self.settings.value("residents/header"))
        return page

    def _build_household(self) -> QWidget:
        from ui.pages.household_view import HouseholdView
        view = HouseholdView(self.ctx)
        view.residentActivated.connect(self.edit_resident)
        view.addMemberRequested.connect(self.new_member)
        view.residentSelected.connect(self.details.show_resident)
        view.show_household(self._household_id)
        return view

    def _build_building(self) -> QWidget:
        from ui.pages.building_page import BuildingView
        view = BuildingView(self.ctx)
        view.householdActivated.connect(self.show_household)
        view.houseActivated.connect(self.new_household)
        view.show_building(self._building_of(self._unit_id))
        return view

    def _build_visits(self) -> QWidget:
        from ui.pages.visits_page import VisitsPage
        page = VisitsPage(self.ctx)
        page.residentSelected.connect(self._on_resident)
        return page

    def _build_focus(self) -> QWidget:
        from ui.pages.focus_page import FocusPage
        page = FocusPage(self.ctx, self.path)
        page.residentSelected.connect(self._on_resident)
        return page

    def _build_community(self) -> QWidget:
        from ui.pages.community_page import CommunityPage
        return CommunityPage([(key, title, getattr(self, f"_build_{key}"))
                              for key, title in COMMUNITY])

    def _build_microgrids(self) -> QWidget:
        from ui.pages.microgrids_page import MicrogridsPage
        page = MicrogridsPage(self.ctx, self.path)
        page.residentSelected.connect(self._on_resident)
        return page

    def _build_meetings(self) -> QWidget:
        from ui.pages.meetings_page import MeetingsPage
        return MeetingsPage(self.ctx, self.path)

    def _build_checkups(self) -> QWidget:
        from ui.pages.checkups_page import CheckupsPage
        return CheckupsPage(self.ctx, self.path)

    def _build_siteplan(self) -> QWidget:
        from ui.pages.siteplan_page import SiteplanPage
        page = SiteplanPage(self.ctx, self.path)
        page.buildingActivated.connect(lambda b: self.show_page("building").show_building(b))
        return page

    def _build_users(self) -> QWidget:
        from ui.pages.users_page import UsersPage
        return UsersPage(self.ctx, self)

    def _build_audit(self) -> QWidget:
        from ui.pages.audit_page import AuditPage
        return AuditPage(self.ctx)

    def _build_events(self) -> QWidget:
        from ui.pages.events_page import EventsPage
        return EventsPage(self.ctx)

    def _build_volunteers(self) -> QWidget:
        from ui.pages.volunteers_page import VolunteersPage
        return VolunteersPage(self.ctx)

    def _build_reports(self) -> QWidget:
        from ui.pages.reports_page import ReportsPage
        return ReportsPage(self.ctx)

    def _build_dashboard(self) -> QWidget:
        from ui.pages.dashboard_page import DashboardPage
        page = DashboardPage(self.ctx)
        page.openRequested.connect(self.open_target)
        return page

    def open_target(self, target: dict) -> None:
        """Show the page a 首页 figure stands for (target["page"]), in the target's unit, and
        let the page set its own filters (its `open_target`)."""
        if target["page"] not in [k for k, _title in PAGES]:
            return
        if target.get("unit_id") is not None:
            self.tree.select_unit(target["unit_id"])
        page = self.show_page(target["page"])
        if hasattr(page, "open_target"):
            page.open_target(target)

    def _build_exchange(self) -> QWidget:
        from ui.pages.exchange_page import ExchangePage
        return ExchangePage(self.ctx, self.path)     # a merge's changes come through _on_changes

    def _build_quality(self) -> QWidget:
        from ui.pages.quality_page import QualityPage
        page = QualityPage(self.ctx)
        page.openRecord.connect(lambda kind, record_id: self.edit_resident(record_id)
                                if kind == "resident" else self.show_household(record_id))
        return page

    def show_household(self, household_id: int) -> None:
        self._household_id = household_id
        self.show_page("household").show_household(household_id)

    # --- records ---------------------------------------------------------------------------------
    @staticmethod
    def _dialogs():
        from ui import (
            resident_dialog,  # the form costs 12 ms to import: not at start-up
        )
        return resident_dialog

    def edit_resident(self, resident_id: int) -> None:
        self._said_saved(self._dialogs().open_resident(self, self.ctx, resident_id))

    def new_member(self, household_id: int) -> None:
        self._said_saved(self._dialogs().open_new_member(self, self.ctx, household_id))

    def new_household(self, house_id: int | None) -> None:
        self._said_saved(self._dialogs().open_new_household(self, self.ctx, house_id))

    def _said_saved(self, resident_id: int | None) -> None:
        """「已保存」 in the status bar after a form was saved."""
        if resident_id is None:
            return
        row = self.conn.execute("SELECT name FROM residents WHERE id = ?",
                                (resident_id,)).fetchone()
        self.statusBar().showMessage(
            self.tr("已保存：{0}").format(row[0] if row else resident_id), 8000)

    def current_page(self) -> str:
        return PAGES[self.pages.currentIndex()][0]

    def new_resident(self) -> None:
        """Ctrl+N: on the 户 page a member of the household shown; elsewhere a new resident
        (the head of a new household, its room chosen later or in the 楼栋图)."""
        household_id = self.built["household"].household_id \
            if "household" in self.built else None
        if self.current_page() == "household" and household_id is not None:
            self.new_member(household_id)
            return
        self.new_household(None)

    def _build_menus(self) -> None:
        self.file_menu = file_menu = self.menuBar().addMenu(self.tr("文件(&F)"))
        self.quit_action = QAction(self.tr("退出(&X)"), self)
        self.quit_action.setShortcut(QKeySequence(self.tr("Ctrl+Q")))
        self.quit_action.triggered.connect(self.close)
        self.refresh_action = QAction(self.tr("刷新(&R)"), self)
        self.refresh_action.setShortcut(QKeySequence(Qt.Key.Key_F5))
        self.refresh_action.triggered.connect(self.refresh)
        self.import_action = file_menu.addAction(self.tr("导入表格(&I)…"), self.import_sheet)
        self.export_action = file_menu.addAction(self.tr("导出(&E)…"), self.export_data)
        file_menu.addSeparator()
        file_menu.addAction(self.refresh_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        edit_menu = self.menuBar().addMenu(self.tr("编辑(&E)"))
        self.find_action = edit_menu.addAction(self.tr("查找(&F)"), QKeySequence.StandardKey.Find,
                                               self._find)
        self.new_action = edit_menu.addAction(self.tr("新增居民(&N)"), QKeySequence.StandardKey.New,
                                              self.new_resident)

    def import_sheet(self) -> None:
        from ui.dialogs.import_wizard import open_import  # lazy: not needed at start-up
        open_import(self, self.ctx, self.path, self._unit_id)   # its changes: _on_changes

    def export_data(self) -> None:
        from ui.dialogs.export_dialog import open_export
        open_export(self, self.ctx, self.path, self._unit_id)

    def _find(self) -> None:
        self.show_page("residents")
        self.residents_page.focus_search()

    # --- keeping the parts current ----------------------------------------------------------
    def _on_changes(self, changes: list[Change]) -> None:
        """After each committed write through self.ctx, or a background operation's
        (ui/operations.py): each part refreshes what it shows."""
        self.tree.apply_changes(changes)
        self.details.apply_changes(changes)
        for page in self.built.values():
            if hasattr(page, "apply_changes"):
                page.apply_changes(changes)

    def refresh(self) -> None:
        """F5: re-read everything (for changes made outside this window)."""
        self.tree.reload()
        self.tree.load_counts()
        self.details.refresh()
        for page in self.built.values():
            if hasattr(page, "refresh"):
                page.refresh()

    def _show_member(self, resident_id: int) -> None:
        if not self.residents_page.select_resident(resident_id):
            self.details.show_resident(resident_id)

    # --- layout persistence -------------------------------------------------------------------
    def _restore_layout(self) -> None:
        s = self.settings
        geometry = s.value("main_window/geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1280, 780)
        self.fit_screen()
        splitter = s.value("main_window/splitter")
        if splitter is None or not self.splitter.restoreState(splitter):
            self.splitter.setSizes([270, 800, 280])

    def fit_screen(self) -> None:
        """Never larger than the screen's available area (a 1366×768 laptop with its task
        bar included): the frame stays on screen, the window shrinks to fit."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return
        area = screen.availableGeometry()
        if area.width() <= 0 or area.height() <= 0:
            return
        frame = self.frameGeometry().size() - self.geometry().size()
        width = min(self.width(), area.width() - max(frame.width(), 0))
        height = min(self.height(), area.height() - max(frame.height(), 30))
        if (width, height) != (self.width(), self.height()):
            self.resize(width, height)
        top_left = self.frameGeometry().topLeft()
        x = min(max(top_left.x(), area.left()), area.right() - self.frameGeometry().width())
        y = min(max(top_left.y(), area.top()), area.bottom() - self.frameGeometry().height())
        if (x, y) != (top_left.x(), top_left.y()):
            self.move(max(x, area.left()), max(y, area.top()))

    def save_layout(self) -> None:
        s = self.settings
        s.setValue("main_window/geometry", self.saveGeometry())
        s.setValue("main_window/splitter", self.splitter.saveState())
        if "residents" in self.built:
            s.setValue("residents/header", self.built["residents"].save_state())
        s.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_layout()
        super().closeEvent(event)
