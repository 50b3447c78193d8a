"""Remove from an installed virtual environment what the service never uses at run time.

Run by the Dockerfile's build stage on /opt/venv, after `pip install` (stdlib only):

    python slim_venv.py /opt/venv [--sstrip]

Prints what each rule removed (files, bytes) so the build log shows where the size went.
Every rule is about files that are read only when *building* against a package, when testing
it, or by a feature the service does not offer (bench/RESULTS.md, "Issue 16: image size"):

* ``tests`` directories shipped inside packages (numpy, pandas, scipy, pyarrow, dask, …);
* compile-time files: C/C++ headers and ``include`` directories, Cython sources
  (``.pyx``, ``.pxd``, ``.pxi``), C sources, static libraries (``.a``), pkg-config files, type
  stubs (``.pyi``: read by type checkers only);
* pyarrow's Arrow Flight RPC (``pyarrow.flight``) and S3 file system (``pyarrow.fs.S3FileSystem``):
  the service reads datasets from local paths (``LOSSCORE_DATASET_ROOTS``); both are loaded
  only through ``pyarrow.flight`` / ``pyarrow._s3fs``, which ``pyarrow.fs`` imports inside a
  ``try`` (the class is then absent); no other Arrow library links them (``readelf -d``);
  pyarrow's C++ test module; the two unversioned copies of each ``libarrow_python*.so``
  (the extension modules load the ``.so.NNNN`` SONAME) become symbolic links;
* with ``--sstrip``: what follows the loaded part of each shared library (ELFkickers'
  ``sstrip``): the section header table and the sections no segment maps (``.symtab``,
  ``.strtab``, ``.comment``, debug sections). Every byte that a program header points at
  (ELF header, program headers, all segments) is kept as it was, so what the loader maps,
  the dynamic symbols that ``dlopen`` / ctypes look up and the unwind tables are unchanged;
  only the ELF header's section-table fields are zeroed (the loader never reads sections).
  A file whose section table or unmapped sections lie before its last segment (auditwheel's
  patchelf appends a segment: the ``*.libs/`` copies) is left as it is. This needs no
  ``strip`` (binutils), which neither the debootstrap base nor python:3.11-slim has.
"""

from __future__ import annotations

import os
import shutil
import struct
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

COMPILE_TIME_SUFFIXES = (".pyx", ".pxd", ".pxi", ".c", ".cc", ".cpp", ".h", ".hpp", ".a", ".pyi")
COMPILE_TIME_DIRS = {"include", "includes", "pkgconfig"}
# directories of sources for building against a package: (package, relative path)
SOURCE_DIRS = [("pyarrow", "src"), ("numpy", "_core/lib"), ("numpy", "random/lib")]
# pyarrow components the service never loads (see the module docstring)
PYARROW_UNUSED = (
    "flight.py",
    "_flight.*.so",
    "libarrow_flight.so*",
    "libarrow_python_flight.so*",
    "_s3fs.*.so",
    "libarrow_s3.so*",
    "_pyarrow_cpp_tests.*.so",
)

totals: dict[str, list[int]] = {}


def size_of(path: Path) -> int:
    if path.is_symlink() or path.is_file():
        return path.lstat().st_size
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() or p.is_symlink())


def remove(rule: str, path: Path) -> None:
    files = 1 if not path.is_dir() or path.is_symlink() else sum(1 for p in path.rglob("*"))
    count = totals.setdefault(rule, [0, 0])
    count[0] += files
    count[1] += size_of(path)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def walk_dirs(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, _ in os.walk(root):
        for name in list(dirnames):
            yield Path(dirpath) / name


def prune(site: Path) -> None:
    for path in list(walk_dirs(site)):
        if not path.exists() or path.parent == site or ".dist-info" in str(path):
            continue  # (licence files stay)
        if path.name == "tests":
            remove("tests/ directories inside packages", path)
        elif path.name in COMPILE_TIME_DIRS and not (path / "__init__.py").exists():
            remove("headers, include/ and pkgconfig/ directories", path)  # not uvloop.includes
    for package, rel in SOURCE_DIRS:
        if (site / package / rel).is_dir():
            remove("C/C++ sources and static libraries", site / package / rel)
    for path in list(site.rglob("*")):
        if ".dist-info" in str(path):
            continue
        if path.is_file() and path.name.endswith(COMPILE_TIME_SUFFIXES):
            kind = (
                "type stubs (.pyi)"
                if path.suffix == ".pyi"
                else "C/C++/Cython sources, static libraries"
            )
            remove(kind, path)
    arrow = site / "pyarrow"
    if arrow.is_dir():
        for pattern in PYARROW_UNUSED:
            for path in arrow.glob(pattern):
                remove("pyarrow: Flight, S3, C++ tests", path)
        for lib in arrow.glob("libarrow_python*.so.*[0-9]"):
            if lib.name.count(".") != 2:  # keep libarrow_python.so.2600, link the others to it
                continue
            for copy in (lib.with_name(lib.name.rsplit(".", 1)[0]), *arrow.glob(lib.name + ".*")):
                if copy.is_file() and not copy.is_symlink():
                    remove("pyarrow: duplicate copies of libarrow_python*.so", copy)
                    copy.symlink_to(lib.name)


def loaded_end(data: bytes | bytearray) -> int | None:
    """The end of what the dynamic loader reads from a 64-bit little-endian ELF file: the ELF
    header, the program header table and every segment's file bytes (PT_LOAD, PT_DYNAMIC,
    PT_NOTE, PT_GNU_EH_FRAME, ...: all of them, not only PT_LOAD). None for another kind of
    file, a truncated one, or one whose section header table lies inside that range."""
    if data[:4] != b"\x7fELF" or data[4:6] != b"\x02\x01" or len(data) < 64:
        return None
    phoff: int = struct.unpack_from("<Q", data, 0x20)[0]
    shoff: int = struct.unpack_from("<Q", data, 0x28)[0]
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    end: int = max(64, phoff + phentsize * phnum)
    if phnum == 0 or end > len(data):
        return None
    for i in range(phnum):
        _, _, offset, _, _, filesz, _, _ = struct.unpack_from(
            "<IIQQQQQQ", data, phoff + i * phentsize
        )
        end = max(end, offset + filesz)
    if end > len(data) or (shoff and shoff < end):
        return None
    return end


def truncate_elf(path: Path) -> int:
    """Drop what follows the loaded part of a shared library: the section header table and
    the sections no segment maps (.symtab, .strtab, .comment, .debug_*), as ELFkickers'
    ``sstrip`` does. The bytes the loader maps and the dynamic symbols (``.dynsym``, inside a
    PT_LOAD segment) are kept byte for byte; the ELF header's section-table fields are
    zeroed. Returns the bytes saved (0: left as it is)."""
    data = bytearray(path.read_bytes())
    end = loaded_end(data)
    if end is None or end >= len(data):
        return 0
    saved = len(data) - end
    del data[end:]
    struct.pack_into("<Q", data, 0x28, 0)  # e_shoff
    struct.pack_into("<HHH", data, 0x3A, 0, 0, 0)  # e_shentsize, e_shnum, e_shstrndx
    tmp = path.with_name(path.name + ".truncated")
    tmp.write_bytes(data)
    shutil.copymode(path, tmp)
    tmp.replace(path)
    return saved


def sstrip(root: Path) -> None:
    for path in sorted(root.rglob("*.so*")):
        if path.is_symlink() or not path.is_file():
            continue
        before = path.stat().st_size
        saved = truncate_elf(path)
        rule = (
            "section tables and unmapped sections"
            if saved
            else "left as they are (nothing after the mapped bytes)"
        )
        count = totals.setdefault(rule, [0, 0])
        count[0] += 1
        count[1] += saved if saved else before


def report(title: str, run: Callable[[], None]) -> None:
    run()
    print(f"slim_venv: {title}")
    for rule, (files, size) in totals.items():
        print(f"  {size / 1e6:8.1f} MB  {files:6d} files  {rule}")
    totals.clear()


def main() -> None:
    venv = Path(sys.argv[1])
    (site,) = venv.glob("lib/python3*/site-packages")
    report("removed", lambda: prune(site))
    if "--sstrip" in sys.argv[2:]:
        report("shared libraries truncated after their last mapped byte", lambda: sstrip(venv))


if __name__ == "__main__":
    main()
