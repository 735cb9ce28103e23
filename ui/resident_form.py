"""The resident form, generated from the field registry (DESIGN.md §3).

One editor per editable field of RESIDENT_FIELDS, chosen by the field's kind; the rules live in
the domain (validation, residents, households, tags) and the form only shows their answers.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QDate, QLocale, QRegularExpression, Qt, Signal
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QCalendarWidget,
    QCheckBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from db import StorageError
from shequ_desktop.core import codes, idnumber, validation
from shequ_desktop.core.addresses import house_address
from shequ_desktop.core.context import Context
from shequ_desktop.core.errors import ConflictError, DomainError, ValidationError
from shequ_desktop.core.fields import RESIDENT_FIELDS, Field, field
from shequ_desktop.core.statuses import ON_RECORD
from shequ_desktop.population import households, residents, tags

EDIT, NEW_MEMBER, NEW_HOUSEHOLD = "edit", "new_member", "new_household"
FORM_FIELDS = tuple(f for f in RESIDENT_FIELDS if f.editable)
RELATION = field("residents", "relation_to_head")
MULTILINE_OVER = 200        # a text field allowed more characters than this gets a text box
COLUMNS = 2
ERROR_STYLE = "color: #c62828;"
REQUIRED_MARK = "<span style='color:#c62828'>*</span>"


def _error_label() -> QLabel:
    label = QLabel()
    label.setStyleSheet(ERROR_STYLE)
    label.setWordWrap(True)
    label.hide()
    return label


class DateEdit(QWidget):
    """A date typed (2024-03-02, 2024/3/2, 20240302, 2024年3月2日) or picked from a calendar;
    empty means 未填. value() is the ISO date, the text as typed when it is not a date (the
    domain then says why), or None."""

    changed = Signal()

    def __init__(self, not_after_today: bool, parent: QWidget | None = None):
        super().__init__(parent)
        self.not_after_today = not_after_today
        self.edit = QLineEdit()
        self.edit.setPlaceholderText(self.tr("未填（如 1970-05-06）"))
        self.edit.setClearButtonEnabled(True)
        self.edit.setValidator(QRegularExpressionValidator(
            QRegularExpression(r"[0-9０-９年月日./\-\s]{0,14}"), self.edit))
        self.edit.textChanged.connect(self.changed)
        self.button = QToolButton()
        self.button.setText(self.tr("日历"))
        self.button.setToolTip(self.tr("从日历中选择日期"))
        self.button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.button.clicked.connect(self.pick)
        self.calendar: QCalendarWidget | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.button)
        self.setFocusProxy(self.edit)

    def value(self) -> str | None:
        text = self.edit.text().strip()
        if not text:
            return None
        try:
            return validation.parse_date(text)
        except ValueError:
            return text

    def set_value(self, iso: str | None) -> None:
        self.edit.setText(iso or "")

    def pick(self) -> None:
        if self.calendar is None:
            self.calendar = QCalendarWidget(self)
            self.calendar.setWindowFlag(Qt.WindowType.Popup)
            self.calendar.setLocale(QLocale(QLocale.Language.Chinese, QLocale.Country.China))
            self.calendar.setGridVisible(True)
            self.calendar.setVerticalHeaderFormat(
                QCalendarWidget.VerticalHeaderFormat.NoVerticalHeader)
            self.calendar.clicked.connect(self._picked)
            self.calendar.activated.connect(self._picked)
        if self.not_after_today:
            self.calendar.setMaximumDate(QDate.currentDate())
        current = QDate.fromString(self.value() or "", "yyyy-MM-dd")
        self.calendar.setSelectedDate(current if current.isValid() else QDate.currentDate())
        self.calendar.move(self.mapToGlobal(self.rect().bottomLeft()))
        self.calendar.show()
        self.calendar.setFocus()

    def _picked(self, date: QDate) -> None:
        self.edit.setText(date.toString("yyyy-MM-dd"))
        self.calendar.hide()
        self.edit.setFocus()


class ResidentForm(QWidget):
    """Edit one resident, or enter a new one (a member of a household, or the head of a new one).

    Emits saved(resident id) after a successful save.
    """

    saved = Signal(int)

    def __init__(self, ctx: Context, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.mode = EDIT
        self.resident_id: int | None = None
        self.household_id: int | None = None
        self.house_id: int | None = None
        self.record: dict | None = None     # the record as read: `expected` when saving
        self._active_tags: dict[int, dict] = {}
        self._snapshot: Any = None
        self._loading = False

        self.editors: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        self.title = QLabel()
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.25)
        self.title.setFont(font)
        self.subtitle = QLabel()
        self.subtitle.setWordWrap(True)
        self.general_error = _error_label()

        self.fields_box = QGroupBox(self.tr("基本信息"))
        self.grid = QGridLayout(self.fields_box)
        self.grid.setHorizontalSpacing(8)
        self.grid.setVerticalSpacing(6)
        self.grid.setColumnStretch(1, 1)
        self.grid.setColumnStretch(4, 1)
        self.grid.setColumnMinimumWidth(2, 20)
        self._build_fields()

        self.tags_box = QGroupBox(self.tr("重点人群"))
        self.tags_grid = QGridLayout(self.tags_box)
        self.tag_boxes: dict[int, QCheckBox] = {}

        body = QWidget()
        body_layout = QVBoxLayout(body)
        body_layout.addWidget(self.fields_box)
        body_layout.addWidget(self.tags_box)
        body_layout.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setWidget(body)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.subtitle)
        layout.addWidget(self.general_error)
        layout.addWidget(self.scroll, 1)
        self._build_tags([])

    # --- building -----------------------------------------------------------------------------
    def _build_fields(self) -> None:
        """Label + editor pairs, two per row, in registry order; long texts take a whole row."""
        cells: list[tuple[str, QWidget, QWidget | None]] = []
        self.relation_combo = self._code_combo(RELATION, exclude=residents.HEAD_RELATIONS)
        cells.append((self._label_text(RELATION, required=True),
                      self.relation_combo, self._error_for(RELATION.name)))
        cells.append(("", QWidget(), None))      # the relation stands alone on its row
        for f in FORM_FIELDS:
            editor = self._make_editor(f)
            self.editors[f.name] = editor
            cells.append((self._label_text(f), editor, self._error_for(f.name)))
            if f.name == "birth_date":
                self.age_label = QLabel("—")
                self.age_label.setToolTip(self.tr("由出生日期计算"))
                cells.append((self.tr("年龄"), self.age_label, None))
        self._relation_row: list[QWidget] = []
        line_height = max(QLineEdit().sizeHint().height(), QComboBox().sizeHint().height())
        row, col = 0, 0
        for i, (text, editor, error) in enumerate(cells):
            wide = isinstance(editor, QPlainTextEdit)
            if wide and col:
                row, col = row + 1, 0
            label = QLabel(text)
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            label.setMinimumHeight(line_height)
            if isinstance(editor, (QCheckBox, QLabel)):     # level with the label beside it
                editor.setMinimumHeight(line_height)
            if text:
                label.setBuddy(editor)
            cell = QWidget()
            box = QVBoxLayout(cell)
            box.setContentsMargins(0, 0, 0, 0)
            box.setSpacing(1)
            box.addWidget(editor)
            if error is not None:
                box.addWidget(error)
            top = Qt.AlignmentFlag.AlignTop
            self.grid.addWidget(label, row, col * 3, top | Qt.AlignmentFlag.AlignRight)
            self.grid.addWidget(cell, row, col * 3 + 1, 1, 4 if wide else 1, top)
            if i < 2:
                self._relation_row += [label, cell]
            if wide or col == COLUMNS - 1:
                row, col = row + 1, 0
            else:
                col += 1
        self.editors["birth_date"].changed.connect(self._update_age)
        id_edit = self.editors["id_number"]
        id_edit.textEdited.connect(self._on_id_edited)
        id_edit.editingFinished.connect(lambda: self._check_id(finished=True))
        self.editors["id_type"].activated.connect(lambda _i: self._check_id(finished=True))

    def _label_text(self, f: Field, required: bool | None = None) -> str:
        required = f.required if required is None else required
        return f"{f.label}{REQUIRED_MARK if required else ''}"

    def _error_for(self, name: str) -> QLabel:
        self.errors[name] = label = _error_label()
        return label

    def _code_combo(self, f: Field, exclude: tuple[str, ...] = ()) -> QComboBox:
        combo = QComboBox()
        combo.addItem("", None)
        for item in codes.table(f.code_table).items:
            if item.code not in exclude:
                combo.addItem(item.label, item.code)
        combo.setMaxVisibleItems(20)
        combo.currentIndexChanged.connect(lambda _i, n=f.name: self._clear_error(n))
        return combo

    def _make_editor(self, f: Field) -> QWidget:
        if f.kind == "code":
            return self._code_combo(f)
        if f.kind == "date":
            editor = DateEdit(f.name in validation.PAST_DATES)
            editor.changed.connect(lambda n=f.name: self._clear_error(n))
            return editor
        if f.kind == "bool":
            editor = QCheckBox(self.tr("是"))
            editor.toggled.connect(lambda _b, n=f.name: self._clear_error(n))
            return editor
        if f.kind == "text" and f.max_length > MULTILINE_OVER:
            editor = QPlainTextEdit()
            editor.setTabChangesFocus(True)
            editor.setFixedHeight(QLineEdit().sizeHint().height() * 3)
            editor.textChanged.connect(lambda n=f.name: self._clear_error(n))
            return editor
        editor = QLineEdit()
        editor.setMaxLength(f.max_length)
        editor.returnPressed.connect(self.focusNextChild)    # Enter moves on, as in 录入 work
        if f.kind != "id_number":   # the ID number's message comes from its own live check
            editor.textEdited.connect(lambda _t, n=f.name: self._clear_error(n))
        return editor

    def _build_tags(self, extra_assigned: list[dict]) -> None:
        """A check box per focus group in use, plus any retired group the resident still has."""
        while self.tags_grid.count():
            old = self.tags_grid.takeAt(0).widget()
            old.setParent(None)
            old.deleteLater()
        self.tag_boxes = {}
        shown = [t for t in tags.all_tags(self.ctx.conn) if t["active"]
                 or t["id"] in {a["tag_id"] for a in extra_assigned}]
        for i, tag in enumerate(shown):
            box = QCheckBox(tag["name"])
            if tag["visit_interval_days"]:
                box.setToolTip(self.tr("每 {0} 天走访一次").format(tag["visit_interval_days"]))
            self.tag_boxes[tag["id"]] = box
            self.tags_grid.addWidget(box, i // 4, i % 4)

    # --- reading and writing the editors -------------------------------------------------------
    def _get(self, f: Field) -> Any:
        editor = self.editors[f.name]
        if isinstance(editor, QComboBox):
            return editor.currentData()
        if isinstance(editor, DateEdit):
            return editor.value()
        if isinstance(editor, QCheckBox):
            return 1 if editor.isChecked() else 0
        if isinstance(editor, QPlainTextEdit):
            return editor.toPlainText().strip() or None
        return editor.text().strip() or None

    def _set(self, f: Field, value: Any) -> None:
        editor = self.editors[f.name]
        if isinstance(editor, QComboBox):
            _select_code(editor, value)
        elif isinstance(editor, DateEdit):
            editor.set_value(value)
        elif isinstance(editor, QCheckBox):
            editor.setChecked(bool(value))
        elif isinstance(editor, QPlainTextEdit):
            editor.setPlainText(value or "")
        else:
            editor.setText("" if value is None else str(value))

    def values(self) -> dict[str, Any]:
        """The edited values: codes, ISO dates, 1/0 for yes/no, None for empty."""
        return {f.name: self._get(f) for f in FORM_FIELDS}

    def checked_tags(self) -> set[int]:
        return {tag_id for tag_id, box in self.tag_boxes.items() if box.isChecked()}

    def relation(self) -> str | None:
        return self.relation_combo.currentData()

    def _state(self) -> tuple:
        relation = self.relation() if self.mode == NEW_MEMBER else None
        return self.values(), self.checked_tags(), relation

    @property
    def dirty(self) -> bool:
        """True when anything differs from what was loaded (or from the empty new form)."""
        return self._state() != self._snapshot

    # --- modes ----------------------------------------------------------------------------------
    def load(self, resident_id: int) -> None:
        """Show a resident for editing; the record as read is kept for the conflict check."""
        record = self.ctx.get("residents", resident_id)
        self._start(EDIT)
        self.record, self.resident_id = record, resident_id
        self.household_id = record["household_id"]
        assigned = tags.active_tags(self.ctx, resident_id)
        self._active_tags = {t["tag_id"]: t for t in assigned}
        self._build_tags(assigned)
        self._loading = True
        try:
            for f in FORM_FIELDS:
                self._set(f, record.get(f.name))
            for tag_id, box in self.tag_boxes.items():
                box.setChecked(tag_id in self._active_tags)
        finally:
            self._loading = False
        self.title.setText(record["name"])
        where = (residents.household_address(self.ctx, record["household_id"])
                 if record["household_id"] else self.tr("无住址"))
        status = field("residents", "status").label
        self.subtitle.setText(self.tr("{0}　{1}：{2}").format(where, status, record["status"]))
        active = record["status"] == ON_RECORD
        self.tags_box.setEnabled(active)
        self.tags_box.setToolTip(
            "" if active else self.tr("已{0}的居民不能再标记重点人群").format(record["status"]))
        self._finish_start()

    def new_in_household(self, household_id: int, relation: str | None = None) -> None:
        """Enter a new member of an existing household; the relation is chosen on the form."""
        self._start(NEW_MEMBER)
        self.household_id = household_id
        _select_code(self.relation_combo, codes.table(RELATION.code_table).code_for(relation))
        head_id = self.ctx.get("households", household_id)["head_resident_id"]
        head = self.ctx.get("residents", head_id)["name"] if head_id else self.tr("无")
        self.title.setText(self.tr("新增家庭成员"))
        self.subtitle.setText(self.tr("{0}　户主：{1}").format(
            residents.household_address(self.ctx, household_id), head))
        self._finish_start()

    def new_household(self, house_id: int | None) -> None:
        """Enter the head of a new household in a house (None: a household without a house)."""
        self._start(NEW_HOUSEHOLD)
        self.house_id = house_id
        if house_id is None:
            where = self.tr("未指定房屋")
        else:
            where = house_address(self.ctx.conn, house_id)
        self.title.setText(self.tr("新立户"))
        self.subtitle.setText(self.tr("{0}　本人为户主").format(where))
        self._finish_start()

    def _start(self, mode: str) -> None:
        self.mode = mode
        self.record = self.resident_id = self.household_id = self.house_id = None
        self._clear_errors()
        if mode != EDIT:
            self._active_tags = {}
            self._build_tags([])
            self._loading = True
            try:
                for f in FORM_FIELDS:
                    self._set(f, None)
                _select_code(self.editors["id_type"], validation.RESIDENT_ID_CARD)
                _select_code(self.relation_combo, None)
            finally:
                self._loading = False
            self.tags_box.setEnabled(True)
            self.tags_box.setToolTip("")
        for w in self._relation_row:
            w.setVisible(mode == NEW_MEMBER)

    def _finish_start(self) -> None:
        self._clear_errors()
        self._update_age()
        self._snapshot = self._state()
        first = self.relation_combo if self.mode == NEW_MEMBER else self.editors["name"]
        first.setFocus()

    # --- live help while typing -----------------------------------------------------------------
    def _is_id_card(self) -> bool:
        return self.editors["id_type"].currentData() in (None, validation.RESIDENT_ID_CARD)

    def _on_id_edited(self, text: str) -> None:
        editor = self.editors["id_number"]
        if self._is_id_card() and "x" in text:
            pos = editor.cursorPosition()
            editor.setText(text.replace("x", "X"))
            editor.setCursorPosition(pos)
        self._check_id(finished=False)

    def _check_id(self, finished: bool) -> None:
        """A complete ID number fills birth date and gender, or says at once what is wrong."""
        if self._loading:
            return
        number = idnumber.clean(self.editors["id_number"].text())
        if not self._is_id_card() or not number or (len(number) not in (15, 18)
                                                    and not finished):
            self._clear_error("id_number")
            return
        try:
            info = idnumber.parse(number)
        except ValueError as exc:
            self._show_error("id_number", str(exc))
            return
        self._clear_error("id_number")
        self._set(field("residents", "birth_date"), info.birth_date)
        self._set(field("residents", "gender"), info.gender)
        self._clear_error("birth_date")
        self._clear_error("gender")

    def _update_age(self) -> None:
        try:
            years = validation.age(self.editors["birth_date"].value())
        except ValueError:
            years = None
        self.age_label.setText("—" if years is None or years < 0
                               else self.tr("{0} 岁").format(years))

    # --- errors ---------------------------------------------------------------------------------
    def error_text(self, name: str) -> str:
        """The message shown under a field ('' when none)."""
        label = self.errors[name]
        return "" if label.isHidden() else label.text()

    def _show_error(self, name: str, message: str) -> None:
        self.errors[name].setText(message)
        self.errors[name].show()

    def _clear_error(self, name: str) -> None:
        if name in self.errors:
            self.errors[name].clear()
            self.errors[name].hide()

    def _clear_errors(self) -> None:
        for name in self.errors:
            self._clear_error(name)
        self.general_error.clear()
        self.general_error.hide()

    def _show_errors(self, exc: ValidationError) -> None:
        """Each reason under its field; reasons about no field of the form go on top."""
        others = []
        first: QWidget | None = None
        for e in exc.errors:
            if e.field in self.errors and not self.errors[e.field].text():
                self._show_error(e.field, e.message)
                first = first or (self.relation_combo if e.field == RELATION.name
                                  else self.editors[e.field])
            elif e.field not in self.errors:
                others.append(str(e))
        if others:
            self.general_error.setText("；".join(others))
            self.general_error.show()
        if first is not None:
            self.scroll.ensureWidgetVisible(first)
            first.setFocus()

    # --- saving ---------------------------------------------------------------------------------
    def save(self, ctx: Context | None = None) -> bool:
        """Write the form in one transaction; False (form as typed, reasons shown) if refused."""
        ctx = ctx or self.ctx
        values = self.values()
        self._clear_errors()
        try:
            with ctx.transaction():
                resident_id = self._write(ctx, values)
                self._write_tags(ctx, resident_id)
        except ValidationError as exc:
            self._show_errors(exc)
            return False
        except ConflictError as exc:
            QMessageBox.warning(self, self.tr("保存未生效"), str(exc))
            return False
        except (DomainError, StorageError) as exc:     # refused, or a locked / full disk
            QMessageBox.warning(self, self.tr("无法保存"), str(exc))
            return False
        self.load(resident_id)
        self.saved.emit(resident_id)
        return True

    def _write(self, ctx: Context, values: dict) -> int:
        if self.mode == EDIT:
            residents.update_resident(ctx, self.resident_id, values, expected=self.record)
            return self.resident_id
        if self.mode == NEW_MEMBER:
            return residents.add_member(ctx, self.household_id, values, self.relation()).id
        household_id = households.create_household(ctx, self.house_id, values).id
        return ctx.get("households", household_id)["head_resident_id"]

    def _write_tags(self, ctx: Context, resident_id: int) -> None:
        """Newly ticked groups start today; unticked ones end today."""
        for tag_id, box in self.tag_boxes.items():
            active = self._active_tags.get(tag_id)
            if box.isChecked() and active is None:
                tags.assign_tag(ctx, resident_id, tag_id)
            elif not box.isChecked() and active is not None:
                tags.end_tag(ctx, active["id"])


def _select_code(combo: QComboBox, code: str | None) -> None:
    """Select a code; a code the table does not know is kept and shown as such, never lost."""
    index = combo.findData(code) if code is not None else 0
    if index < 0:
        combo.addItem(combo.tr("{0}（未知代码）").format(code), code)
        index = combo.count() - 1
    combo.setCurrentIndex(index)
