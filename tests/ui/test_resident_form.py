"""The resident form and dialog: real widgets (offscreen) over a real SQLite file."""
import datetime as dt

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QDialog, QDialogButtonBox, QMessageBox

import db
from shequ_desktop.core import codes, validation
from shequ_desktop.population import households, tags
from shequ_desktop.core.context import Context
from tests.conftest import make_id
from ui.resident_dialog import ResidentDialog
from ui.resident_form import ResidentForm

TODAY = dt.date.today().isoformat()


@pytest.fixture
def warnings(monkeypatch):
    """QMessageBox.warning replaced: the messages it was asked to show."""
    shown = []

    def warning(parent, title, text, *args, **kwargs):
        shown.append(text)
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "warning", warning)
    return shown


class Questions:
    """QMessageBox.question replaced (a real one would block the test): what was asked, and
    the answer to give."""

    def __init__(self):
        self.asked: list[str] = []
        self.answer = QMessageBox.StandardButton.Discard

    def __call__(self, parent, title, text, *args, **kwargs):
        self.asked.append(text)
        return self.answer


@pytest.fixture(autouse=True)
def questions(monkeypatch):
    fake = Questions()
    monkeypatch.setattr(QMessageBox, "question", fake)
    return fake


def show_active(qtbot, dialog) -> None:
    """Show the dialog as the active window: its shortcuts only work then."""
    with qtbot.waitActive(dialog):
        dialog.show()
        dialog.activateWindow()


def make_form(qtbot, ctx) -> ResidentForm:
    form = ResidentForm(ctx)
    qtbot.addWidget(form)
    return form


def retype(qtbot, editor, text: str) -> None:
    """Clear a line edit and type into it as a user would: keys for ASCII (textEdited fires
    per key), an input-method commit for Chinese (as a pinyin IME delivers it)."""
    editor.clear()
    if text.isascii():
        qtbot.keyClicks(editor, text)
    else:
        event = QInputMethodEvent()
        event.setCommitString(text)
        QApplication.sendEvent(editor, event)


def row(conn, resident_id) -> dict:
    return dict(conn.execute("SELECT * FROM residents WHERE id = ?", (resident_id,)).fetchone())


def tag_id(ctx, name: str) -> int:
    return next(t["id"] for t in tags.all_tags(ctx.conn) if t["name"] == name)


# --- the ID number while typing -------------------------------------------------------------

def test_typing_a_valid_id_fills_birth_date_gender_and_age(qtbot, ctx, family):
    _, ids = family
    form = make_form(qtbot, ctx)
    form.load(ids["son"])
    retype(qtbot, form.editors["id_number"], make_id("1950-02-03", "2"))
    assert form.editors["birth_date"].value() == "1950-02-03"
    assert form.editors["gender"].currentData() == "2"
    assert form.editors["gender"].currentText() == "女"
    assert form.age_label.text() == f"{validation.age('1950-02-03')} 岁"
    assert form.error_text("id_number") == ""
    assert form.dirty


def test_lower_case_x_is_accepted(qtbot, ctx, family):
    _, ids = family
    number = next(n for n in (make_id("1988-07-15", "1", seq=s) for s in range(200))
                  if n.endswith("X"))
    form = make_form(qtbot, ctx)
    form.load(ids["son"])
    retype(qtbot, form.editors["id_number"], number.lower())
    assert form.editors["id_number"].text() == number
    assert form.error_text("id_number") == ""
    assert form.editors["birth_date"].value() == "1988-07-15"
    assert form.save()
    assert row(ctx.conn, ids["son"])["id_number"] == number


def test_wrong_check_digit_is_shown_at_once_and_nothing_is_written(qtbot, ctx, family):
    _, ids = family
    before = row(ctx.conn, ids["son"])
    good = make_id("1990-01-01", "1")
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    form = make_form(qtbot, ctx)
    form.load(ids["son"])
    retype(qtbot, form.editors["id_number"], bad)
    assert "校验位错误" in form.error_text("id_number")      # before any save
    retype(qtbot, form.editors["phone"], "13700001111")
    assert not form.save()
    assert "校验位错误" in form.error_text("id_number")
    assert row(ctx.conn, ids["son"]) == before
    assert form.editors["id_number"].text() == bad           # the typing is kept


def test_half_typed_id_shows_nothing_until_the_field_is_left(qtbot, ctx, family):
    _, ids = family
    form = make_form(qtbot, ctx)
    form.load(ids["son"])
    retype(qtbot, form.editors["id_number"], "1101051990")
    assert form.error_text("id_number") == ""
    form.editors["id_number"].editingFinished.emit()
    assert "应为18位" in form.error_text("id_number")


def test_a_birth_date_contradicting_the_id_is_refused_on_that_field(qtbot, ctx, family):
    _, ids = family
    form = make_form(qtbot, ctx)
    form.load(ids["son"])                     # ID says 2001-09-01
    retype(qtbot, form.editors["birth_date"].edit, "2001-09-02")
    assert not form.save()
    assert "与身份证号不一致" in form.error_text("birth_date")
    assert form.error_text("id_number") == ""
    assert form.editors["birth_date"].edit.text() == "2001-09-02"
    assert row(ctx.conn, ids["son"])["birth_date"] == "2001-09-01"


def test_an_unreadable_date_is_refused_with_the_reason(qtbot, ctx, family):
    _, ids = family
    form = make_form(qtbot, ctx)
    form.load(ids["son"])
    retype(qtbot, form.editors["moved_in_at"].edit, "2020-13-45")
    assert not form.save()
    assert "不是有效日期" in form.error_text("moved_in_at")
    assert row(ctx.conn, ids["son"])["moved_in_at"] == "2010-01-01"


# --- saving ---------------------------------------------------------------------------------

def test_editing_a_phone_writes_it_and_bumps_the_version(qtbot, ctx, family):
    _, ids = family
    before = row(ctx.conn, ids["son"])
    form = make_form(qtbot, ctx)
    form.load(ids["son"])
    assert not form.dirty
    retype(qtbot, form.editors["phone"], "13700001111")
    assert form.dirty
    with qtbot.waitSignal(form.saved) as signal:
        assert form.save()
    assert signal.args == [ids["son"]]
    after = row(ctx.conn, ids["son"])
    assert after["phone"] == "13700001111"
    assert after["version"] == before["version"] + 1
    assert {k: v for k, v in after.items() if k not in ("phone", "version", "updated_at")} == \
        {k: v for k, v in before.items() if k not in ("phone", "version", "updated_at")}
    assert not form.dirty
    assert form.record["version"] == after["version"]      # reloaded: the next save is fine


def test_emptying_a_field_stores_null(qtbot, ctx, family):
    _, ids = family
    form = make_form(qtbot, ctx)
    form.load(ids["head"])
    form.editors["phone"].clear()
    form.editors["ethnicity"].setCurrentIndex(0)
    assert form.values()["phone"] is None
    assert form.save()
    assert row(ctx.conn, ids["head"])["phone"] is None


def test_second_editor_is_refused_and_the_first_save_is_kept(qtbot, ctx, family, db_path,
                                                            warnings):
    _, ids = family
    other_conn = db.open_db(db_path)
    try:
        other = Context(other_conn, "另一位网格员")
        first, second = make_form(qtbot, ctx), make_form(qtbot, other)
        first.load(ids["son"])
        second.load(ids["son"])
        retype(qtbot, first.editors["phone"], "13700001111")
        retype(qtbot, second.editors["phone"], "13800002222")
        retype(qtbot, second.editors["workplace"], "某公司")
        assert first.save()
        assert not second.save()
        assert len(warnings) == 1 and "已被他人修改" in warnings[0]
        assert "联系电话" in warnings[0]
        saved = row(ctx.conn, ids["son"])
        assert (saved["phone"], saved["workplace"]) == ("13700001111", None)
        assert second.editors["phone"].text() == "13800002222"      # typing intact
        assert second.editors["workplace"].text() == "某公司"
        assert second.dirty
    finally:
        other_conn.close()


def test_ticking_a_tag_assigns_it_and_unticking_ends_it(qtbot, ctx, family):
    _, ids = family
    alone = tag_id(ctx, "独居老人")
    form = make_form(qtbot, ctx)
    form.load(ids["head"])
    assert not form.tag_boxes[alone].isChecked()
    form.tag_boxes[alone].setChecked(True)
    assert form.dirty
    assert form.save()
    active = tags.active_tags(ctx, ids["head"])
    assert [(t["tag_id"], t["since"]) for t in active] == [(alone, TODAY)]
    assert form.tag_boxes[alone].isChecked()

    form.tag_boxes[alone].setChecked(False)
    assert form.save()
    assert tags.active_tags(ctx, ids["head"]) == []
    ended = ctx.conn.execute("SELECT until FROM resident_tags WHERE resident_id = ? "
                             "AND tag_id = ?", (ids["head"], alone)).fetchall()
    assert [r["until"] for r in ended] == [TODAY]
    assert not form.tag_boxes[alone].isChecked()


def test_a_refused_save_assigns_no_tag(qtbot, ctx, family):
    _, ids = family
    form = make_form(qtbot, ctx)
    form.load(ids["head"])
    form.tag_boxes[tag_id(ctx, "低保")].setChecked(True)
    form.editors["name"].clear()
    assert not form.save()
    assert form.error_text("name") == "不能为空"
    assert tags.active_tags(ctx, ids["head"]) == []


# --- new residents --------------------------------------------------------------------------

def test_new_member_is_added_with_the_chosen_relation(qtbot, ctx, family):
    hh_id, _ = family
    form = make_form(qtbot, ctx)
    form.new_in_household(hh_id)
    relations = {form.relation_combo.itemData(i) for i in range(form.relation_combo.count())}
    assert not relations & {"01", "02"}          # 本人 / 户主 are not offered
    assert form.relation_combo.isVisibleTo(form)
    retype(qtbot, form.editors["name"], "王小红")
    retype(qtbot, form.editors["id_number"], make_id("2005-04-04", "2"))
    assert not form.save()                       # no relation chosen yet
    assert form.error_text("relation_to_head") == "不能为空"
    assert len(households.members(ctx, hh_id)) == 3
    form.relation_combo.setCurrentIndex(form.relation_combo.findText("女"))
    form.tag_boxes[tag_id(ctx, "留守儿童")].setChecked(True)
    assert form.save()
    new = row(ctx.conn, form.resident_id)
    assert (new["name"], new["household_id"], new["relation_to_head"], new["birth_date"],
            new["gender"], new["status"]) == ("王小红", hh_id, "30", "2005-04-04", "2", "在册")
    assert len(households.members(ctx, hh_id)) == 4
    assert [t["name"] for t in tags.active_tags(ctx, form.resident_id)] == ["留守儿童"]
    assert form.mode == "edit"


def test_new_household_makes_the_person_its_head(qtbot, ctx, place):
    form = make_form(qtbot, ctx)
    form.new_household(place.house2)
    assert not form.relation_combo.isVisibleTo(form)
    retype(qtbot, form.editors["name"], "赵大海")
    retype(qtbot, form.editors["id_number"], make_id("1966-06-06", "1"))
    retype(qtbot, form.editors["phone"], "13612345678")
    assert form.save()
    head = row(ctx.conn, form.resident_id)
    household = ctx.get("households", head["household_id"])
    assert (household["house_id"], household["head_resident_id"]) == (place.house2,
                                                                      form.resident_id)
    assert (head["name"], head["relation_to_head"], head["gender"]) == ("赵大海", "02", "1")


def test_new_household_with_errors_creates_nothing(qtbot, ctx, place):
    form = make_form(qtbot, ctx)
    form.new_household(place.house2)
    retype(qtbot, form.editors["phone"], "12345")
    assert not form.save()
    assert form.error_text("name") == "不能为空"
    assert form.error_text("phone")
    assert ctx.conn.execute("SELECT count(*) FROM households").fetchone()[0] == 0
    assert ctx.conn.execute("SELECT count(*) FROM residents").fetchone()[0] == 0


# --- the registry drives the widgets ---------------------------------------------------------

def test_ethnicity_lists_all_56_groups(qtbot, ctx):
    combo = make_form(qtbot, ctx).editors["ethnicity"]
    assert combo.itemText(0) == "" and combo.itemData(0) is None
    data = [combo.itemData(i) for i in range(1, combo.count())]
    assert {f"{n:02d}" for n in range(1, 57)} <= set(data)
    assert len(data) == len(codes.table("ethnicity"))
    labels = [combo.itemText(i) for i in range(combo.count())]
    assert "汉族" in labels and "基诺族" in labels


def test_only_editable_fields_get_editors_and_required_ones_are_marked(qtbot, ctx):
    from PySide6.QtWidgets import QLabel

    form = make_form(qtbot, ctx)
    assert "status" not in form.editors and "death_date" not in form.editors
    assert {"name", "phone", "notes", "separated", "moved_in_at"} <= set(form.editors)
    texts = [w.text() for w in form.fields_box.findChildren(QLabel)]
    assert any(t.startswith("姓名") and "*" in t for t in texts)
    assert not any(t.startswith("联系电话") and "*" in t for t in texts)


# --- the dialog -----------------------------------------------------------------------------

def test_dialog_title_and_ctrl_s_saves(qtbot, ctx, family):
    _, ids = family
    dialog = ResidentDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.open_resident(ids["son"])
    assert dialog.windowTitle() == "编辑居民 — 王小明"
    show_active(qtbot, dialog)
    retype(qtbot, dialog.form.editors["phone"], "13700001111")
    qtbot.keyClick(dialog.form.editors["phone"], Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.resident_id == ids["son"]
    assert row(ctx.conn, ids["son"])["phone"] == "13700001111"

    new = ResidentDialog(ctx)
    qtbot.addWidget(new)
    new.new_household(None)
    assert new.windowTitle() == "新增居民"


def test_escape_with_changes_asks_before_discarding(qtbot, ctx, family, questions):
    _, ids = family
    questions.answer = QMessageBox.StandardButton.Cancel
    dialog = ResidentDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.open_resident(ids["son"])
    show_active(qtbot, dialog)
    qtbot.keyClick(dialog.form.editors["name"], Qt.Key.Key_Escape)   # unchanged: closes at once
    assert questions.asked == [] and not dialog.isVisible()

    dialog.open_resident(ids["son"])
    show_active(qtbot, dialog)
    retype(qtbot, dialog.form.editors["phone"], "13700001111")
    qtbot.keyClick(dialog.form.editors["phone"], Qt.Key.Key_Escape)
    assert questions.asked == ["放弃未保存的修改？"]
    assert dialog.isVisible()                                # the user chose to stay
    assert dialog.form.editors["phone"].text() == "13700001111"

    questions.answer = QMessageBox.StandardButton.Discard
    dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel).click()
    assert len(questions.asked) == 2 and not dialog.isVisible()
    assert dialog.result() == QDialog.DialogCode.Rejected
    assert row(ctx.conn, ids["son"])["phone"] is None


def test_a_locked_database_keeps_the_form_open_with_the_typing(qtbot, db_path, family,
                                                                 monkeypatch):
    from db.driver import sqlite3

    import db as storage
    from PySide6.QtWidgets import QMessageBox

    from shequ_desktop.core.context import Context
    from ui.resident_form import ResidentForm

    _, ids = family
    ctx = Context(storage.open_db(db_path, busy_timeout_ms=50), "测试员")
    form = ResidentForm(ctx)
    qtbot.addWidget(form)
    form.load(ids["son"])
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text: warnings.append(text))
    form.editors["occupation"].setText("学生")
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        assert form.save(ctx) is False
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert warnings and "占用" in warnings[0]
    assert form.editors["occupation"].text() == "学生"            # the typing is kept
    assert ctx.get("residents", ids["son"])["occupation"] is None  # nothing half-written
