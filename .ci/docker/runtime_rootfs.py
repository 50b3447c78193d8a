"""Assemble the runtime image's root file system but for the venv: the interpreter, its
standard library and the shared libraries that they and the venv load, nothing else (stdlib
only; the Dockerfile copies the venv on its own).

Run by the Dockerfile's build stage, after the venv is installed and slimmed:

    python runtime_rootfs.py /opt/venv /rootfs --user 10001:losscore

The runtime stage is ``FROM scratch`` plus this tree (bench/RESULTS.md, "Issue 16: a runtime
root without the distribution"). A Debian base carries a package manager, a shell, coreutils,
perl and friends that the service never runs (its processes are the interpreter and what it
forks: uvicorn workers, Dask's scheduler, workers and nannies, all ``python``). What is copied:

* the interpreter the venv points at, with the chain of symbolic links to it;
* its standard library (``sysconfig``'s ``stdlib``) and the C modules of ``lib-dynload``,
  without the parts no service process imports: the standard library's own tests, IDLE,
  Tkinter, turtle demos, ``ensurepip``, ``lib2to3``, the distribution's ``site-packages``,
  and the C modules for curses, dbm and NIS (with the ncurses, Berkeley DB, krb5 and TI-RPC
  libraries only they load);
* the dynamic loader and every library that ``ldd`` resolves for any ELF file above (libc,
  libstdc++, libssl for ``ssl``/``hashlib``, libsqlite3 for the model store, …) with their
  symbolic links, and ``/etc/ld.so.cache`` so that ``ctypes.CDLL("libc.so.6")`` (Dask's
  memory trimming) resolves as before;
* ``/etc``: ``passwd`` and ``group`` with root, nobody and the service's user only,
  ``nsswitch.conf``, ``os-release``, ``mime.types`` (``mimetypes``: the static files'
  types), ``services`` and ``protocols``, ``localtime``; CA certificates when the base has
  them;
* data the C library and Arrow read: the time-zone database (``/usr/share/zoneinfo``: Arrow's
  time-zone-aware compute, ``TZ``) and the ``C.UTF-8`` locale (``LANG=C.UTF-8``);
* for every Debian package a copied file belongs to, its copyright file (a package whose
  documentation directory the base dropped gets the one of a package built from the same
  source) and its stanza of ``/var/lib/dpkg/status`` (so licences ship and image scanners
  still see the versions), and ``/usr/share/common-licenses`` that those files refer to;
* an empty ``/tmp`` (mode 1777).

Prints the size of what was copied, by part, and the libraries ``ldd`` does not find (in the
build stage already: numba's optional TBB and OpenMP thread pools, a spare libgfortran copy
in ``scipy.libs``): the runtime image behaves as the base would for them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import stat
import subprocess
import sys
import sysconfig
from collections.abc import Iterable, Iterator
from pathlib import Path

STDLIB_UNUSED = {"test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3",
                 "site-packages", "dist-packages",
                 # Makefile, headers and static library for building extensions
                 os.path.basename(sysconfig.get_config_var("LIBPL") or "config")}
# C modules of lib-dynload nothing imports (their libraries stay out too)
DYNLOAD_UNUSED = ("_curses", "_curses_panel", "_dbm", "_gdbm", "nis")
ETC_FILES = ("nsswitch.conf", "ld.so.cache", "ld.so.conf", "os-release", "host.conf",
             "mime.types", "services", "protocols", "localtime", "timezone")
CERT_DIRS = ("/etc/ssl/certs", "/usr/share/ca-certificates", "/usr/lib/ssl")
DATA_DIRS = ("/usr/share/zoneinfo", "/usr/lib/locale/C.utf8", "/usr/share/common-licenses")
ELF_MAGIC = b"\x7fELF"
MERGED_USR_DIRS = ("/usr/lib/", "/usr/lib64/", "/usr/bin/", "/usr/sbin/")


def ensure_directory(directory: Path, root: Path) -> Path:
    """Create *directory* under *root* as it is here and return its real path: a component
    that is a symbolic link (``/lib`` -> ``usr/lib`` on a merged-/usr system) becomes the
    same link, its target a directory. Paths under *root* are only ever built from real
    paths, so no check below follows a link out of *root* into this file system."""
    real = Path("/")
    for name in directory.relative_to("/").parts:
        candidate = real / name
        dest = root / candidate.relative_to("/")
        if candidate.is_symlink():
            if not os.path.lexists(dest):
                os.symlink(os.readlink(candidate), dest)
            real = ensure_directory(Path(os.path.realpath(candidate)), root)
        else:
            dest.mkdir(exist_ok=True)
            real = candidate
    return real


def copy_entry(src: Path, root: Path, sizes: dict[str, int], part: str) -> None:
    """Copy one file, or one symbolic link and (recursively) what it points at, to the same
    path under *root*; a link to a directory is copied with its target directory, not that
    directory's contents."""
    ensure_directory(src.parent, root)  # the path as named, links included
    parent = ensure_directory(Path(os.path.realpath(src.parent)), root)
    dest = root / parent.relative_to("/") / src.name
    if os.path.lexists(dest):
        return
    if src.is_symlink():
        link = os.readlink(src)
        os.symlink(link, dest)
        named = parent / link  # an absolute link replaces the parent
        target = Path(os.path.realpath(named.parent)) / named.name  # ".." after links
        if target.is_dir():
            ensure_directory(target, root)
        elif target.exists():
            copy_entry(target, root, sizes, part)
        else:  # dangling here as well: kept as it is
            print(f"runtime_rootfs: dangling link {src} -> {link}")
        return
    shutil.copy2(src, dest)
    sizes[part] = sizes.get(part, 0) + src.stat().st_size


def walk_files(top: Path, skip: set[str]) -> Iterator[Path]:
    """Files and links under *top* (links to directories included, not followed)."""
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = [d for d in dirnames if d not in skip]
        for name in filenames:
            yield Path(dirpath) / name
        yield from (Path(dirpath) / d for d in dirnames if os.path.islink(Path(dirpath) / d))


def unused_dynload(path: Path) -> bool:
    return path.parent.name == "lib-dynload" and path.name.split(".", 1)[0] in DYNLOAD_UNUSED


def is_elf(path: Path) -> bool:
    if path.is_symlink() or not path.is_file():
        return False
    with path.open("rb") as f:
        return f.read(4) == ELF_MAGIC


def needed_libraries(elf_files: Iterable[Path]) -> tuple[set[Path], list[str]]:
    """What ``ldd`` resolves for each file (absolute paths, links not followed), and the
    "not found" lines."""
    found: set[Path] = set()
    missing: list[str] = []
    for path in elf_files:
        out = subprocess.run(["ldd", str(path)], capture_output=True, text=True, check=False)
        if "not a dynamic executable" in out.stderr + out.stdout:
            continue
        for line in out.stdout.splitlines():
            line = line.strip()
            if "not found" in line:
                missing.append(f"{path}: {line}")
            elif "=>" in line:
                target = line.split("=>", 1)[1].split("(", 1)[0].strip()
                if target:
                    found.add(Path(target))
            elif line.startswith("/"):  # the dynamic loader
                found.add(Path(line.split("(", 1)[0].strip()))
    return found, missing


def interpreter_chain(venv: Path) -> list[Path]:
    """The venv's ``python`` and each link up to the real interpreter (outside the venv)."""
    chain = []
    path = venv / "bin" / "python"
    while path.is_symlink():
        named = Path(os.path.realpath(path.parent)) / os.readlink(path)
        path = Path(os.path.realpath(named.parent)) / named.name  # ".." after links
        chain.append(path)
    return [p for p in chain if not str(p).startswith(str(venv) + "/")]


def write_accounts(root: Path, uid: int, name: str) -> None:
    etc = root / "etc"
    etc.mkdir(parents=True, exist_ok=True)
    (etc / "passwd").write_text(
        "root:x:0:0:root:/root:/usr/sbin/nologin\n"
        "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
        f"{name}:x:{uid}:{uid}::/nonexistent:/usr/sbin/nologin\n",
        encoding="utf-8",
    )
    (etc / "group").write_text(f"root:x:0:\nnogroup:x:65534:\n{name}:x:{uid}:\n", encoding="utf-8")


def debian_packages(root: Path) -> set[str]:
    """The Debian packages owning files copied under *root* (``dpkg -S``; none without dpkg)."""
    if shutil.which("dpkg") is None:
        return set()
    paths = [
        "/" + str(p.relative_to(root))
        for p in root.rglob("*")
        # files and links to files: a directory (``/lib``, a link on merged /usr) belongs
        # to dozens of packages
        if not str(p.relative_to(root)).startswith("opt/") and p.is_file()
    ]
    # on merged /usr (bookworm) dpkg still records /lib/…, /bin/… for what lives in /usr/lib, …
    paths += [p.removeprefix("/usr") for p in paths if p.startswith(MERGED_USR_DIRS)]
    owners: set[str] = set()
    for i in range(0, len(paths), 500):
        out = subprocess.run(["dpkg", "-S", *paths[i : i + 500]], capture_output=True, text=True,
                             check=False)
        for line in out.stdout.splitlines():
            if ": " in line and not line.startswith("diversion "):
                for pkg in line.split(": ", 1)[0].split(", "):
                    owners.add(pkg.split(":", 1)[0])
    return owners


def status_stanzas() -> dict[str, str]:
    """``/var/lib/dpkg/status`` by package name (empty without dpkg)."""
    status = Path("/var/lib/dpkg/status")
    if not status.exists():
        return {}
    stanzas = (st for st in status.read_text(encoding="utf-8").split("\n\n") if st.strip())
    return {st.split("\n", 1)[0].removeprefix("Package: "): st for st in stanzas}


def source_of(package: str, stanzas: dict[str, str]) -> str:
    for line in stanzas.get(package, "").splitlines():
        if line.startswith("Source: "):
            return line.removeprefix("Source: ").split(" ", 1)[0]
    return package


def copyright_file(package: str, stanzas: dict[str, str]) -> Path | None:
    """The package's copyright file, or that of an installed package built from the same
    source (``libstdc++6``'s documentation directory is a link to ``gcc-12-base``'s, which
    the base's documentation trim may have removed)."""
    own = Path("/usr/share/doc") / package / "copyright"
    if own.exists():
        return own
    source = source_of(package, stanzas)
    for other in sorted(stanzas):
        candidate = Path("/usr/share/doc") / other / "copyright"
        if source_of(other, stanzas) == source and candidate.exists():
            return candidate
    return None


def copy_package_records(root: Path, packages: set[str], sizes: dict[str, int]) -> None:
    """Each package's copyright file and ``/var/lib/dpkg/status`` stanza (nothing else of dpkg)."""
    stanzas = status_stanzas()
    for pkg in sorted(packages):
        found = copyright_file(pkg, stanzas)
        if found is None:
            print(f"runtime_rootfs: no copyright file for Debian package {pkg}")
        else:
            copy_entry(found, root, sizes, "licences and package records")
    if not stanzas:
        return
    kept = [stanzas[pkg] for pkg in sorted(packages) if pkg in stanzas]
    dest = root / "var/lib/dpkg/status"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text("\n\n".join(kept) + "\n", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("venv", type=Path)
    parser.add_argument("root", type=Path)
    parser.add_argument("--user", default="10001:losscore", help="uid:name of the service user")
    args = parser.parse_args()
    venv: Path = args.venv.resolve()
    root: Path = args.root
    root.mkdir(parents=True, exist_ok=False)
    sizes: dict[str, int] = {}

    for link in interpreter_chain(venv):
        copy_entry(link, root, sizes, "interpreter")
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    stdlib_files = [p for p in walk_files(stdlib, STDLIB_UNUSED) if not unused_dynload(p)]
    for path in stdlib_files:
        copy_entry(path, root, sizes, "standard library")
    interpreter = Path(os.path.realpath(sys.executable))
    elf_files = [interpreter, *(p for p in stdlib_files if is_elf(p)),
                 *(p for p in walk_files(venv, set()) if is_elf(p))]
    libraries, missing = needed_libraries(elf_files)
    for line in missing:
        print(f"runtime_rootfs: not found (in the build stage too): {line}")
    for lib in sorted(libraries):
        if not str(lib).startswith(str(venv) + "/"):
            copy_entry(lib, root, sizes, "shared libraries")

    for name in ETC_FILES:
        if (Path("/etc") / name).exists():
            copy_entry(Path("/etc") / name, root, sizes, "/etc")
    for cert_dir in CERT_DIRS:
        if Path(cert_dir).is_dir():
            for path in walk_files(Path(cert_dir), set()):
                copy_entry(path, root, sizes, "CA certificates")
    for data_dir in DATA_DIRS:
        if Path(data_dir).is_dir():
            for path in walk_files(Path(data_dir), set()):
                copy_entry(path, root, sizes, "time zones, C.UTF-8, licence texts")
    uid, name = args.user.split(":", 1)
    write_accounts(root, int(uid), name)
    copy_package_records(root, debian_packages(root), sizes)  # after all other files
    (root / "tmp").mkdir(exist_ok=True)
    (root / "tmp").chmod(stat.S_IRWXU | stat.S_IRWXG | stat.S_IRWXO | stat.S_ISVTX)

    for part, size in sorted(sizes.items(), key=lambda kv: -kv[1]):
        print(f"runtime_rootfs: {part:<30} {size / 1e6:8.1f} MB")
    print(f"runtime_rootfs: {'total':<30} {sum(sizes.values()) / 1e6:8.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
