"""涉及居民: find the resident an event concerns among those living in the event's grid
(events.resident_choices), by name, pinyin initials, ID or phone fragment, or room. Used by
上报事件 and by 关联居民 on an existing event."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from db.driver import sqlite3
from shequ_desktop.casework import events
from shequ_desktop.core.access import Access
from shequ_desktop.core.masking import mask_id


class ResidentPicker(QWidget):
    """A search box with 查找 above a chooser of the residents found (ID numbers masked); the
    chooser's first item is "none" (`none_text`). Emits changed() when the choice changes."""

    changed = Signal()

    def __init__(self, conn: sqlite3.Connection, access: Access | None = None,
                 none_text: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.conn, self.access = conn, access
        self.unit_id: int | None = None
        self.none_text = none_text or self.tr("不关联居民")
        self.find = QLineEdit()
        self.find.setPlaceholderText(self.tr("输入姓名、拼音首字母、身份证号、电话或房号查找"))
        self.find_button = QPushButton(self.tr("查找"))
        self.matches = QComboBox()
        self.matches.addItem(self.none_text, None)
        row = QHBoxLayout()
        row.addWidget(self.find, 1)
        row.addWidget(self.find_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.matches)
        self.find_button.clicked.connect(self.look_up)
        self.find.returnPressed.connect(self.look_up)
        self.matches.currentIndexChanged.connect(lambda *_: self.changed.emit())

    def set_unit(self, unit_id: int | None) -> None:
        """Search among the residents an event filed on this unit may concern."""
        self.unit_id = unit_id
        self.forget()

    def look_up(self) -> int:
        """List the residents that match the search text; the first is chosen. Returns how
        many were found."""
        self.forget()
        text = self.find.text().strip()
        if self.unit_id is None or not text:
            return 0
        found = events.resident_choices(self.conn, self.unit_id, text, self.access)
        for r in found:
            self.matches.addItem("　".join(x for x in (
                r["name"], mask_id(r["id_number"]), r["address"]) if x), r["id"])
        if found:
            self.matches.setCurrentIndex(1)
        else:
            self.matches.setItemText(0, self.tr("未找到“{0}”：{1}").format(text, self.none_text))
        return len(found)

    def forget(self, *_args) -> None:
        """No matches, nothing chosen."""
        while self.matches.count() > 1:
            self.matches.removeItem(1)
        self.matches.setItemText(0, self.none_text)
        self.matches.setCurrentIndex(0)

    def resident_id(self) -> int | None:
        return self.matches.currentData()
