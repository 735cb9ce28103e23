"""The second process of a big import's dry run (plan._read_rows). Through its pipes, nothing
on disk: reads a pickled (mapping, today) from stdin, then pickled lists of rows (cells) until
None, and for each list writes the pickled results of reading those rows (plan.read_cells)
to stdout: one list at a time, so it never holds much."""
from __future__ import annotations

import pickle
import sys

from shequ_desktop.transfer.importing.plan import _RowReader, read_cells


def main() -> None:

    source, target = sys.stdin.buffer, sys.stdout.buffer
    reader = _RowReader(*pickle.load(source))
    while (cells := pickle.load(source)) is not None:
        pickle.dump(read_cells(reader, cells), target, protocol=pickle.HIGHEST_PROTOCOL)
        target.flush()


if __name__ == "__main__":
    main()
