"""社区治理: the four community pages (微网格, 议事协商, 社区体检, 以图管房) under one tab of the
main window, so its tab bar fits a 1366×768 screen without scrolling."""
from ui.main_window import COMMUNITY, PAGES, MainWindow
from ui.pages.checkups_page import CheckupsPage
from ui.pages.community_page import CommunityPage
from ui.pages.meetings_page import MeetingsPage
from ui.pages.microgrids_page import MicrogridsPage
from ui.pages.siteplan_page import SiteplanPage


def test_the_community_pages_sit_under_one_tab(qtbot, conn, ctx, place):
    window = MainWindow(conn, "x.db")
    qtbot.addWidget(window)
    titles = [window.pages.tabText(i) for i in range(window.pages.count())]
    assert "社区治理" in titles and not {"微网格", "议事协商", "社区体检", "以图管房"} & set(titles)
    assert len(PAGES) == 14 and window.page("meetings") is None
    meetings = window.show_page("meetings")
    community = window.page("community")
    assert isinstance(community, CommunityPage) and isinstance(meetings, MeetingsPage)
    assert window.current_page() == "community" and community.current_key() == "meetings"
    assert community.stack.currentWidget() is meetings
    assert [community.list.item(i).text() for i in range(community.list.count())] == [
        title for _key, title in COMMUNITY]
    # choosing in the list builds the page, and it follows the tree's unit
    community.list.setCurrentRow(2)
    assert isinstance(window.page("checkups"), CheckupsPage)
    window.tree.select_unit(place.grid)
    assert window.page("checkups").unit_id == place.grid
    assert isinstance(window.show_page("microgrids"), MicrogridsPage)
    assert isinstance(window.show_page("siteplan"), SiteplanPage)
    assert window.page("siteplan").unit_id == place.grid


def test_the_main_tab_bar_fits_a_1366_wide_screen(qtbot, conn):
    window = MainWindow(conn, "x.db")
    qtbot.addWidget(window)
    window.resize(1366, 740)
    window.show()
    qtbot.waitExposed(window)
    bar = window.pages.tabBar()
    for key in ("dashboard", "residents"):          # without and with the details panel
        window.show_page(key)
        qtbot.waitUntil(lambda: bar.width() > 0)
        needed = sum(bar.tabSizeHint(i).width() for i in range(bar.count()))
        assert needed <= window.pages.width(), (key, needed, window.pages.width())
