#!/usr/bin/env python3
"""Set up the project's virtual environment from nothing: `make setup` runs this file.

Steps: a venv with Python >= 3.11; build tools (setuptools >= 77, < 81, wheel, ninja); torch 2.13.0
(the local CPU wheel); mmcv 2.1.0 built with its compiled ops, the wheel cached so that only the
first setup on a machine builds it; the project, editable, with its dev extras (mmengine, mmdet
3.3.0, pycocotools, the tools). Each step first checks whether its result is already there. A
failure prints one line saying what is missing and how to fix it (pip's output stays in the log),
exits non-zero and removes a venv this run created. Standard library only, and syntax that old
interpreters parse far enough to print the version error.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
LOG = ROOT / ".setup.log"
STAMP = VENV / ".lors-setup-stamp"
MIN_PY = (3, 11)
TORCH = "2.13.0"
MMCV = "2.1.0"
SETUPTOOLS = "setuptools>=77,<81"
RUNTIME_BOUNDS = ("mmengine>=0.10.4,<0.11", "numpy>=1.24,<3")
MIN_FREE_GB = 6.0
WHEEL_CACHE = Path(os.environ.get("LORS_WHEEL_CACHE", Path.home() / ".cache" / "lors" / "wheels"))
T0 = time.monotonic()


class SetupError(Exception):
    """A step failed for a reason the user can act on; the message is the one line we print."""


def say(msg: str) -> None:
    print(f"[{time.monotonic() - T0:6.1f}s] {msg}", flush=True)


def log_write(text: str) -> None:
    with LOG.open("a") as fh:
        fh.write(text)


def run(cmd: list, what: str, env: dict | None = None, progress: bool = False) -> str:
    """Run a command, its output into the log; on failure raise one line from what it said."""
    log_write(f"\n$ {' '.join(str(c) for c in cmd)}\n")
    full_env = dict(os.environ, **(env or {}))
    full_env.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    proc = subprocess.Popen(
        [str(c) for c in cmd],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=full_env,
        cwd=ROOT,
    )
    lines = []
    last_shown = 0.0
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        log_write(line)
        if progress:
            m = re.search(r"\[(\d+)/(\d+)\]", line)
            now = time.monotonic()
            if m and now - last_shown > 5:
                last_shown = now
                say(f"      compiling mmcv ops {m.group(1)}/{m.group(2)}")
    if proc.wait() != 0:
        raise SetupError(diagnose("".join(lines[-400:]), what))
    return "".join(lines)


def diagnose(output: str, what: str) -> str:
    """Turn a pip/compiler failure into one actionable line."""
    net = re.search(
        r"(Network is unreachable|Temporary failure in name resolution|Failed to establish a new "
        r"connection|Could not fetch URL|ConnectionError|ReadTimeoutError|No route to host)",
        output,
    )
    missing = re.search(r"No matching distribution found for (\S+)", output)
    if net or (missing and "Could not find a version" in output):
        pkg = missing.group(1) if missing else what
        return (
            f"{what}: cannot download {pkg} from the package index (no network?); connect to "
            f"PyPI or point PIP_INDEX_URL at a mirror, then run `make setup` again"
        )
    if re.search(r"No space left on device", output):
        return f"{what}: the disk is full; free {MIN_FREE_GB:.0f} GB and run `make setup` again"
    compiler = r"(command '(c|g)\+\+' failed|(gcc|c\+\+): not found|error: command .*(gcc|c\+\+))"
    if re.search(compiler, output):
        return f"{what}: the C++ compiler failed; install gcc/g++ (apt-get install build-essential)"
    tail = [ln.strip() for ln in output.splitlines() if ln.strip()]
    err = next((ln for ln in reversed(tail) if ln.startswith("ERROR")), tail[-1] if tail else "")
    return f"{what} failed: {err[:200]} (full output: {LOG.name})"


def check_host() -> None:
    if sys.version_info[:2] < MIN_PY:
        found = ".".join(map(str, sys.version_info[:3]))
        raise SetupError(
            f"Python {found} is too old: this project needs Python >= 3.11; install it and run "
            f"`make setup PYTHON=python3.11` (or put python3.11 first on PATH)"
        )
    if shutil.which("c++") is None and shutil.which("g++") is None and not cached_mmcv():
        raise SetupError(
            "no C++ compiler on PATH (needed once to build mmcv's ops); install "
            "gcc and g++ (apt-get install build-essential) and run `make setup` again"
        )
    free_gb = shutil.disk_usage(ROOT).free / 2**30
    if free_gb < MIN_FREE_GB and not VENV.exists():
        raise SetupError(
            f"only {free_gb:.1f} GB free on {ROOT}; the venv needs about "
            f"{MIN_FREE_GB:.0f} GB: free some space and run `make setup` again"
        )


def vpy() -> Path:
    return VENV / "bin" / "python"


def probe(code: str, *args: str) -> subprocess.CompletedProcess:
    """Run Python code inside the venv, its output captured."""
    return subprocess.run([str(vpy()), "-c", code, *args], capture_output=True, text=True, cwd=ROOT)


def last_line(proc: subprocess.CompletedProcess) -> str:
    return (proc.stderr.strip().splitlines() or ["?"])[-1]


def pip(*args: object) -> list:
    """A pip command of the venv."""
    return [vpy(), "-m", "pip", *args]


def venv_ok() -> bool:
    if not vpy().exists():
        return False
    proc = probe("import sys; print(sys.version_info[:2] >= (3, 11))")
    return proc.returncode == 0 and proc.stdout.strip() == "True"


def installed(dist: str) -> str:
    """Version of a distribution inside the venv, or '' when it is not there."""
    code = (
        "import importlib.metadata as m, sys\n"
        "try: print(m.version(sys.argv[1]))\nexcept m.PackageNotFoundError: print('')"
    )
    return probe(code, dist).stdout.strip()


def cache_dir() -> Path:
    # mmcv's ops link against torch's C++ ABI: one cache folder per torch and Python version.
    tag = f"torch{TORCH}-cp{sys.version_info[0]}{sys.version_info[1]}"
    return WHEEL_CACHE / tag


def cached_mmcv():
    found = sorted(cache_dir().glob(f"mmcv-{MMCV}-*.whl"))
    return found[-1] if found else None


def project_hash() -> str:
    h = hashlib.sha256()
    for name in ("pyproject.toml", "tools/bootstrap.py"):
        h.update((ROOT / name).read_bytes())
    return h.hexdigest()[:16]


def mmcv_ops_error() -> str:
    """'' when `mmcv.ops` imports in the venv, else the last line of what the import said."""
    proc = probe("import mmcv.ops; from mmcv.ops import nms")
    if proc.returncode == 0:
        return ""
    log_write(proc.stderr)
    return last_line(proc)


STEPS = []


def step(title):
    def wrap(fn):
        STEPS.append((title, fn))
        return fn

    return wrap


@step("virtual environment .venv (Python >= 3.11)")
def make_venv() -> str:
    if venv_ok():
        return "already there"
    if VENV.exists():
        shutil.rmtree(VENV)
    run([sys.executable, "-m", "venv", str(VENV)], "creating .venv")
    return f"created with Python {sys.version.split()[0]}"


@step("build tools (setuptools>=77,<81, wheel, ninja)")
def build_tools() -> str:
    st = installed("setuptools")
    if st and 77 <= int(st.split(".")[0]) < 81 and installed("wheel") and installed("ninja"):
        return f"already there (setuptools {st})"
    run(
        pip("install", "-q", SETUPTOOLS, "wheel", "ninja"),
        "installing build tools",
    )
    return f"setuptools {installed('setuptools')}"


@step(f"torch {TORCH} (CPU)")
def torch_step() -> str:
    have = installed("torch")
    if have.split("+")[0] == TORCH:
        return f"already there ({have})"
    run(pip("install", "-q", f"torch=={TORCH}"), f"installing torch {TORCH}")
    return installed("torch")


@step(f"mmcv {MMCV} with compiled ops")
def mmcv_step() -> str:
    if installed("mmcv") == MMCV and not mmcv_ops_error():
        return "already there, ops import"
    wheel = cached_mmcv()
    if wheel is None:
        say(f"      no cached wheel in {cache_dir()}: building (6-10 min on 2 cores, once)")
        cache_dir().mkdir(parents=True, exist_ok=True)
        run(
            pip(
                "wheel",
                "-v",
                "--no-build-isolation",
                "--no-deps",
                "-w",
                cache_dir(),
                f"mmcv=={MMCV}",
            ),
            f"building mmcv {MMCV}",
            env={"MMCV_WITH_OPS": "1", "MAX_JOBS": str(os.cpu_count() or 2)},
            progress=True,
        )
        wheel = cached_mmcv()
        if wheel is None:
            raise SetupError(f"building mmcv left no wheel in {cache_dir()} (see {LOG.name})")
    run(pip("install", "-q", "--no-deps", "--force-reinstall", wheel), "installing the mmcv wheel")
    # mmcv.ops imports mmengine: its runtime needs come now, bounded as pyproject bounds them.
    run(pip("install", "-q", wheel, *RUNTIME_BOUNDS), "installing what mmcv needs at run time")
    err = mmcv_ops_error()
    if err:
        raise SetupError(
            f"mmcv installed from {wheel.name} but `import mmcv.ops` fails ({err[:120]}); "
            f"delete {cache_dir()} and run `make setup` again to rebuild it"
        )
    return f"installed from {wheel.name}"


@step("the project, editable, with dev extras (mmengine, mmdet 3.3.0, pycocotools, tools)")
def project_step() -> str:
    if STAMP.exists() and STAMP.read_text().strip() == project_hash():
        return "already there (pyproject unchanged)"
    run(pip("install", "-q", "-e", ".[dev]"), "installing the project")
    STAMP.write_text(project_hash() + "\n")
    return "installed"


@step("checking the stack imports (torch, mmcv.ops, mmengine, mmdet, lors)")
def verify_step() -> str:
    code = (
        "import torch, mmcv, mmcv.ops, mmengine, mmdet, mmdet.models, lors, harness, analysis;"
        "print(f'torch {torch.__version__}, mmcv {mmcv.__version__}, "
        "mmengine {mmengine.__version__}, mmdet {mmdet.__version__}')"
    )
    proc = probe(code)
    log_write(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        raise SetupError(f"the installed stack does not import: {last_line(proc)} (see {LOG.name})")
    return proc.stdout.strip()


def main() -> int:
    created = not VENV.exists()
    LOG.write_text(f"make setup, {time.ctime()}\n")
    try:
        check_host()
        for i, (title, fn) in enumerate(STEPS, 1):
            say(f"[{i}/{len(STEPS)}] {title} ...")
            t = time.monotonic()
            note = fn()
            say(f"      {note} ({time.monotonic() - t:.1f}s)")
    except SetupError as err:
        if created and VENV.exists():
            shutil.rmtree(VENV, ignore_errors=True)
        print(f"setup failed: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        if created and VENV.exists():
            shutil.rmtree(VENV, ignore_errors=True)
        print("setup interrupted; run `make setup` again to finish", file=sys.stderr)
        return 130
    say("setup complete: activate with `source .venv/bin/activate`, test with `make test`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
