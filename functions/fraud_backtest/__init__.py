"""fraud_backtest: rescores the decisions ledger with candidate model files and reports against the labels.

`python -m fraud_backtest` (docs/model.md). A product tool the fraud team runs beside the functions, so it
ships with them (the `backtest` extra of fraud-functions brings numpy, scikit-learn and matplotlib), and it
reads model files with the same validation the function server uses.
"""
