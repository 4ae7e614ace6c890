"""A helm post-renderer (`--post-renderer python --post-renderer-args post_render.py --post-renderer-args
PATCH`) that sets one field of every object of one kind: what a kustomize or GitOps layer does to a
chart's output after the values schema and the templates have run."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml


def main(patch_file: str) -> None:
    patch = yaml.safe_load(Path(patch_file).read_text(encoding="utf-8"))
    docs = [doc for doc in yaml.safe_load_all(sys.stdin) if doc]
    for doc in docs:
        if doc["kind"] == patch["kind"]:
            node = doc
            for step in patch["path"][:-1]:
                node = node[step]
            node[patch["path"][-1]] = patch["value"]
    yaml.safe_dump_all(docs, sys.stdout, sort_keys=False)


if __name__ == "__main__":
    main(sys.argv[1])
