"""While background work runs, the GUI thread gets the GIL back quickly (a 1 ms switch
interval instead of Python's 5 ms); the usual interval returns when the work is done."""
import sys
import threading

from ui import background


def test_the_switch_interval_is_short_only_while_work_runs(qtbot):
    usual = sys.getswitchinterval()
    release, seen = threading.Event(), []

    def work(_conn, _progress):
        seen.append(sys.getswitchinterval())
        release.wait(30)
        return "done"

    task = background.run(work, None, quiet=True, synchronous=False)
    qtbot.waitUntil(lambda: bool(seen))
    assert sys.getswitchinterval() == background.GUI_SWITCH_INTERVAL < usual
    release.set()
    task.wait()
    qtbot.waitUntil(lambda: not background._running)
    assert task.result == "done" and seen == [background.GUI_SWITCH_INTERVAL]
    assert sys.getswitchinterval() == usual
