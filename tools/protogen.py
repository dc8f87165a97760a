"""Generate Python code and .pyi stubs from protos/, and check it for drift.

    python -m tools.protogen          write gen/ and third_party/googleapis/
    python -m tools.protogen --check  exit 1 if either differs from what would be written

google/api and google/rpc protos come from the googleapis-common-protos wheel (there is
no Buf Schema Registry here); they are copied to third_party/ so that buf and protoc
resolve imports from one place, while their Python modules come from the wheel itself.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
import tempfile
from pathlib import Path

import google.api
import grpc_tools
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
GEN = ROOT / "gen"
THIRD_PARTY = ROOT / "third_party" / "googleapis"
BIN = Path(sys.executable).parent
VENDORED = ("google/api/annotations.proto", "google/api/http.proto")


def _googleapis_root() -> Path:
    return Path(next(iter(google.api.__path__))).parent.parent


def _write(gen: Path, third_party: Path) -> None:
    for name in VENDORED:
        target = third_party / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_googleapis_root() / name, target)

    gen.mkdir(parents=True, exist_ok=True)
    sources = sorted(str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto"))
    args = [
        "protoc",
        f"-I{PROTOS}",
        f"-I{third_party}",
        f"-I{Path(next(iter(grpc_tools.__path__))) / '_proto'}",
        f"--plugin=protoc-gen-mypy={BIN / 'protoc-gen-mypy'}",
        f"--plugin=protoc-gen-mypy_grpc={BIN / 'protoc-gen-mypy_grpc'}",
        f"--python_out={gen}",
        f"--grpc_python_out={gen}",
        f"--mypy_out=quiet:{gen}",
        f"--mypy_grpc_out=quiet:{gen}",
        *sources,
    ]
    if protoc.main(args) != 0:  # type: ignore[no-untyped-call]  # grpc_tools ships no types
        raise SystemExit("protoc failed")
    for package in {p.parent for p in gen.rglob("*.py")}:
        while package != gen:
            (package / "__init__.py").touch()
            package = package.parent


def _differences(left: Path, right: Path) -> list[str]:
    found: list[str] = []

    def walk(cmp: filecmp.dircmp[str], prefix: str) -> None:
        found.extend(f"{prefix}{n}" for n in cmp.left_only + cmp.right_only + cmp.diff_files)
        for name, sub in cmp.subdirs.items():
            walk(sub, f"{prefix}{name}/")

    if not left.exists() or not right.exists():
        return [str(right)]
    walk(filecmp.dircmp(left, right, ignore=["__pycache__"]), "")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--check", action="store_true", help="fail when the committed code drifts")
    check = parser.parse_args().check
    if not check:
        shutil.rmtree(GEN, ignore_errors=True)
        _write(GEN, THIRD_PARTY)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        gen, third_party = Path(tmp) / "gen", Path(tmp) / "third_party"
        _write(gen, third_party)
        drift = _differences(gen, GEN) + _differences(third_party, THIRD_PARTY)
    if drift:
        print("generated code drifts from protos/; run `make generate`:", *drift, sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
