"""Regenerate the checked-in Python code from the .proto files: ``python -m protos.generate``.

Generated with ``-I <repo root>`` so the modules import as ``protos.cryptodata.v1.…`` both
from a source tree and when installed; the checked-in code means installing needs no codegen.
``tests/e2e/test_grpc_codegen.py`` fails when the checked-in code differs from a fresh run.
"""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path

from grpc_tools import protoc

REPO_ROOT = Path(__file__).resolve().parent.parent
PROTO_FILES = ("protos/cryptodata/v1/market_data.proto",)
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")


def generated_files(proto: str) -> list[str]:
    """The paths (relative to the output root) that protoc writes for ``proto``."""
    stem = proto.removesuffix(".proto")
    return [stem + suffix for suffix in GENERATED_SUFFIXES]


def generate(out_dir: Path = REPO_ROOT) -> list[Path]:
    """Run protoc (from grpcio-tools) on every proto file, writing under ``out_dir``."""
    well_known = resources.files("grpc_tools") / "_proto"  # google/protobuf/*.proto
    written: list[Path] = []
    for proto in PROTO_FILES:
        (out_dir / proto).parent.mkdir(parents=True, exist_ok=True)
        status = protoc.main(
            [
                "grpc_tools.protoc",
                f"-I{REPO_ROOT}",
                f"-I{well_known}",
                f"--python_out={out_dir}",
                f"--pyi_out={out_dir}",
                f"--grpc_python_out={out_dir}",
                str(REPO_ROOT / proto),
            ]
        )
        if status != 0:
            raise RuntimeError(f"protoc failed on {proto} (exit status {status})")
        written.extend(out_dir / name for name in generated_files(proto))
    return written


def main(argv: list[str] | None = None) -> None:
    """Command line: regenerate in place, or into ``--out``."""
    parser = argparse.ArgumentParser(prog="python -m protos.generate", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT, help="output root (default: the repo root)")
    args = parser.parse_args(argv)
    for path in generate(args.out):
        print(path, file=sys.stderr)


if __name__ == "__main__":
    main()
