"""Unit-suite settings: Hypothesis keeps its scratch files out of the repository."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Hypothesis caches constants and Unicode tables under ./.hypothesis by default. The unit suite
# keeps that cache in the system temp directory instead (an explicit setting still wins); it is
# reused between runs because rebuilding the Unicode table costs seconds.
os.environ.setdefault(
    "HYPOTHESIS_STORAGE_DIRECTORY", str(Path(tempfile.gettempdir()) / "crypto-data-engine-hypothesis")
)
