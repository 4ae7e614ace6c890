from fraud_cluster.cli import main

raise SystemExit(main())
