"""Showing and printing a PDF inside the program.

PySide6-Essentials has no QtPdf, so pages are rendered with pypdfium2 (PDFium, the engine of
Chrome's viewer; wheels for Windows and Linux) into QImages. The preview shows one page at a
time, rendered when it is shown (a ledger may have a thousand pages). Printing paints page
images on a QPrinter chosen in Qt's print dialog, at the printer's resolution up to 300 dpi.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QImage,
    QKeySequence,
    QPageLayout,
    QPainter,
    QPalette,
    QPixmap,
    QShortcut,
)
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QProgressDialog,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

POINTS_PER_INCH = 72
ZOOMS = ((0, "适合宽度"), (-1, "适合页面"), (50, "50%"), (75, "75%"), (100, "100%"),
         (125, "125%"), (150, "150%"), (200, "200%"))
MAX_PRINT_DPI = 300


class PdfFile:
    """An open PDF: page count, page sizes in points, pages rendered to QImage."""

    def __init__(self, path):
        import pypdfium2 as pdfium

        self.path = Path(path)
        self._doc = pdfium.PdfDocument(str(path))

    def __len__(self) -> int:
        return len(self._doc)

    def page_size(self, index: int) -> tuple[float, float]:
        return tuple(self._doc[index].get_size())

    def render(self, index: int, scale: float) -> QImage:
        """Page `index` at `scale` pixels per point, as an RGB32 image it owns."""
        bitmap = self._doc[index].render(scale=scale, prefer_bgrx=True, may_draw_forms=False)
        image = QImage(bitmap.buffer, bitmap.width, bitmap.height, bitmap.stride,
                       QImage.Format.Format_RGB32)
        return image.copy()          # detach from PDFium's buffer before it is freed

    def close(self) -> None:
        self._doc.close()


class PdfPreview(QWidget):
    """Page by page: ◀ 第 [n] 页 共 N 页 ▶, zoom; PgUp/PgDn turn pages."""

    pageChanged = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.pdf: PdfFile | None = None
        self.index = 0
        self.prev_button = QPushButton(self.tr("上一页"))
        self.next_button = QPushButton(self.tr("下一页"))
        self.page_box = QSpinBox()
        self.page_box.setMinimum(1)
        self.page_box.setKeyboardTracking(False)
        self.count_label = QLabel()
        self.zoom = QComboBox()
        for value, text in ZOOMS:
            self.zoom.addItem(self.tr(text), value)
        self.prev_button.clicked.connect(lambda: self.show_page(self.index - 1))
        self.next_button.clicked.connect(lambda: self.show_page(self.index + 1))
        self.page_box.valueChanged.connect(lambda n: self.show_page(n - 1))
        self.zoom.currentIndexChanged.connect(lambda _i: self._render())

        bar = QHBoxLayout()
        bar.addWidget(self.prev_button)
        bar.addWidget(QLabel(self.tr("第")))
        bar.addWidget(self.page_box)
        bar.addWidget(self.count_label)
        bar.addWidget(self.next_button)
        bar.addStretch(1)
        bar.addWidget(QLabel(self.tr("缩放：")))
        bar.addWidget(self.zoom)

        self.image = QLabel()
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.scroll = QScrollArea()
        self.scroll.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.scroll.setWidget(self.image)
        self.scroll.setBackgroundRole(QPalette.ColorRole.Dark)
        self.placeholder = self.tr("生成后在此预览")
        self.image.setText(self.placeholder)
        self.image.adjustSize()             # a text label in a scroll area keeps its size

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.scroll, 1)
        for key, step in ((QKeySequence.StandardKey.MoveToPreviousPage, -1),
                          (QKeySequence.StandardKey.MoveToNextPage, 1)):
            shortcut = QShortcut(key, self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(lambda s=step: self.show_page(self.index + s))
        self._update_controls()

    # --- what is shown ------------------------------------------------------------------------
    def open(self, path) -> None:
        self.close_file()
        self.pdf = PdfFile(path)
        self.index = -1
        self.page_box.setMaximum(max(len(self.pdf), 1))
        self.show_page(0)

    def close_file(self) -> None:
        if self.pdf is not None:
            self.pdf.close()
        self.pdf = None
        self.image.setPixmap(QPixmap())
        self.image.setText(self.placeholder)
        self.image.adjustSize()             # a text label in a scroll area keeps its size
        self._update_controls()

    def page_count(self) -> int:
        return len(self.pdf) if self.pdf is not None else 0

    def show_page(self, index: int) -> None:
        if self.pdf is None:
            return
        index = max(0, min(index, len(self.pdf) - 1))
        if index == self.index:
            return
        self.index = index
        self._render()
        self.pageChanged.emit(index)

    def _scale(self) -> float:
        zoom = self.zoom.currentData()
        width, height = self.pdf.page_size(self.index)
        view = self.scroll.viewport().size()
        fit_w = max(view.width() - 16, 100) / width
        if zoom == 0:
            return fit_w
        if zoom == -1:
            return min(fit_w, max(view.height() - 16, 100) / height)
        return zoom / 100 * self.logicalDpiX() / POINTS_PER_INCH

    def _render(self) -> None:
        if self.pdf is None or self.index < 0:
            return
        ratio = self.devicePixelRatioF()
        image = self.pdf.render(self.index, self._scale() * ratio)
        image.setDevicePixelRatio(ratio)
        pixmap = QPixmap.fromImage(image)
        self.image.setPixmap(pixmap)
        self.image.resize(QSize(round(image.width() / ratio), round(image.height() / ratio)))
        self._update_controls()

    def _update_controls(self) -> None:
        count = self.page_count()
        blocker = self.page_box.blockSignals(True)
        self.page_box.setValue(self.index + 1 if count else 1)
        self.page_box.blockSignals(blocker)
        self.count_label.setText(self.tr("页 共 {0} 页").format(count))
        for widget in (self.page_box, self.zoom):
            widget.setEnabled(bool(count))
        self.prev_button.setEnabled(count > 0 and self.index > 0)
        self.next_button.setEnabled(count > 0 and self.index < count - 1)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.pdf is not None and self.zoom.currentData() in (0, -1):
            self._render()


def paint_pages(pdf: PdfFile, printer, pages: list[int] | None = None,
                progress: Callable[[int, int], bool] | None = None) -> int:
    """Paint `pages` (all by default) of `pdf` on `printer`, each scaled to fit its page
    area and centred. `progress(done, total)` returning False stops. Returns pages painted."""
    pages = list(range(len(pdf))) if pages is None else pages
    dpi = min(printer.resolution(), MAX_PRINT_DPI)
    painter = QPainter()
    if not painter.begin(printer):
        raise OSError("打印机无法开始打印")
    done = 0
    try:
        for n, index in enumerate(pages):
            if progress is not None and progress(n, len(pages)) is False:
                break
            if n:
                printer.newPage()
            image = pdf.render(index, dpi / POINTS_PER_INCH)
            area = QRectF(painter.viewport())
            scale = min(area.width() / image.width(), area.height() / image.height())
            w, h = image.width() * scale, image.height() * scale
            target = QRectF(area.x() + (area.width() - w) / 2,
                            area.y() + (area.height() - h) / 2, w, h)
            painter.drawImage(target, image)
            done += 1
    finally:
        painter.end()
    return done


def print_pdf(path, parent: QWidget | None = None, title: str = "") -> int | None:
    """Qt's print dialog, then the pages on the chosen printer with a progress dialog.
    Returns the pages printed, or None when the user cancelled the dialog."""
    from PySide6.QtPrintSupport import QAbstractPrintDialog, QPrintDialog, QPrinter

    pdf = PdfFile(path)
    try:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setDocName(title or pdf.path.stem)
        width, height = pdf.page_size(0)
        printer.setPageOrientation(QPageLayout.Orientation.Landscape if width > height
                                   else QPageLayout.Orientation.Portrait)
        printer.setFromTo(1, len(pdf))
        dialog = QPrintDialog(printer, parent)
        dialog.setOption(QAbstractPrintDialog.PrintDialogOption.PrintPageRange, True)
        dialog.setMinMax(1, len(pdf))
        if dialog.exec() != QPrintDialog.DialogCode.Accepted:
            return None
        pages = list(range(len(pdf)))
        if printer.printRange() == QPrinter.PrintRange.PageRange:
            pages = list(range(printer.fromPage() - 1, printer.toPage()))
        return print_with_progress(pdf, printer, pages, parent)
    finally:
        pdf.close()


def print_with_progress(pdf: PdfFile, printer, pages: list[int],
                        parent: QWidget | None = None) -> int:
    """Painting runs on the GUI thread (a QPrinter belongs to it); a progress dialog with
    cancel keeps the window alive between pages."""
    dialog = QProgressDialog(QApplication.translate("pdf_preview", "正在打印…"),
                             QApplication.translate("pdf_preview", "取消"), 0, len(pages),
                             parent)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(500)

    def progress(done: int, total: int) -> bool:
        dialog.setValue(done)
        QApplication.processEvents()
        return not dialog.wasCanceled()

    try:
        return paint_pages(pdf, printer, pages, progress)
    finally:
        dialog.close()
        dialog.deleteLater()
