"""Reading an artifact's files safely, before anything is built from them.

The loader reads every file through :func:`read_bounded` (a regular file inside the artifact
directory, no symlink, at most a bounded size), parses JSON through :func:`parse_json` (bounded
nesting depth), checks each ``.npz`` member's header with :func:`check_npz` (declared size
inside the file, no object dtype) and validates ``manifest.json`` against :class:`Manifest`
(unknown keys refused). Every failure is one :class:`ArtifactError` line naming the file.
"""

from __future__ import annotations

import io
import json
import os
import re
import stat
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from mlrails.errors import ArtifactError

#: largest manifest.json / signature.json read
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
#: largest content or model file read
MAX_FILE_BYTES = 2 * 1024 * 1024 * 1024
#: deepest JSON nesting accepted in any artifact file
MAX_JSON_DEPTH = 64
#: most members in one ``.npz``
MAX_NPZ_MEMBERS = 100_000

_SAFE_PART = r"[A-Za-z0-9_][A-Za-z0-9._-]{0,254}"
SAFE_NAME = re.compile(rf"{_SAFE_PART}(/{_SAFE_PART}){{0,7}}")


def safe_path(root: Path, name: str) -> Path:
    """``root / name`` if ``name`` is a plain relative name that stays inside ``root``."""
    if not SAFE_NAME.fullmatch(name) or any(part in (".", "..") for part in name.split("/")):
        raise ArtifactError(f"{root}: file name {name[:80]!r} in manifest.json is not a safe name")
    return root / name


def read_bounded(root: Path, name: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of the regular file ``root/name``: no symlink anywhere below ``root``, at most
    ``limit`` bytes; missing, special or oversized files are refused."""
    path = safe_path(root, name)
    parent = root
    for part in name.split("/")[:-1]:
        parent = parent / part
        try:
            if not stat.S_ISDIR(os.lstat(parent).st_mode):
                raise ArtifactError(f"{root}: {name} is not inside a plain directory")
        except FileNotFoundError:
            raise ArtifactError(f"{root}: artifact file {name} is missing") from None
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        raise ArtifactError(f"{root}: artifact file {name} is missing") from None
    except OSError as exc:
        if path.is_symlink():
            msg = f"{root}: {name} is a symlink; artifacts hold plain files"
            raise ArtifactError(msg) from None
        raise ArtifactError(f"{root}: cannot read {name} ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise ArtifactError(f"{root}: {name} is not a regular file")
        if st.st_size > limit:
            raise ArtifactError(f"{root}: {name} is {st.st_size} bytes, over the {limit} bound")
        data = f.read(limit + 1)
    if len(data) > limit:
        raise ArtifactError(f"{root}: {name} grew over the {limit} byte bound while read")
    return data


def parse_json(root: Path, name: str, data: bytes) -> Any:
    """``data`` parsed as JSON, nesting at most :data:`MAX_JSON_DEPTH` deep."""
    try:
        obj = json.loads(data)
    except RecursionError:
        raise ArtifactError(f"{root}: {name} is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{root}: {name} is not valid JSON ({exc})") from None
    if _depth(obj) > MAX_JSON_DEPTH:
        raise ArtifactError(f"{root}: {name} is nested deeper than {MAX_JSON_DEPTH}")
    return obj


def _depth(obj: Any) -> int:
    """Nesting depth of parsed JSON, iteratively (no recursion on hostile input)."""
    deepest, stack = 0, [(obj, 1)]
    while stack:
        node, d = stack.pop()
        if isinstance(node, dict):
            node = list(node.values())
        if isinstance(node, list):
            deepest = max(deepest, d)
            if d > MAX_JSON_DEPTH:
                return d
            stack.extend((child, d + 1) for child in node)
    return deepest


def check_npz(root: Path, name: str, data: bytes, *, required: bool = True) -> None:
    """Refuse an ``.npz`` whose members are not ``.npy`` arrays whose data is inside the file
    (declared shape × item size at most the member's size), or hold objects; an empty one when
    ``required``."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            members = z.infolist()
            if len(members) > MAX_NPZ_MEMBERS:
                raise ArtifactError(f"{root}: {name} has {len(members)} members, too many")
            if required and not members:
                raise ArtifactError(f"{root}: {name} holds no arrays")
            for m in members:
                if not m.filename.endswith(".npy") or m.file_size > MAX_FILE_BYTES:
                    what = f"{name} member {m.filename[:80]!r}"
                    raise ArtifactError(f"{root}: {what} is not an array")
                with z.open(m) as f:
                    version = np.lib.format.read_magic(f)
                    if version == (1, 0):
                        shape, _, dtype = np.lib.format.read_array_header_1_0(f)
                    elif version == (2, 0):
                        shape, _, dtype = np.lib.format.read_array_header_2_0(f)
                    else:
                        raise ValueError(f"npy version {version}")
                if dtype.hasobject:
                    raise ArtifactError(f"{root}: {name} member {m.filename!r} has object dtype")
                nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
                if nbytes > m.file_size:
                    raise ArtifactError(
                        f"{root}: {name} member {m.filename!r} claims {nbytes} bytes "
                        f"in {m.file_size}; corrupt"
                    )
    except ArtifactError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, TypeError) as exc:
        raise ArtifactError(f"{root}: {name} is not a valid .npz ({exc})") from None
