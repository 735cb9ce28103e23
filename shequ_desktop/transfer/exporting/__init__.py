"""Exports for upload and backup (issue 5): templates (resources/export_templates) over
sources (what can be listed), written as xlsx or CSV with masking and formula escaping."""
from __future__ import annotations

from shequ_desktop.transfer.exporting.templates import (
                                            DEFAULTS,
                                            WHAT,
                                            Template,
                                            for_what,
                                            load,
                                            names,
)
from shequ_desktop.transfer.exporting.writer import (
                                            FORMATS,
                                            check_folder,
                                            default_file_name,
                                            escape,
                                            export,
)

__all__ = ["DEFAULTS", "FORMATS", "WHAT", "Template", "check_folder", "default_file_name",
           "escape", "export", "for_what", "load", "names"]
