from fraud_dev.stack.cli import main

raise SystemExit(main())
