"""Build the standalone bceviz app: ``python packaging/build.py``.

1. PyInstaller builds the one-folder bundle from ``packaging/bceviz.spec``
   into ``dist/bceviz/`` (and ``dist/bceviz.app`` on macOS);
2. on Linux the ``.desktop`` file and its installer script are added;
3. the bundle is archived as ``dist/bceviz-<version>-<platform>.tar.gz``
   (``.zip`` on Windows and macOS);
4. the folder and archive sizes are printed, and the build fails (exit 1) if
   either is over its budget (Linux: 170 MB folder, 65 MB archive; MB = 10^6
   bytes, the stricter reading).

Options: ``--dist DIR`` and ``--work DIR`` move the output and PyInstaller's
scratch folder (default ``dist/`` and ``build/pyinstaller/`` in the
repository); ``--self-test`` runs the bundle's ``--self-test`` afterwards.
Needs PyInstaller: ``pip install -e ".[package]"``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SPEC = REPO / "packaging" / "bceviz.spec"
MB = 1_000_000
MIB = 1 << 20
#: Size budgets in bytes, per platform (only Linux's is measured and enforced
#: in CI; the others are generous guards against a bundle that exploded).
BUDGETS = {
    "linux": {"folder": 170 * MB, "archive": 65 * MB},
    "windows": {"folder": 250 * MB, "archive": 110 * MB},
    "macos": {"folder": 300 * MB, "archive": 130 * MB},
}
#: Files put next to the Linux executable.
LINUX_EXTRAS = ("bceviz.desktop", "install-desktop-entry.sh")


def system() -> str:
    """'linux', 'windows' or 'macos'."""
    if sys.platform.startswith("win"):
        return "windows"
    if sys.platform == "darwin":
        return "macos"
    return "linux"


def platform_tag() -> str:
    """e.g. linux-x86_64, windows-amd64, macos-arm64."""
    return f"{system()}-{platform.machine().lower() or 'unknown'}"


def version() -> str:
    sys.path.insert(0, str(REPO))
    try:
        import bceviz
    finally:
        sys.path.pop(0)
    return bceviz.__version__


def tree_size(path: Path) -> int:
    """Bytes in all files under path (symlinks counted as links, not followed)."""
    if path.is_file():
        return path.stat().st_size
    total = 0
    for root, dirs, files in os.walk(path):
        for name in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            total += os.lstat(os.path.join(root, name)).st_size
    return total


def human(n_bytes: int) -> str:
    return f"{n_bytes / MB:.1f} MB ({n_bytes / MIB:.1f} MiB)"


def run_pyinstaller(dist: Path, work: Path) -> None:
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        sys.exit('build.py: PyInstaller is not installed: pip install -e ".[package]"')
    cmd = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
           "--distpath", str(dist), "--workpath", str(work), str(SPEC)]
    print("build.py: " + " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=REPO)


def add_linux_extras(folder: Path) -> None:
    for name in LINUX_EXTRAS:
        target = folder / name
        shutil.copy2(REPO / "packaging" / name, target)
        if name.endswith(".sh"):
            target.chmod(0o755)


def _tar_filter(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


def make_archive(dist: Path, stem: str) -> Path:
    """dist/<stem>.tar.gz (Linux) or .zip holding the bundle folder (the .app on macOS)."""
    kind = system()
    if kind == "linux":
        archive = dist / f"{stem}.tar.gz"
        # Level 6 (what `tar czf` uses): level 9 saves 0.3 MB and takes three times as long.
        with tarfile.open(archive, "w:gz", compresslevel=6) as tar:
            tar.add(dist / "bceviz", arcname="bceviz", filter=_tar_filter)
        return archive
    archive = dist / f"{stem}.zip"
    archive.unlink(missing_ok=True)
    if kind == "macos" and shutil.which("ditto"):
        # ditto keeps the .app's symlinks and extended attributes (code signatures).
        subprocess.run(["ditto", "-c", "-k", "--sequesterRsrc", "--keepParent",
                        str(dist / "bceviz.app"), str(archive)], check=True)
        return archive
    source = dist / ("bceviz.app" if kind == "macos" else "bceviz")
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for path in sorted(source.rglob("*")):
            if path.is_file():
                zf.write(path, Path(source.name) / path.relative_to(source))
    return archive


def largest(folder: Path, count: int = 8) -> list[tuple[int, str]]:
    """The biggest entries directly inside folder/_internal (like du | sort -h)."""
    inner = folder / "_internal"
    if not inner.is_dir():
        return []
    sizes = [(os.lstat(p).st_size if p.is_symlink() else tree_size(p), p.name)
             for p in inner.iterdir()]
    return sorted(sizes, reverse=True)[:count]


def self_test(folder: Path) -> int:
    exe = folder / ("bceviz.exe" if system() == "windows" else "bceviz")
    env = {"QT_QPA_PLATFORM": "offscreen", "HOME": os.environ.get("HOME", str(folder)),
           "PATH": os.defpath}
    if system() == "windows":
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([str(exe), "--self-test"], env=env, capture_output=True, text=True,
                            timeout=300)
    print(result.stdout, end="")
    if result.returncode != 0:
        print(result.stderr, end="", file=sys.stderr)
    return result.returncode


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dist", type=Path, default=REPO / "dist",
                        help="output folder (default: dist/ in the repository)")
    parser.add_argument("--work", type=Path, default=REPO / "build" / "pyinstaller",
                        help="PyInstaller's scratch folder (default: build/pyinstaller/)")
    parser.add_argument("--self-test", action="store_true",
                        help="run the bundle's --self-test after building")
    args = parser.parse_args(argv)
    dist, work = args.dist.resolve(), args.work.resolve()

    started = time.perf_counter()
    run_pyinstaller(dist, work)
    built = time.perf_counter()
    folder = dist / "bceviz"
    if system() == "linux":
        add_linux_extras(folder)
    stem = f"bceviz-{version()}-{platform_tag()}"
    archive = make_archive(dist, stem)
    archived = time.perf_counter()

    budget = BUDGETS[system()]
    folder_bytes, archive_bytes = tree_size(folder), archive.stat().st_size
    print(f"build.py: PyInstaller {built - started:.0f} s, archive {archived - built:.0f} s")
    print("build.py: largest parts of _internal/:")
    for size, name in largest(folder):
        print(f"    {size / MIB:7.1f} MiB  {name}")
    over = []
    for what, path, size in (("folder", folder, folder_bytes), ("archive", archive, archive_bytes)):
        ok = size <= budget[what]
        print(f"build.py: {what:7} {path}  {human(size)}  budget {budget[what] / MB:.0f} MB  "
              f"{'ok' if ok else 'OVER BUDGET'}")
        if not ok:
            over.append(what)
    if system() == "macos":
        print(f"build.py: app     {dist / 'bceviz.app'}  {human(tree_size(dist / 'bceviz.app'))}")
    if over:
        print(f"build.py: FAILED: the {' and the '.join(over)} exceed the size budget; "
              "see packaging/README.md for what takes space", file=sys.stderr)
        return 1
    if args.self_test and self_test(folder) != 0:
        print("build.py: FAILED: the bundle's self-test failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
