"""The workshop: everything that runs, tests, builds tools for and measures the product on this machine.

Nothing in the product imports it; it imports the product. One toolkit for every harness here:
`paths` (where things are), `process` (supervised child processes), `readiness`, `ports`, `say` (what
a harness tells its user) and `stack.config` (settings), used by the local stack (`stack`), the
Kubernetes harnesses (`cluster`) and the benchmarks (`bench`); `pipeline`, `ledger` and `workload`
drive and read a running pipeline for the end-to-end suites and the benchmarks; `mini_runtime` is the
in-process test double of the StateFun runtime.
"""
