"""Write-then-rename: a file appears complete or not at all, whatever happens mid-write."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def replacing(target: str | Path) -> Iterator[Path]:
    """Yield `<target>.partial` to write; it replaces `target` on success and is removed on failure."""
    target = Path(target)
    partial = target.with_name(target.name + ".partial")
    try:
        yield partial
        os.replace(partial, target)
    finally:
        if partial.exists():
            partial.unlink()
