"""The **project** source: what a repository's files say about automation and packaging.

What its CI runs automatically, container and orchestration files, dependency lock files and
update bots, test files. Detection is plain regular expressions on file text, see
:data:`COMMAND_PATTERNS` and :func:`scan_project`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from mlrails.score.facts import ProjectFacts
from mlrails.score.readers.common import Unusable

#: command kinds and the regular expression that finds each in a line of a CI file (comments
#: stripped). ``bench_gate`` is a run compared with ``--baseline`` whose regression fails the
#: job (``--fail-on regression``, the default); ``score_gate`` is ``mlrails score --min``.
COMMAND_PATTERNS: dict[str, re.Pattern[str]] = {
    "tests": re.compile(r"\b(pytest|py\.test|tox|nox|unittest|hatch\s+test|make\s+(test|check)\b)"),
    "bench": re.compile(r"\bmlrails\s+bench\s+(?!verify\b|report\b|--init\b)\S"),
    "bench_gate": re.compile(
        r"\bmlrails\s+bench\s+(?!verify\b|report\b)(?=.*--baseline)(?!.*--fail-on[ =]never)"
    ),
    "bench_verify": re.compile(r"\bmlrails\s+bench\s+verify\b"),
    "mismatch": re.compile(r"\bmlrails\s+mismatch\b"),
    "drift": re.compile(r"\bmlrails\s+drift\b"),
    "describe": re.compile(r"\bmlrails\s+describe\b(?!.*--init)"),
    "score": re.compile(r"\bmlrails\s+score\b"),
    "score_gate": re.compile(r"\bmlrails\s+score\b.*--min\b"),
    "fit": re.compile(r"\bmlrails\s+fit\b"),
    "container_build": re.compile(
        r"\b(docker|podman|buildah)\s+(buildx\s+)?build\b|docker/build-push-action|kaniko"
    ),
    "integration": re.compile(
        r"\bmlrails\s+(check|demo|serve)\b|\bpytest\b.*\b(integration|e2e)\b"
        r"|\bdocker[- ]compose\b.*\bup\b|\bdocker\s+compose\b.*\bup\b"
    ),
}

#: CI configuration files (relative globs); a Makefile target or a pre-commit hook counts as
#: automated only when one of these calls it (``make TARGET``, ``pre-commit run``)
CI_GLOBS = (
    ".github/workflows/*.yml",
    ".github/workflows/*.yaml",
    ".gitlab-ci.yml",
    ".gitlab-ci.yaml",
    ".ci/*",
    ".circleci/config.yml",
    "Jenkinsfile",
    "azure-pipelines.yml",
    "azure-pipelines.yaml",
    "bitbucket-pipelines.yml",
)
CONTAINER_GLOBS = ("Dockerfile", "Dockerfile.*", "*.Dockerfile", "Containerfile")
COMPOSE_GLOBS = ("docker-compose*.yml", "docker-compose*.yaml", "compose.yml", "compose.yaml")
LOCK_FILES = (
    "uv.lock",
    "poetry.lock",
    "Pipfile.lock",
    "pdm.lock",
    "conda-lock.yml",
    "requirements.lock",
    "package-lock.json",
)
BOT_FILES = (
    ".github/dependabot.yml",
    ".github/dependabot.yaml",
    "renovate.json",
    "renovate.json5",
    ".renovaterc",
    ".renovaterc.json",
    ".github/renovate.json",
    ".github/renovate.json5",
)
_SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".nox", "build"}
_K8S = re.compile(r"^\s*kind:\s*(Deployment|StatefulSet|DaemonSet|Service|Job|CronJob)\b", re.M)
_MAKE_CALL = re.compile(r"\bmake\b((?:[ \t]+-\S+)*)(?:[ \t]+([A-Za-z0-9_.-]+))?")
_REVIEW = re.compile(r"\b(pull_request|merge_request|merge_requests|pr:)\b")
_FEATURE_TEST = re.compile(r"feature|pipeline|preprocess|transform|etl", re.I)
_MAX_FILES = 5000


def scan_project(path: Path) -> ProjectFacts:
    """Find CI, container, lock and bot files under ``path`` and what the CI runs."""
    if not path.is_dir():
        raise Unusable(f"{path}: not a project directory (does not exist or is a file)")
    ci_files = sorted({p for g in CI_GLOBS for p in path.glob(g) if p.is_file()})
    makefile = path / "Makefile"
    targets = _make_targets(_read(makefile)) if makefile.is_file() else {}
    precommit = path / ".pre-commit-config.yaml"
    hooks = _read(precommit) if precommit.is_file() else ""

    automated: dict[str, set[str]] = {}
    documented: dict[str, set[str]] = {}
    review: list[str] = []
    called_targets: set[str] = set()
    runs_precommit = False
    for f in ci_files:
        text = _strip_comments(_read(f))
        rel = _rel(f, path)
        _match(text, rel, automated)
        if _REVIEW.search(text) or f.name == "Jenkinsfile":
            review.append(rel)
        for m in _MAKE_CALL.finditer(text):
            called_targets.add(m.group(2) or next(iter(targets), ""))
        runs_precommit = runs_precommit or "pre-commit run" in text
    for name, recipe in targets.items():
        into = automated if name in called_targets else documented
        _match(recipe, f"Makefile ({name})", into)
    if hooks:
        _match(
            _strip_comments(hooks),
            ".pre-commit-config.yaml",
            automated if runs_precommit else documented,
        )
    for f in (path / "scripts").glob("*") if (path / "scripts").is_dir() else ():
        if f.is_file() and f.stat().st_size < 200_000:
            _match(_strip_comments(_read(f)), _rel(f, path), documented)
    for kind in automated:
        documented.pop(kind, None)
    review.extend(
        _rel(p, path)
        for p in (
            path / "CODEOWNERS",
            path / ".github" / "CODEOWNERS",
            path / "docs" / "CODEOWNERS",
        )
        if p.is_file()
    )

    files = list(_walk(path))
    containers = [p for p in files if any(p.match(g) for g in CONTAINER_GLOBS + COMPOSE_GLOBS)]
    orchestration = [p for p in files if p.name == "Chart.yaml"]
    orchestration += [p for p in files if any(p.match(g) for g in COMPOSE_GLOBS)]
    orchestration += [
        p
        for p in files
        if p.suffix in (".yml", ".yaml")
        and p.name != "Chart.yaml"
        and p not in ci_files
        and p.stat().st_size < 500_000
        and "apiVersion:" in (text := _read(p))
        and _K8S.search(text)
    ]
    locks = [path / n for n in LOCK_FILES if (path / n).is_file()]
    locks += [p for p in path.glob("requirements*.txt") if _pinned(_read(p))]
    tests = [p for p in files if p.suffix == ".py" and _is_test(p.name)]
    return ProjectFacts(
        path=str(path),
        ci_files=tuple(_rel(f, path) for f in ci_files),
        automated={k: tuple(sorted(v)) for k, v in sorted(automated.items())},
        documented={k: tuple(sorted(v)) for k, v in sorted(documented.items())},
        review_gate=tuple(sorted(set(review))),
        version_control=any((d / ".git").exists() for d in (path, *path.resolve().parents)),
        container_files=tuple(sorted({_rel(p, path) for p in containers})),
        orchestration_files=tuple(sorted({_rel(p, path) for p in orchestration})),
        lock_files=tuple(sorted(_rel(p, path) for p in locks)),
        dependency_bots=tuple(_rel(path / n, path) for n in BOT_FILES if (path / n).is_file()),
        test_files=len(tests),
        feature_test_files=sum(1 for p in tests if _FEATURE_TEST.search(p.name)),
    )


def _match(text: str, where: str, into: dict[str, set[str]]) -> None:
    for line in text.splitlines():
        for kind, pattern in COMMAND_PATTERNS.items():
            if pattern.search(line):
                into.setdefault(kind, set()).add(where)


def _make_targets(text: str) -> dict[str, str]:
    """Makefile target → its recipe lines (tab-indented lines after ``name:``)."""
    targets: dict[str, str] = {}
    current: str | None = None
    for line in text.splitlines():
        head = re.match(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", line)
        if head and not line.startswith("\t"):
            current = head.group(1)
            if current.startswith("."):
                current = None
            else:
                targets.setdefault(current, "")
        elif current is not None and line.startswith("\t"):
            targets[current] += _strip_comments(line) + "\n"
        elif line.strip() and not line.startswith("\t"):
            current = None
    return targets


def _strip_comments(text: str) -> str:
    return "\n".join(re.sub(r"(^|\s)#.*$", "", line) for line in text.splitlines())


def _pinned(text: str) -> bool:
    reqs = [
        ln.strip()
        for ln in text.splitlines()
        if ln.strip() and not ln.strip().startswith(("#", "-"))
    ]
    return bool(reqs) and all("==" in r or "@" in r for r in reqs)


def _is_test(name: str) -> bool:
    return name.startswith("test_") or name.endswith("_test.py")


def _walk(root: Path) -> Iterator[Path]:
    count = 0
    stack = [root]
    while stack and count < _MAX_FILES:
        d = stack.pop()
        try:
            entries = sorted(d.iterdir())
        except OSError:
            continue
        for p in entries:
            if p.is_dir() and not p.is_symlink():
                if p.name not in _SKIP_DIRS and not p.name.endswith(".egg-info"):
                    stack.append(p)
            elif p.is_file():
                count += 1
                yield p


def _read(p: Path) -> str:
    try:
        return p.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _rel(p: Path, root: Path) -> str:
    try:
        return p.relative_to(root).as_posix()
    except ValueError:
        return str(p)
