from fraud_stack.cli import main

raise SystemExit(main())
