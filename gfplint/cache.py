"""Per-TU Facts cache: a second run over an unchanged tree parses nothing.

An entry is found by the TU's *identity* (absolute path, working directory,
compile flags, gfplint fingerprint, catalog, flag layout) and is valid only
while the TU's content and the content of every file it included hash the
same as when it was parsed (ccache's "manifest" idea: the headers are known
only after a parse, so they are recorded in the entry and checked on lookup).
Touching a .c file invalidates its TU; touching a header invalidates exactly
the TUs that included it.

Entry file: one header line ``gfplint-cache 1 <sha256 of body>`` then the
JSON body.  A truncated or corrupt entry fails the checksum, is deleted and
rebuilt, never trusted.  Writes go through a temporary file and a rename, so
concurrent runs and killed runs leave whole entries or none.

The cache is best effort: an unwritable directory costs speed, never a result.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from functools import lru_cache
from importlib import resources
from pathlib import Path

from . import __version__
from .facts import TUFacts

MAGIC = b"gfplint-cache 1 "
# Marks the directory as ours (https://bford.info/cachedir/): backup tools skip
# it, and `gfplint cache clean` refuses to delete a directory without it.
CACHEDIR_TAG = b"Signature: 8a477f597d28d172789f06886806bc55\n# gfplint Facts cache; `gfplint cache clean` removes it.\n"
DEFAULT_DIRNAME = ".gfplint-cache"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# The code that makes Facts: the front end and what it imports (tests/test_scale_cache.py checks
# this against a fresh interpreter's imports of gfplint.frontend.parse), its catalogs and data.
FRONT_END_CODE = ("__init__.py", "catalog.py", "compdb.py", "context_catalog.py", "facts.py", "parallel.py",
                  "frontend/", "model/__init__.py", "model/flags.py", "data/")


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """gfplint's version plus a hash of the code and data that make Facts.

    The version string alone would keep serving Facts made by an older front
    end while gfplint is being developed; hashing the front end's sources makes
    any change of it a new cache generation.  The linker, rules and reports
    are not hashed: changing them reuses the Facts (a whole-kernel parse).
    """
    h = hashlib.sha256(__version__.encode())
    pkg = resources.files("gfplint")
    for path in sorted(_package_files(Path(str(pkg)))):
        if not path.replace(os.sep, "/").startswith(FRONT_END_CODE):
            continue
        h.update(path.encode())
        h.update(Path(str(pkg), path).read_bytes())
    return h.hexdigest()


def _package_files(top: Path) -> list[str]:
    out = []
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        for f in filenames:
            if f.endswith((".py", ".json")):
                out.append(os.path.relpath(os.path.join(dirpath, f), top))
    return out


def default_dir(root: str) -> Path:
    """`.gfplint-cache` in the analysis root, else $XDG_CACHE_HOME/gfplint (~/.cache/gfplint)."""
    if os.access(root, os.W_OK):
        return Path(root) / DEFAULT_DIRNAME
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(xdg) / "gfplint"


class ContentHashes:
    """sha256 of file contents, each file read once per run (headers are shared by most TUs)."""

    def __init__(self):
        self._memo: dict[str, str | None] = {}

    def of(self, path: str) -> str | None:
        if path not in self._memo:
            try:
                with open(path, "rb") as f:
                    self._memo[path] = _sha(f.read())
            except OSError:
                self._memo[path] = None  # vanished or unreadable: never matches a stored hash
        return self._memo[path]


class FactsCache:
    def __init__(self, directory: str | os.PathLike, salt: str):
        """SALT: what every entry of this run shares (catalog content, flag layout, root)."""
        self.dir = Path(directory)
        self.salt = salt
        self.hashes = ContentHashes()
        self.writable = True
        self.hits = 0
        self.dropped = 0  # corrupt entries deleted
        self._joined: dict = {}  # (header path, root) -> absolute path

    # ------------------------------------------------------------- keys

    def identity(self, unit) -> str:
        parts = [code_fingerprint(), self.salt, unit.file, unit.directory, *unit.args]
        return _sha("\0".join(parts).encode("utf-8", "surrogateescape"))

    def _path(self, key: str) -> Path:
        return self.dir / "v1" / key[:2] / (key + ".json")

    def _abs(self, path: str, root: str) -> str:
        key = (path, root)  # the same headers come back for every TU: join each once
        hit = self._joined.get(key)
        if hit is None:
            hit = self._joined[key] = path if os.path.isabs(path) else os.path.join(root, path)
        return hit

    # ------------------------------------------------------------- lookup

    def get(self, unit, root: str) -> TUFacts | None:
        path = self._path(self.identity(unit))
        body = self._read(path)
        if body is None:
            return None
        if self.hashes.of(unit.file) != body.get("tu_hash"):
            return None
        for name, digest in body.get("headers", []):
            if self.hashes.of(self._abs(name, root)) != digest:
                return None
        try:
            facts = TUFacts.from_dict(body["facts"])
        except (KeyError, TypeError, ValueError):
            self._drop(path)  # written by an incompatible gfplint: rebuild
            return None
        self.hits += 1
        return facts

    def _read(self, path: Path) -> dict | None:
        try:
            data = path.read_bytes()
        except OSError:
            return None
        head, _, payload = data.partition(b"\n")
        if not head.startswith(MAGIC) or head[len(MAGIC):].decode("ascii", "replace") != _sha(payload):
            self._drop(path)
            return None
        try:
            body = json.loads(payload)
        except ValueError:
            self._drop(path)
            return None
        return body if isinstance(body, dict) else None

    def _drop(self, path: Path) -> None:
        self.dropped += 1
        try:
            path.unlink()
        except OSError:
            pass

    # ------------------------------------------------------------- store

    def put(self, unit, root: str, facts: TUFacts) -> None:
        tu_hash = self.hashes.of(unit.file)
        headers = [(h, self.hashes.of(self._abs(h, root))) for h in facts.headers]
        if tu_hash is None or any(d is None for _, d in headers):
            return  # something vanished while we parsed: do not record a guess
        # Files forced in by -include/-imacros are part of the TU even if libclang
        # does not list them as inclusions.
        for forced in _forced_includes(unit.args):
            headers.append((forced, self.hashes.of(forced)))
        body = {"tu": facts.tu, "tu_hash": tu_hash, "headers": headers, "facts": facts.to_dict()}
        payload = json.dumps(body, separators=(",", ":")).encode("utf-8", "surrogateescape")
        self._write(self._path(self.identity(unit)), MAGIC + _sha(payload).encode() + b"\n" + payload)

    def _write(self, path: Path, data: bytes) -> None:
        if not self.writable:
            return
        try:
            self._ensure_tag()
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.replace(tmp, path)
            except BaseException:
                _unlink(tmp)
                raise
        except OSError:
            self.writable = False  # read-only or full: keep going without storing

    def _ensure_tag(self) -> None:
        tag = self.dir / "CACHEDIR.TAG"
        if not tag.exists():
            self.dir.mkdir(parents=True, exist_ok=True)
            tag.write_bytes(CACHEDIR_TAG)


def _forced_includes(args) -> list[str]:
    out = []
    for i, a in enumerate(args):
        if a in ("-include", "-imacros") and i + 1 < len(args):
            out.append(args[i + 1])
    return out


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


class CacheCleanError(ValueError):
    pass


def clean(directory: str | os.PathLike) -> int:
    """Remove a gfplint cache directory; the number of entries it held.

    Refuses a directory without our CACHEDIR.TAG: `--cache-dir ~` must never
    turn `cache clean` into `rm -rf ~`.
    """
    d = Path(directory)
    if not d.exists():
        return 0
    tag = d / "CACHEDIR.TAG"
    try:
        ours = tag.read_bytes().startswith(CACHEDIR_TAG.split(b"\n")[0])
    except OSError:
        ours = False
    if not ours:
        raise CacheCleanError(f"{d}: not a gfplint cache (no CACHEDIR.TAG written by gfplint); not removing it")
    entries = sum(1 for _ in d.glob("v*/*/*.json"))
    shutil.rmtree(d)
    return entries


def run_salt(root: str, kernel: str, catalog) -> str:
    """What every entry of one run shares: the catalogs' content and the flag layout."""
    apis = sorted((name, repr(api)) for name, api in catalog.apis.items())
    ctx = getattr(catalog, "context", None)  # --context-catalog changes what the front end records
    context = ctx.fingerprint() if ctx is not None else ""
    return _sha(json.dumps([kernel, os.path.abspath(root), apis, context]).encode())
