"""The checked-in generated code is what the .proto produces today."""

from __future__ import annotations

import re
from pathlib import Path

from google.protobuf import descriptor_pb2
from grpc_tools import protoc

from protos import generate
from protos.cryptodata.v1 import market_data_pb2

# Version stamps change with grpcio-tools, not with the contract: a newer tool in a fresh
# virtualenv must not fail this test, a changed .proto must.
_STAMPS = (
    (re.compile(r"GRPC_GENERATED_VERSION = '[^']*'"), "GRPC_GENERATED_VERSION = '*'"),
    (re.compile(r"# Protobuf Python Version: .*"), "# Protobuf Python Version: *"),
    (re.compile(r"(_runtime_version\.Domain\.PUBLIC,\s*)\d+,\s*\d+,\s*\d+,"), r"\1*,"),
)


def _unstamped(code: str) -> str:
    for pattern, replacement in _STAMPS:
        code = pattern.sub(replacement, code)
    return code


def test_checked_in_code_matches_a_fresh_generation(tmp_path: Path) -> None:
    written = generate.generate(tmp_path)

    assert len(written) == 3 * len(generate.PROTO_FILES)
    for fresh in written:
        relative = fresh.relative_to(tmp_path)
        checked_in = generate.REPO_ROOT / relative
        assert checked_in.exists(), f"{relative} is not checked in: run python -m protos.generate"
        assert _unstamped(checked_in.read_text()) == _unstamped(fresh.read_text()), (
            f"{relative} is out of date with its .proto: run python -m protos.generate"
        )


def test_checked_in_descriptor_is_the_proto(tmp_path: Path) -> None:
    # Independent of how the code is laid out: the contract compiled now vs. the one embedded.
    out = tmp_path / "market_data.pb"
    status = protoc.main(
        ["protoc", f"-I{generate.REPO_ROOT}", f"--descriptor_set_out={out}", *generate.PROTO_FILES]
    )
    assert status == 0

    compiled = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file[0]
    embedded = descriptor_pb2.FileDescriptorProto.FromString(market_data_pb2.DESCRIPTOR.serialized_pb)
    assert _without_json_names(compiled) == _without_json_names(embedded)
    assert [s.name for s in compiled.service] == ["MarketData"]


def _without_json_names(file: descriptor_pb2.FileDescriptorProto) -> descriptor_pb2.FileDescriptorProto:
    """protoc fills ``json_name`` in descriptor sets but not in Python gencode: not a difference."""
    copy = descriptor_pb2.FileDescriptorProto()
    copy.CopyFrom(file)
    pending = list(copy.message_type)
    while pending:
        message = pending.pop()
        for field in message.field:
            field.ClearField("json_name")
        pending.extend(message.nested_type)
    return copy


def test_stamps_are_the_only_thing_ignored() -> None:
    assert _unstamped("GRPC_GENERATED_VERSION = '1.85.1'") == _unstamped("GRPC_GENERATED_VERSION = '9.9.9'")
    assert _unstamped("rpc GetOhlcv") != _unstamped("rpc GetOhlcv2")


def test_generated_modules_import_as_a_package() -> None:
    from protos.cryptodata.v1 import market_data_pb2_grpc

    assert market_data_pb2.DESCRIPTOR.package == "cryptodata.v1"
    assert market_data_pb2.DESCRIPTOR.name == "protos/cryptodata/v1/market_data.proto"
    assert hasattr(market_data_pb2_grpc, "MarketDataServicer")
