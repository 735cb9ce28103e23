"""积分调整 and 积分兑换: the small questions asked on the volunteers page.

`PointsDialog.ask(parent, kind, name, balance)` returns keyword arguments for
volunteer_points.adjust (points, reason, made_on) or .redeem (points, item, redeemed_on), or
None when cancelled. The domain checks again inside the write (the balance may have moved).
"""
from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QDoubleSpinBox, QLabel, QLineEdit, QWidget

from ui.dialogs.form_dialog import FormDialog
from ui.dialogs.move_dialogs import date_edit

ADJUST, REDEEM = "adjust", "redeem"


def _tr(text: str) -> str:
    return QCoreApplication.translate("PointsDialog", text)


class PointsDialog(FormDialog):
    def __init__(self, kind: str, name: str, balance: float, parent: QWidget | None = None):
        super().__init__(_tr("积分调整") if kind == ADJUST else _tr("积分兑换"), parent)
        self.kind = kind
        self.balance = balance
        self.points = QDoubleSpinBox()
        self.points.setDecimals(1)
        self.points.setSingleStep(1)
        if kind == ADJUST:
            self.points.setRange(-max(balance, 0), 10000)
            self.points.setToolTip(self.tr("正数为加分，负数为扣分（扣分不能使余额小于 0）"))
        else:
            self.points.setRange(0, max(balance, 0))
        self.text = QLineEdit()
        self.text.setMaxLength(200)
        self.text.setPlaceholderText(self.tr("必填：如 表彰奖励、登记有误更正") if kind == ADJUST
                                     else self.tr("必填：如 大米一袋、免费理发一次"))
        self.date = date_edit()
        self.after = QLabel()
        self.form.addRow(self.tr("志愿者："), QLabel(name))
        self.form.addRow(self.tr("当前余额："), QLabel(f"{balance:g} 分"))
        self.form.addRow(self.tr("调整积分：") if kind == ADJUST else self.tr("兑换积分："),
                         self.points)
        self.form.addRow(self.tr("调整原因：") if kind == ADJUST else self.tr("兑换物品："),
                         self.text)
        self.form.addRow(self.tr("日期："), self.date)
        self.form.addRow(self.tr("操作后余额："), self.after)
        self.points.valueChanged.connect(self._update_ok)
        self.text.textChanged.connect(self._update_ok)
        self._finish()

    def _after(self) -> float:
        value = self.points.value()
        return round(self.balance + (value if self.kind == ADJUST else -value), 2)

    def _complete(self) -> bool:
        self.after.setText(f"{self._after():g} 分")
        return (self.points.value() != 0 and bool(self.text.text().strip())
                and self._after() >= 0)

    def answer(self) -> dict:
        day = self.date.date().toString(Qt.DateFormat.ISODate)
        if self.kind == ADJUST:
            return {"points": self.points.value(), "reason": self.text.text().strip(),
                    "made_on": day}
        return {"points": self.points.value(), "item": self.text.text().strip(),
                "redeemed_on": day}

    @classmethod
    def ask(cls, parent: QWidget | None, kind: str, name: str, balance: float) -> dict | None:
        return cls._run(cls(kind, name, balance, parent))
