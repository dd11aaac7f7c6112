from emocast.cli import main

raise SystemExit(main())
