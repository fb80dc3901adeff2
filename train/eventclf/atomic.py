"""Write-then-rename: a file or folder appears complete or not at all, whatever happens mid-write."""

from __future__ import annotations

import os
import shutil
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


@contextmanager
def replacing_folder(final: Path) -> Iterator[Path]:
    """Yield `<final>.partial/` to fill; on success it replaces `final`, on any failure it is removed."""
    partial = final.with_name(final.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        yield partial
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    previous = final.with_name(final.name + ".previous")
    if final.exists():
        shutil.rmtree(previous, ignore_errors=True)
        final.rename(previous)
    partial.rename(final)
    shutil.rmtree(previous, ignore_errors=True)
