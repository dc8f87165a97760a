"""Generate Python code and .pyi stubs from protos/, and check it for drift.

    python -m tools.protogen          write gen/ and third_party/googleapis/
    python -m tools.protogen --check  exit 1 if either differs from what would be written

google/api and google/rpc protos come from the googleapis-common-protos wheel (there is
no Buf Schema Registry here); they are copied to third_party/ so that buf and protoc
resolve imports from one place, while their Python modules come from the wheel itself.

buf/validate/validate.proto (the field rules' annotations) ships in no wheel, only in the
protovalidate sdist on PyPI, so it is committed under third_party/protovalidate/ with its
licence, taken from the sdist of the protovalidate version in uv.lock. Its Python module is
generated here (the wheel's own is for another protobuf runtime), and `--check` proves the
committed file declares exactly what the installed validator was built from: upgrading
protovalidate without replacing the file fails `make lint`.
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
from google.protobuf import descriptor_pb2
from grpc_tools import protoc
from protovalidate._gen.buf.validate import validate_pb

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
GEN = ROOT / "gen"
THIRD_PARTY = ROOT / "third_party" / "googleapis"
PROTOVALIDATE = ROOT / "third_party" / "protovalidate"
VALIDATE_PROTO = "buf/validate/validate.proto"
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
        *_includes(third_party),
        f"--plugin=protoc-gen-mypy={BIN / 'protoc-gen-mypy'}",
        f"--plugin=protoc-gen-mypy_grpc={BIN / 'protoc-gen-mypy_grpc'}",
        f"--python_out={gen}",
        f"--grpc_python_out={gen}",
        f"--mypy_out=quiet:{gen}",
        f"--mypy_grpc_out=quiet:{gen}",
        VALIDATE_PROTO,
        *sources,
    ]
    _protoc(args)
    for package in {p.parent for p in gen.rglob("*.py")}:
        while package != gen:
            (package / "__init__.py").touch()
            package = package.parent


def _includes(third_party: Path) -> list[str]:
    return [
        f"-I{PROTOS}",
        f"-I{third_party}",
        f"-I{PROTOVALIDATE}",
        f"-I{Path(next(iter(grpc_tools.__path__))) / '_proto'}",
    ]


def _protoc(args: list[str]) -> None:
    if protoc.main(args) != 0:  # type: ignore[no-untyped-call]  # grpc_tools ships no types
        raise SystemExit("protoc failed")


def _validate_proto_drift(tmp: Path) -> list[str]:
    """The committed validate.proto against the descriptor the installed validator was built from.

    File options are left out of the comparison: Buf's managed mode sets them (java_package,
    csharp_namespace, ...) when the wheel's code is generated, and they change no rule.
    """
    descriptor_set = tmp / "validate.binpb"
    _protoc(["protoc", *_includes(THIRD_PARTY), f"--descriptor_set_out={descriptor_set}", VALIDATE_PROTO])
    [committed] = descriptor_pb2.FileDescriptorSet.FromString(descriptor_set.read_bytes()).file
    installed = descriptor_pb2.FileDescriptorProto.FromString(validate_pb.desc().proto.to_binary())
    for file in (committed, installed):
        file.ClearField("options")
        file.ClearField("source_code_info")
    if committed == installed:
        return []
    return [f"{PROTOVALIDATE.relative_to(ROOT) / VALIDATE_PROTO} (not the installed protovalidate's)"]


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
        drift = (
            _differences(gen, GEN) + _differences(third_party, THIRD_PARTY) + _validate_proto_drift(Path(tmp))
        )
    if drift:
        print("generated code drifts from protos/; run `make generate`:", *drift, sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
