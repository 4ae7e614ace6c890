from fraud_dev.cluster.cli import main

raise SystemExit(main())
