"""Many estates in one deployment (docs/deploy.md, "Many estates"): which site files make the deployment, and where
each estate's data lives (its own PostgreSQL schema, or its own SQLite file). Naming is pure; loading reads the files."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from sqlalchemy.engine import make_url

from caretaker.estate.errors import SiteError
from caretaker.estate.model import Site
from caretaker.estate.site_cache import load_site_cached
from caretaker.rules.load import in_locale, load_playbooks, load_rules
from caretaker.rules.model import Rule
from caretaker.rules.playbooks import DEFAULT_PLAYBOOKS, Playbook
from caretaker.settings import Settings

SITE_FILE_SUFFIX = ".yaml"  # every *.yaml in the directory is one estate; nothing else is read
SCHEMA_PREFIX = "estate_"
POSTGRES_NAME_MAX = 63  # PostgreSQL cuts longer identifiers: two long site ids would share a schema


@dataclass(frozen=True, slots=True)
class Loaded:
    site: Site
    rules: list[Rule]
    playbooks: tuple[Playbook, ...] = DEFAULT_PLAYBOOKS  # which trades an incident needs (rules file)


class EstatesError(ValueError):
    """The site files cannot make one deployment; the message names every file and what is wrong."""


# --- which files -------------------------------------------------------------------------------------------

def site_files(path: Path) -> list[Path]:
    """Return the site files `CARETAKER_SITE_FILE` names: the file itself, or every `*.yaml` of a directory
    (hidden ones, an editor's `.x.yaml`, left out), sorted by name; raises EstatesError for an empty directory."""
    if not path.is_dir():
        return [path]
    files = sorted(p for p in path.iterdir()
                   if p.suffix == SITE_FILE_SUFFIX and not p.name.startswith(".") and p.is_file())
    if not files:
        raise EstatesError(f"{path}: the directory holds no site file (*.yaml); each estate is one file "
                           "(docs/deploy.md, \"Many estates\")")
    return files


def is_many(settings: Settings) -> bool:
    """Whether the deployment keeps each estate apart (a directory of site files), rather than one estate in
    the default schema or file as always."""
    return settings.site_file is not None and settings.site_file.is_dir()


# --- where each estate lives -------------------------------------------------------------------------------

def schema_name(site: str) -> str:
    """Return the PostgreSQL schema of an estate: `estate_` and the site id in lower case with every character
    but letters, digits and `_` as `_`; a name over PostgreSQL's 63 characters ends in a hash of the id; pure."""
    name = SCHEMA_PREFIX + re.sub(r"[^a-z0-9_]", "_", site.lower())
    if len(name) > POSTGRES_NAME_MAX:
        digest = hashlib.sha256(site.encode("utf-8")).hexdigest()[:10]
        name = f"{name[:POSTGRES_NAME_MAX - 11]}_{digest}"
    return name


def sqlite_url(database_url: str, site: str) -> str:
    """Return an estate's own SQLite URL beside the configured file: `caretaker.db` → `caretaker.harbor-view.db`
    (site ids are safe file names: letters, digits, `_`, `.`, `-`); pure."""
    url = make_url(database_url)
    if not url.database or url.database == ":memory:":
        return database_url  # in memory: nothing to keep apart on disk (tests only)
    path = Path(url.database)
    stem, suffix = (path.stem, path.suffix) if path.suffix else (path.name, "")
    return url.set(database=str(path.with_name(f"{stem}.{site}{suffix}"))).render_as_string(hide_password=False)


# --- loading -----------------------------------------------------------------------------------------------

def load_estates(settings: Settings) -> tuple[Loaded, ...]:
    """Return every estate the settings name with the rules, in file order; raises SiteError (one file) or
    EstatesError naming every problem of every file, two files with the same `site:`, two sites that would
    share a schema."""
    if settings.site_file is None:
        raise ValueError("CARETAKER_SITE_FILE is not set: point it at your site file, or a directory of them "
                         "(see docs/site-file.md)")
    files = site_files(settings.site_file)
    rules, playbooks = load_rules(settings.rules_file), load_playbooks(settings.rules_file)
    if len(files) == 1 and not settings.site_file.is_dir():
        site = load_site_cached(files[0], settings.site_cache)
        return (Loaded(site, in_locale(rules, site.locale), playbooks),)  # titles in the estate's language
    sites: list[Site] = []
    problems: list[str] = []
    for path in files:
        try:
            sites.append(load_site_cached(path, settings.site_cache))
        except SiteError as exc:
            problems.append(str(exc))
    problems.extend(clashes([(str(path), site.id) for path, site in zip(files, sites)] if not problems else []))
    if problems:
        raise EstatesError("\n".join(problems))
    return tuple(Loaded(site, in_locale(rules, site.locale), playbooks) for site in sites)


def clashes(files_and_sites: Sequence[tuple[str, str]]) -> list[str]:
    """Return what keeps these estates from one deployment: a site id twice, or two ids with one schema; pure."""
    problems: list[str] = []
    by_id: dict[str, str] = {}
    by_schema: dict[str, tuple[str, str]] = {}
    for filename, site in files_and_sites:
        if site in by_id:
            problems.append(f"{filename}: site {site!r} is already the estate of {by_id[site]}; each estate needs "
                            "its own site id")
            continue
        by_id[site] = filename
        schema = schema_name(site)
        if schema in by_schema:
            other_file, other = by_schema[schema]
            problems.append(f"{filename}: site {site!r} and site {other!r} of {other_file} differ only in case or "
                            f"punctuation and would share the schema {schema}; rename one")
            continue
        by_schema[schema] = (filename, site)
    return problems
