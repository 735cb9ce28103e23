"""The bundle's command line (shequ.exe): the same as the `shequ` command."""
import sys

from shequ_desktop.cli.main import main

sys.exit(main())
