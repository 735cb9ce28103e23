"""A 网格员 reads only their grids' volunteers: the sign-in sheet, the team list of the volunteer
form, the leader list of the team form, and volunteers and teams opened by id (Context.get,
the edit form, saving a sheet) — in the domain and in real widgets offscreen (real SQLite
files). The rule is the register's (volunteers.IN_SCOPE): a volunteer is theirs when their
team's unit or their home lies in their grids; one with neither is community-wide."""
import pytest
from PySide6.QtWidgets import QMessageBox

from shequ_desktop.volunteers import activities as va, points as vp, roster as volunteers
from shequ_desktop.core.access import NotPermitted
from ui import refusal
from ui.dialogs.volunteer_edit import VolunteerEditDialog
from ui.dialogs.volunteer_forms import TeamDialog, VolunteerDialog
from ui.dialogs.volunteer_sign_in import SignInDialog
from ui.pages.volunteers_page import VolunteersPage

from tests.core.test_read_scope import fast_scrypt, signed_in, world  # noqa: F401  (fixtures)
from tests.core.test_read_scope_reports_and_exports import both  # noqa: F401  (fixture)

JOINED = {"joined_on": "2020-01-01"}


@pytest.fixture
def more(ctx, conn, both):
    """Besides `both` (钱一 of 一网格服务队, 孙二 of 二网格服务队, 周三 of neither; 一网格敬老
    signed by 钱一 and 周三): a community team and one of no unit, 李秀英 (home 第一网格)
    in 二网格服务队, 赵六 (home 第二网格) in no team, 吴五 of 二网格服务队 signed in by the
    administrator to 一网格敬老, and 郑七 of 一网格服务队 not signed in."""
    ids = {name: conn.execute("SELECT id FROM volunteer_teams WHERE name = ?",
                              (name,)).fetchone()[0] for name in ("一网格服务队", "二网格服务队")}
    ids["社区服务队"] = volunteers.create_team(ctx, {"name": "社区服务队",
                                                "unit_id": both["community"]}).id
    ids["流动服务队"] = volunteers.create_team(ctx, {"name": "流动服务队"}).id
    vol = {r["name"]: r["id"] for r in vp.hours_summary(conn)}
    vol["李秀英"] = volunteers.create_volunteer(ctx, JOINED, resident_id=both["wife"],
                                              team_id=ids["二网格服务队"]).id
    vol["赵六"] = volunteers.create_volunteer(ctx, JOINED, resident_id=both["zhao"]).id
    vol["吴五"] = volunteers.create_volunteer(ctx, {"name": "吴五", **JOINED},
                                            team_id=ids["二网格服务队"]).id
    vol["郑七"] = volunteers.create_volunteer(ctx, {"name": "郑七", **JOINED},
                                            team_id=ids["一网格服务队"]).id
    act = conn.execute("SELECT id FROM activities WHERE title = '一网格敬老'").fetchone()[0]
    va.save_sheet(ctx, act, {vol["钱一"]: 2, vol["周三"]: 2, vol["吴五"]: 2})
    return {**both, "teams": ids, "vol": vol, "act": act,
            "theirs_act": conn.execute("SELECT id FROM activities WHERE title = '二网格扫雪'"
                                       ).fetchone()[0],
            "community_act": conn.execute("SELECT id FROM activities WHERE title = '社区义诊'"
                                          ).fetchone()[0]}


MINE = {"钱一", "周三", "李秀英", "郑七"}        # team 第一网格, no place, home 第一网格
THEIRS = {"孙二", "赵六", "吴五"}               # team or home 第二网格 only


def test_the_register_is_the_rule(conn, more):
    """What the worker's register lists is what they may read: the same volunteers."""
    worker = signed_in(conn, "zhang")
    assert {r["name"] for r in vp.hours_summary(conn, access=worker.access)} == MINE
    readable = volunteers.readable_ids(conn, worker.access)
    assert readable == {more["vol"][n] for n in MINE}
    assert volunteers.readable_ids(conn, signed_in(conn, "admin").access) is None
    for name, vid in more["vol"].items():
        if name in MINE:
            assert worker.get("volunteers", vid)["id"] == vid
        else:
            with pytest.raises(NotPermitted, match="第二网格"):
                worker.get("volunteers", vid)


def test_the_sheet_lists_their_grid_and_who_is_signed_in(conn, more):
    worker = signed_in(conn, "zhang").access
    rows = {r["name"]: r["came"] for r in va.sheet(conn, more["act"], worker)}
    # 吴五 is 第二网格's, but already on this sheet: shown, ticked; 孙二 and 赵六 are not.
    assert rows == {"钱一": True, "周三": True, "吴五": True, "李秀英": False, "郑七": False}
    everyone = {r["name"] for r in va.sheet(conn, more["act"],
                                            signed_in(conn, "admin").access)}
    assert everyone == MINE | THEIRS
    assert {r["name"] for r in va.sheet(conn, more["act"])} == everyone      # command line


def test_saving_a_sheet_adds_only_their_volunteers(conn, more):
    worker = signed_in(conn, "zhang")
    vol, act = more["vol"], more["act"]
    read = va.read_state(va.sheet(conn, act, worker.access))
    with pytest.raises(NotPermitted, match="第二网格"):
        va.save_sheet(worker, act, {vol["钱一"]: 2, vol["周三"]: 2, vol["吴五"]: 2,
                                    vol["孙二"]: 2}, read=read)
    # Someone of another grid already signed in stays; one of theirs is added.
    va.save_sheet(worker, act, {vol["钱一"]: 2, vol["周三"]: 2, vol["吴五"]: 1.5,
                                vol["郑七"]: 2}, read=read)
    saved = dict(conn.execute("SELECT volunteer_id, hours FROM service_records "
                              "WHERE activity_id = ?", (act,)).fetchall())
    assert saved == {vol["钱一"]: 2, vol["周三"]: 2, vol["吴五"]: 1.5, vol["郑七"]: 2}


def test_teams_and_leaders_offered_are_theirs(conn, more):
    worker = signed_in(conn, "zhang")
    teams = {t["name"] for t in volunteers.teams(conn, access=worker.access)}
    assert teams == {"一网格服务队", "社区服务队", "流动服务队"}
    assert {t["name"] for t in volunteers.teams(conn)} == teams | {"二网格服务队"}
    for name in teams:
        assert worker.get("volunteer_teams", more["teams"][name])["name"] == name
    with pytest.raises(NotPermitted, match="第二网格"):
        worker.get("volunteer_teams", more["teams"]["二网格服务队"])
    leaders = {p["name"] for p in volunteers.leader_choices(conn, None, worker.access)}
    assert leaders == MINE
    assert {p["name"] for p in volunteers.leader_choices(conn, None)} == MINE | THEIRS


def test_a_grid_worker_cannot_change_another_grids_volunteer(conn, more):
    worker = signed_in(conn, "zhang")
    vol, teams = more["vol"], more["teams"]
    for action in (lambda: volunteers.update_volunteer(worker, vol["孙二"], {"skills": "x"}),
                   lambda: volunteers.leave(worker, vol["赵六"]),
                   lambda: volunteers.set_leader(worker, teams["一网格服务队"], vol["孙二"]),
                   lambda: volunteers.create_volunteer(worker, {"name": "冯八", **JOINED},
                                                       team_id=teams["二网格服务队"]),
                   lambda: volunteers.update_volunteer(worker, vol["钱一"],
                                                       {"team_id": teams["二网格服务队"]})):
        with pytest.raises(NotPermitted):
            action()
    assert volunteers.get(conn, vol["孙二"])["skills"] is None
    assert volunteers.get(conn, vol["钱一"])["team_id"] == teams["一网格服务队"]
    # Theirs by home, in another grid's team: editable, and the team stays theirs.
    volunteers.update_volunteer(worker, vol["李秀英"], {"skills": "理发",
                                                       "team_id": teams["二网格服务队"]})
    person = volunteers.get(conn, vol["李秀英"])
    assert (person["skills"], person["team_id"]) == ("理发", teams["二网格服务队"])


# --- real widgets -----------------------------------------------------------------------------

def names_on(dialog):
    return {dialog.table.item(i, 0).text() for i in range(dialog.table.rowCount())}


def combo_items(combo):
    return [(combo.itemText(i), combo.itemData(i)) for i in range(combo.count())]


def test_sign_in_dialog_of_a_grid_worker(qtbot, conn, more, qtmodeltester):
    worker = signed_in(conn, "zhang")
    dialog = SignInDialog(worker, more["act"])
    qtbot.addWidget(dialog)
    assert names_on(dialog) == {"钱一", "周三", "吴五", "李秀英", "郑七"}
    dialog.everyone.setChecked(True)
    assert set(dialog.shown()) == names_on(dialog)
    assert dialog.everyone.text() == "显示我负责网格的全部志愿者"
    teams = {dialog.team.itemText(i) for i in range(dialog.team.count())}
    assert "二网格服务队" in teams                # 吴五's and 李秀英's: shown by name only
    qtmodeltester.check(dialog.table.model())
    dialog.tick("郑七", hours=2)
    dialog.accept()
    assert dialog.saved is not None
    assert more["vol"]["郑七"] in {r[0] for r in conn.execute(
        "SELECT volunteer_id FROM service_records WHERE activity_id = ?", (more["act"],))}


def test_sign_in_dialog_of_an_administrator(qtbot, conn, more):
    dialog = SignInDialog(signed_in(conn, "admin"), more["act"])
    qtbot.addWidget(dialog)
    assert names_on(dialog) == MINE | THEIRS
    dialog.everyone.setChecked(True)
    assert set(dialog.shown()) == MINE | THEIRS
    assert dialog.everyone.text() == "显示全部志愿者"


def test_volunteer_forms_offer_their_teams(qtbot, conn, more):
    worker = signed_in(conn, "zhang")
    teams = more["teams"]
    new = VolunteerDialog(worker)
    qtbot.addWidget(new)
    assert {t for t, _ in combo_items(new.team)} == {"未分队", "一网格服务队", "社区服务队",
                                                     "流动服务队"}
    new.find.setText("赵六")                     # a resident of 第二网格: not found
    assert new.look_up() == 0
    new.find.setText("李秀英")
    assert new.look_up() == 1
    admin = VolunteerDialog(signed_in(conn, "admin"))
    qtbot.addWidget(admin)
    assert ("二网格服务队", teams["二网格服务队"]) in combo_items(admin.team)
    assert len(combo_items(admin.team)) == 5

    team = TeamDialog(worker, team_id=teams["一网格服务队"])
    qtbot.addWidget(team)
    leaders = {team.leader.itemText(i).split("（")[0] for i in range(1, team.leader.count())}
    assert leaders == MINE


def test_the_edit_form_refuses_another_grids_volunteer(qtbot, conn, more):
    worker = signed_in(conn, "zhang")
    vol, teams = more["vol"], more["teams"]
    for name in THEIRS:
        with pytest.raises(NotPermitted, match="第二网格"):
            VolunteerEditDialog(worker, vol[name])
    # 李秀英 lives in 第一网格 and serves in 二网格服务队: it stays chosen and saved.
    dialog = VolunteerEditDialog(worker, vol["李秀英"])
    qtbot.addWidget(dialog)
    assert dialog.team.currentData() == teams["二网格服务队"]
    dialog.skills.setText("理发")
    dialog.accept()
    assert dialog.result() == 1
    person = volunteers.get(conn, vol["李秀英"])
    assert (person["skills"], person["team_id"]) == ("理发", teams["二网格服务队"])
    admin = VolunteerEditDialog(signed_in(conn, "admin"), vol["孙二"])
    qtbot.addWidget(admin)
    assert admin.team.currentData() == teams["二网格服务队"]


def test_the_page_shows_a_refusal_instead_of_failing(qtbot, conn, more, monkeypatch):
    """The community's activity is listed to a 网格员, but its sheet is not theirs to open."""
    warnings = []
    monkeypatch.setattr(refusal.QMessageBox, "warning",
                        staticmethod(lambda *a: warnings.append(a[2])))
    page = VolunteersPage(signed_in(conn, "zhang"))
    qtbot.addWidget(page)
    page.set_unit(None)
    page.reload()
    page.tabs.setCurrentIndex(1)
    assert page.select_activity(more["community_act"])
    monkeypatch.setattr(SignInDialog, "exec", lambda self: QMessageBox.DialogCode.Rejected)
    page.sign_in()
    assert warnings and "网格员" in warnings[0]
    assert not page.select_activity(more["theirs_act"])          # not listed at all


def test_the_unit_choosers_of_team_and_activity_forms_offer_their_grids(qtbot, conn, more):
    from ui.dialogs.volunteer_forms import ActivityDialog

    worker = signed_in(conn, "zhang")
    new_team = TeamDialog(worker)
    qtbot.addWidget(new_team)
    offered = {new_team.unit.itemText(i).strip() for i in range(new_team.unit.count())}
    assert "第一网格" in offered and "第二网格" not in offered
    edit = ActivityDialog(worker, activity_id=more["act"])        # 一网格敬老: stays chosen
    qtbot.addWidget(edit)
    assert edit.unit.currentData() is not None
    assert "第二网格" not in {edit.unit.itemText(i).strip() for i in range(edit.unit.count())}
    admin = TeamDialog(signed_in(conn, "admin"))
    qtbot.addWidget(admin)
    assert {"第一网格", "第二网格"} <= {admin.unit.itemText(i).strip()
                                      for i in range(admin.unit.count())}
