"""Adjusts an installed bqemulator so that it runs offline and takes the client's loads.

Run with the python of the virtual environment that holds bqemulator (.ci/setup-bqemulator
does). Three minimal edits, each applied once (a rerun finds the marker and leaves the file
alone) and each failing loudly when the code it expects is not there, as after an upgrade:

1. storage/engine.py: a failed INSTALL/LOAD of DuckDB's spatial extension (it cannot be
   downloaded here) is logged instead of aborting start-up; only GEOGRAPHY needs it.
2. api/routes/upload.py: the media part of a multipart upload may be `*/*`, the content type
   that google-cloud-bigquery sends for load_table_from_dataframe / load_table_from_json.
3. sql/catalog_schema.py: a table with a RECORD (STRUCT) column is left out of the schema the
   translator qualifies columns with, instead of listed without that column. With the partial
   schema, any query whose translation a rule rewrites (COUNTIF, for one) expanded `SELECT *`
   without the struct columns, so `ecommerce.purchase_revenue` over a GA4 export failed.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

MARKER = "growth-analytics patch"

SPATIAL_OLD = """\
        except Exception as exc:
            _log.error("duckdb.spatial_unavailable", error=str(exc))
            raise InternalError(
                "DuckDB spatial extension is required for bqemulator (GEOGRAPHY "
                "support). INSTALL/LOAD spatial failed — check network access "
                "for the DuckDB extension repository or pre-bundle the extension "
                f"in the image. Underlying error: {exc}",
            ) from exc
"""
SPATIAL_NEW = f"""\
        except Exception as exc:  # noqa: BLE001 — {MARKER}: offline, GEOGRAPHY unavailable
            _log.warning("duckdb.spatial_unavailable", error=str(exc))
            return
"""

UPLOAD_OLD = """\
_PERMITTED_MEDIA_CONTENT_TYPES = (
    "application/octet-stream",
"""
UPLOAD_NEW = f"""\
_PERMITTED_MEDIA_CONTENT_TYPES = (
    "*/*",  # {MARKER}: google-cloud-bigquery's generic upload type
    "application/octet-stream",
"""

SCHEMA_OLD = """\
        for field in meta.schema_.fields:
            duckdb_type = _safe_bq_to_duckdb(field.type)
            if duckdb_type is None:
                continue
            columns[field.name] = duckdb_type
"""
SCHEMA_NEW = f"""\
        for field in meta.schema_.fields:
            duckdb_type = _safe_bq_to_duckdb(field.type)
            if duckdb_type is None:  # {MARKER}: a partial schema drops the column from `*`
                columns = {{}}
                break
            columns[field.name] = duckdb_type
"""

PATCHES = (
    ("storage/engine.py", SPATIAL_OLD, SPATIAL_NEW),
    ("api/routes/upload.py", UPLOAD_OLD, UPLOAD_NEW),
    ("sql/catalog_schema.py", SCHEMA_OLD, SCHEMA_NEW),
)


def package_dir() -> Path:
    spec = importlib.util.find_spec("bqemulator")
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"patch_bqemulator: bqemulator is not installed for {sys.executable}")
    return Path(next(iter(spec.submodule_search_locations)))


def apply(path: Path, old: str, new: str) -> str:
    if not path.is_file():
        sys.exit(f"patch_bqemulator: {path} not found: has bqemulator changed?")
    text = path.read_text(encoding="utf-8")
    if new in text:
        return "already patched"
    if text.count(old) != 1:
        sys.exit(
            f"patch_bqemulator: the code to patch was not found (once) in {path}: "
            "has bqemulator changed? Compare with .ci/patch_bqemulator.py"
        )
    path.write_text(text.replace(old, new), encoding="utf-8")
    # A stale byte-compiled copy must not outlive the source it was compiled from.
    for cached in path.parent.glob(f"__pycache__/{path.stem}.*.pyc"):
        cached.unlink()
    return "patched"


def main() -> None:
    root = package_dir()
    for relative, old, new in PATCHES:
        print(f"patch_bqemulator: {relative}: {apply(root / relative, old, new)}")


if __name__ == "__main__":
    main()
