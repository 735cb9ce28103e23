from shequ_desktop.cli import main

raise SystemExit(main())
