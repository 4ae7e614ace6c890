"""python -m fraud_dev.generate [--check] [--without-helm]: see the package's docstring."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fraud_dev.generate import __doc__ as about
from fraud_dev.generate.files import OWNED, Declarations, diff, helm_files, python_files, stale, write
from fraud_dev.generate.kustomize import HelmError
from fraud_dev.paths import REPO_ROOT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=about, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="write nothing; fail with a diff if a file is stale")
    parser.add_argument("--without-helm", action="store_true", help="leave out the kustomize tree (helm makes it)")
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help="the repository (a copy, in the tests)")
    args = parser.parse_args(argv)
    root = args.root
    try:
        if args.check:
            files = python_files(root, Declarations.current())
            if not args.without_helm:
                files.update(helm_files(root))
            out_of_date = stale(root, files, OWNED)
            for path in out_of_date:
                print(diff(root, path, files.get(path)), end="")
                print(f"out of date: {path} (run `make generate`)", file=sys.stderr)
            return 1 if out_of_date else 0
        written = write(root, python_files(root, Declarations.current()), OWNED)
        if not args.without_helm:
            written += write(root, helm_files(root))  # from the chart as the first part left it
    except HelmError as err:
        print(f"make generate: {err}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
