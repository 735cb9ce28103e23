"""CJK fonts for PDFs (DESIGN.md §8).

ReportLab embeds TrueType fonts (.ttf, and .ttc collections by sub-font index) but refuses
CFF-based OpenType (Noto CJK .otf). We look for the usual TrueType CJK fonts of Windows and
Linux; the user may choose one (setting "pdf.font"). Without any, the built-in CID font
STSong-Light is used: the PDF then depends on the reader having a Chinese font, and callers
must show `Font.warning`.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

FALLBACK = "STSong-Light"

# (file name, sub-font index, name shown to the user), in order of preference
KNOWN = (
    ("simsun.ttc", 0, "宋体"),
    ("simhei.ttf", 0, "黑体"),
    ("msyh.ttc", 0, "微软雅黑"),
    ("simkai.ttf", 0, "楷体"),
    ("wqy-zenhei.ttc", 0, "文泉驿正黑"),
    ("wqy-microhei.ttc", 0, "文泉驿微米黑"),
    ("uming.ttc", 0, "AR PL UMing"),
    ("ukai.ttc", 0, "AR PL UKai"),
)


@dataclass(frozen=True)
class Font:
    name: str            # the ReportLab font name to draw with
    label: str           # shown to the user
    path: str | None     # None for the non-embedded CID fallback
    warning: str = ""    # non-empty when the PDF will not carry its font


def font_dirs() -> list[Path]:
    dirs = []
    if sys.platform.startswith("win"):
        dirs.append(Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts")
        local = os.environ.get("LOCALAPPDATA")
        if local:
            dirs.append(Path(local) / "Microsoft" / "Windows" / "Fonts")
    elif sys.platform == "darwin":
        dirs += [Path("/Library/Fonts"), Path.home() / "Library" / "Fonts"]
    else:
        dirs += [Path("/usr/share/fonts"), Path("/usr/local/share/fonts"),
                 Path.home() / ".local" / "share" / "fonts", Path.home() / ".fonts"]
    return [d for d in dirs if d.is_dir()]


def available() -> list[tuple[str, int, str]]:
    """(path, sub-font index, label) of the known CJK TrueType fonts on this computer."""
    wanted = {name.lower(): (index, label) for name, index, label in KNOWN}
    found: dict[str, tuple[str, int, str]] = {}
    for folder in font_dirs():
        for root, _dirs, files in os.walk(folder):
            for file in files:
                key = file.lower()
                if key in wanted and key not in found:
                    index, label = wanted[key]
                    found[key] = (str(Path(root) / file), index, label)
    order = [name.lower() for name, _i, _l in KNOWN]
    return [found[k] for k in order if k in found]


_registered: dict[tuple[str, int], str] = {}


def _register(path: str, index: int) -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    key = (path, index)
    if key not in _registered:
        name = f"CJK{len(_registered)}"
        pdfmetrics.registerFont(TTFont(name, path, subfontIndex=index))
        _registered[key] = name
    return _registered[key]


def _fallback() -> Font:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if FALLBACK not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK))
    return Font(FALLBACK, "华文宋体（未嵌入）", None,
                "未找到可嵌入的中文字体，PDF 使用阅读器自带的宋体显示；"
                "在其他电脑上打开时字形可能不同。请在设置中选择一种中文字体。")


def get_font(preferred: str | None = None) -> Font:
    """The font to draw with: `preferred` (a font file path) if it can be used, else the first
    known font found, else the STSong-Light fallback (with a warning)."""
    candidates = available()
    if preferred:
        candidates.insert(0, (preferred, 0, Path(preferred).stem))
    for path, index, label in candidates:
        try:
            return Font(_register(path, index), label, path)
        except Exception:          # a broken or CFF font file: try the next one
            continue
    return _fallback()
