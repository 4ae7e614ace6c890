"""Where things are in the repository: the one place the workshop computes them."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEV = REPO_ROOT / "dev"
TOOLS_INSTALL = DEV / "tools" / "install"
TOOLS_BIN = REPO_ROOT / ".cache" / "tools" / "bin"
CRDS_DIR = DEV / "third_party" / "crds"
