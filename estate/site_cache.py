"""The site cache: a validated site file kept in a fast form, keyed by the file's bytes and the code that
validates it, so a restart with the file unchanged skips the YAML parse and the checks (docs/deploy.md,
"The site cache"). A 100,000-device file takes seconds to parse; its cached form loads in a fraction of that.

What is kept is the estate before the environment is read (estate.site.UnexpandedSite): channel urls and
secrets stay `${VAR}`s, and are read from the environment and checked again at every load, so a secret
never reaches the disk and a variable since unset is still refused by name. Only files this process's user
owns, and nobody else may write, are read back (the cached form is a pickle: code, to whoever can write it)."""

from __future__ import annotations

import hashlib
import logging
import subprocess
import os
import pickle
import stat
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

from caretaker.estate.errors import SiteError
from caretaker.estate.model import Site
from caretaker.estate.site import UnexpandedSite, expand_site, read_site, read_site_text

log = logging.getLogger(__name__)

FORMAT = 1  # raised when the cached form changes in a way the code's fingerprint would not show
KEEP_UNUSED = 30 * 24 * 3600  # seconds: a cached estate nobody loaded this long is deleted
# a site file this large (about 13,000 devices) is parsed in a child process: the parse's peak (the YAML's
# nodes, the line of every key, the validation's models) is many times the estate it yields, and memory freed
# in small pieces is never given back, so the service would keep that peak as its size (docs/deploy.md, "The
# site cache"). The child's start (about a second) is small beside such a file's parse.
PARSE_APART_CHARS = 1_000_000
_ESTATE_CODE = Path(__file__).resolve().parent


def _code_fingerprint() -> bytes:
    """What the cached form depends on besides the file: the estate room's code and the Python that pickled it."""
    digest = hashlib.sha256(f"caretaker-site-cache {FORMAT} {sys.version_info[:2]}".encode())
    for source in sorted(_ESTATE_CODE.glob("*.py")):
        digest.update(source.name.encode())
        digest.update(source.read_bytes())
    return digest.digest()


_FINGERPRINT = _code_fingerprint()


def cache_key(text: str) -> str:
    """The name the cached form of this site file's text is kept under; pure over the text and the code."""
    return hashlib.sha256(_FINGERPRINT + text.encode("utf-8")).hexdigest()


def load_site_cached(path: str | os.PathLike[str], cache_dir: Path | None,
                     environ: Mapping[str, str] | None = None) -> Site:
    """Return the site of the file at `path`, as estate.site.load_site does, from `cache_dir` when the file is
    unchanged since a load kept it there; None for `cache_dir`: always parse. Raises SiteError as load_site."""
    filename = os.fspath(path)
    text = read_site_text(filename)
    kept = cache_dir / f"site-{cache_key(text)}.pickle" if cache_dir is not None else None
    unexpanded = _read(kept) if kept is not None else None
    if unexpanded is not None:
        return expand_site(unexpanded, filename, environ)
    if len(text) >= PARSE_APART_CHARS:
        unexpanded = parse_apart(text, filename, environ)
        site = expand_site(unexpanded, filename, environ)
    else:
        site, unexpanded = read_site(text, filename, environ)
    if kept is not None:
        _write(cache_dir, kept, unexpanded)
    return site


def parse_apart(text: str, filename: str, environ: Mapping[str, str] | None = None) -> UnexpandedSite:
    """Parse and check the site file's text in a child process and return the estate it describes (before the
    environment is read); raises SiteError as read_site, the child's problems and all."""
    child = subprocess.run([sys.executable, "-m", "caretaker.estate.site_cache", filename],
                           input=text.encode("utf-8"), capture_output=True,
                           env=dict(environ) if environ is not None else None)
    try:
        outcome, value = pickle.loads(child.stdout)  # our own child's answer
    except Exception:
        # the child could not answer (killed, out of memory): parse here, slower to give memory back
        log.warning("site cache: the child parsing %s failed (exit %s); parsing in this process", filename,
                    child.returncode)
        return read_site(text, filename, environ)[1]
    if outcome == "error":
        raise value
    return value


def _parse_child() -> None:
    """The child of `parse_apart`: the site file's text on stdin, its name as the argument, the pickled
    outcome on stdout."""
    text = sys.stdin.buffer.read().decode("utf-8")
    try:
        answer = ("ok", read_site(text, sys.argv[1])[1])
    except SiteError as exc:
        answer = ("error", exc)
    sys.stdout.buffer.write(pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL))


def _read(kept: Path) -> UnexpandedSite | None:
    try:
        with kept.open("rb") as handle:
            info = os.fstat(handle.fileno())
            if info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                log.warning("site cache: ignoring %s (not this user's own, or others may write it)", kept)
                return None
            found = pickle.load(handle)
    except FileNotFoundError:
        return None
    except Exception as exc:  # a torn or foreign file is only a miss: the site file is parsed again
        log.warning("site cache: ignoring %s (%s)", kept, type(exc).__name__)
        return None
    if not isinstance(found, UnexpandedSite):
        log.warning("site cache: ignoring %s (not a cached estate)", kept)
        return None
    try:
        os.utime(kept)  # in use: not pruned
    except OSError:
        pass
    return found


def _write(cache_dir: Path, kept: Path, unexpanded: UnexpandedSite) -> None:
    """Keep the cached form (atomically, readable by this user only) and delete long-unused ones. A cache that
    cannot be written costs the next start its speed, never the start: the reason is logged."""
    try:
        cache_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".site-", dir=cache_dir)
        try:
            with os.fdopen(handle, "wb") as out:
                pickle.dump(unexpanded, out, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, kept)
        except BaseException:
            os.unlink(temporary)
            raise
        _prune(cache_dir, keep=kept)
    except OSError as exc:
        log.warning("site cache: cannot keep the validated estate in %s (%s); the next start parses the file "
                    "again", cache_dir, exc.strerror or exc)


def _prune(cache_dir: Path, keep: Path) -> None:
    cutoff = time.time() - KEEP_UNUSED
    for old in cache_dir.glob("site-*.pickle"):
        try:
            if old != keep and old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            pass


if __name__ == "__main__":
    _parse_child()
