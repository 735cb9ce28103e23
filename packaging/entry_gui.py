"""The bundle's window program (社区网格工作台.exe): the same as `python main.py`."""
import sys

from ui.app import main

sys.exit(main())
