"""积分与星级设置: the points earned per service hour and the cumulative hours of 一星 … 五星.

Shared by every PC on the database (settings table); saved and audited in one transaction by
volunteer_points.save_settings. OK stays disabled, with the reason shown, until the rate is
positive and the thresholds rise strictly from 一星 to 五星.
"""
from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QDoubleSpinBox, QLabel, QWidget

from shequ_desktop.core.context import Context
from shequ_desktop.volunteers import points as vp
from ui.dialogs.volunteer_forms import SavingDialog


def _tr(text: str) -> str:
    return QCoreApplication.translate("VolunteerSettingsDialog", text)


def _spin(value: float, decimals: int, top: float, suffix: str) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setDecimals(decimals)
    spin.setRange(0, top)
    spin.setValue(value)
    spin.setSuffix(suffix)
    spin.setMinimumWidth(spin.fontMetrics().horizontalAdvance("8" * 8) + 40)
    return spin


class VolunteerSettingsDialog(SavingDialog):
    def __init__(self, ctx: Context, parent: QWidget | None = None):
        super().__init__(_tr("积分与星级设置"), parent, min_width=420)
        self.ctx = ctx
        self.rate = _spin(vp.rate(ctx.conn), 2, 1000, self.tr(" 分/小时"))
        self.form.addRow(self.tr("每服务 1 小时积分："), self.rate)
        rate_note = QLabel(self.tr("新费率只用于今后登记的服务；已登记服务的积分按登记时的费率保留，"
                                   "不会重算。"))
        rate_note.setWordWrap(True)
        self.form.addRow("", rate_note)
        self.stars = []
        for level, hours in enumerate(vp.star_thresholds(ctx.conn), start=1):
            spin = _spin(hours, 1, 100000, self.tr(" 小时"))
            self.stars.append(spin)
            self.form.addRow(self.tr("{0}志愿者累计时长：").format(vp.star_name(level)), spin)
        star_note = QLabel(self.tr("星级按累计服务时长计算，修改后所有名单立即按新标准显示。"))
        star_note.setWordWrap(True)
        self.form.addRow("", star_note)
        self.problem = QLabel()
        self.problem.setStyleSheet("color: #b3261e")
        self.problem.setWordWrap(True)
        self.form.addRow("", self.problem)
        for spin in (self.rate, *self.stars):
            spin.valueChanged.connect(self._update_ok)
        self._finish()

    def star_hours(self) -> list[float]:
        return [spin.value() for spin in self.stars]

    def _complete(self) -> bool:
        hours = self.star_hours()
        if self.rate.value() <= 0:
            text = self.tr("每小时积分应大于 0")
        elif any(h <= 0 for h in hours):
            text = self.tr("星级时长应大于 0")
        elif any(b <= a for a, b in zip(hours, hours[1:])):
            text = self.tr("星级时长应由一星到五星逐级增加")
        else:
            text = ""
        self.problem.setText(text)
        return not text

    def _save(self) -> int:
        vp.save_settings(self.ctx, self.rate.value(), self.star_hours())
        return 1

    @classmethod
    def ask(cls, parent: QWidget | None, ctx: Context) -> bool:
        return cls._run(cls(ctx, parent)) is not None
