"""`python -m app refresh SOURCE_DIR`: loads the files of a folder that are not loaded yet.

For a scheduler: files dropped into the folder are picked up by the next run. A file counts as
loaded when a file with the same content (sha256) was loaded before, under any name. Every new
file is checked first; if any is refused, nothing is loaded and each refused file is named with
its problems. Otherwise all new files are written in one transaction.
"""

from __future__ import annotations

import time
from pathlib import Path

from app.storage import (
    LoadReport,
    Source,
    previous_loads,
    progress,
    stage,
    staging_connection,
    within,
)
from app.storage import store as store_staged
from app.validation import (
    ASSIGNMENTS_KIND,
    CSV_SUFFIXES,
    EVENTS_KIND,
    PARQUET_SUFFIXES,
    LoadError,
    Problem,
    TimestampRange,
)
from queries.errors import ParameterError

# Files whose name starts with this hold experiment assignments; every other file holds events.
ASSIGNMENTS_PREFIX = "assignments"


class RefreshRefused(LoadError):
    """One or more new files were refused, so none was loaded."""

    def __init__(self, folder: Path, refused: list[LoadError], new_files: int):
        self.refused = refused
        super().__init__(folder, [problem for error in refused for problem in error.problems])
        summary = (
            f"{folder}: nothing was loaded: {len(refused)} of {new_files} new files refused"
        )
        self.args = ("\n".join([*(str(error) for error in refused), summary]),)


def data_files(folder: Path) -> list[Path]:
    """The folder's data files in name order. Hidden files are skipped, so an uploader can
    write `.name.csv` and rename it when complete; so are links that lead out of the folder
    (a link must not make refresh read a file elsewhere on the machine)."""
    suffixes = CSV_SUFFIXES + PARQUET_SUFFIXES
    candidates = sorted(
        path for path in folder.iterdir()
        if not path.name.startswith(".") and path.name.lower().endswith(suffixes)
    )
    inside = folder.resolve()
    files = []
    for path in candidates:
        if not path.resolve().is_relative_to(inside):
            progress(f"skipped {path.name}: a link to a file outside {folder}")
        elif path.is_file():
            files.append(path)
    return files


def file_kind(path: Path):
    return ASSIGNMENTS_KIND if path.name.lower().startswith(ASSIGNMENTS_PREFIX) else EVENTS_KIND


def new_files(db_path: Path, folder: Path) -> list[tuple[Source, str]]:
    """(source, sha256) of each file whose content is not loaded yet; a second file with the
    same content as another new one is refused, since loading both would double-count."""
    loaded = {fingerprint for _, _, fingerprint, _ in previous_loads(db_path)}
    found: dict[str, Path] = {}
    duplicates = []
    for path in data_files(folder):
        source = Source(path.name, path=path)
        fingerprint = source.fingerprint()
        if fingerprint in loaded:
            continue
        if fingerprint in found:
            message = f"same content as {found[fingerprint].name}: loading both would double-count"
            duplicates.append(LoadError(path, [Problem(message)]))
            continue
        found[fingerprint] = path
    if duplicates:
        raise RefreshRefused(folder, duplicates, len(found) + len(duplicates))
    return [(Source(path.name, path=path), fingerprint) for fingerprint, path in found.items()]


def refresh(db_path: Path, folder: Path,
            timestamps: TimestampRange | None = None) -> LoadReport | None:
    """Loads the new files of `folder`, all or none; None when there was nothing new."""
    if not folder.is_dir():
        raise ParameterError(f"{folder} is not a folder")
    started = time.perf_counter()
    pending = new_files(db_path, folder)
    if not pending:
        progress(f"nothing new in {folder}")
        return None
    staging = staging_connection()
    sources, fingerprints, refused = [], {}, []
    for index, (source, fingerprint) in enumerate(pending):
        table, kind = f"staged_{index}", within(file_kind(source.path), timestamps)
        progress(f"checking {source.name} ({kind.noun})")
        try:
            stage(staging, source, table, kind)
        except LoadError as error:
            refused.append(error)
            continue
        sources.append((source, table, kind))
        fingerprints[table] = fingerprint
    if refused:
        raise RefreshRefused(folder, refused, len(pending))
    return store_staged(staging, db_path, sources, fingerprints, False, started)
