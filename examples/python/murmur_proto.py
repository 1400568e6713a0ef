"""The Murmur wire protocol for Python: message classes compiled from murmur.proto at run time, and
a client stub built from the proto's service descriptor.

Why compile at run time with the system protoc: Debian 12's python3-grpc-tools bundles protoc
3.5.1, which cannot parse proto3 `optional` (murmur.proto uses it; protoc 3.15 or later can),
while Debian's protobuf-compiler ships protoc 3.21.12, the same release as python3-protobuf
(google.protobuf 4.21.12), so the code it generates matches the runtime exactly. It has no gRPC
plugin, and none is needed: the stub below calls grpc's generic channel API (unary_unary,
stream_unary, ...) for every RPC the service descriptor lists, so new RPCs need no code here.
Nothing generated is kept: protoc writes into a temporary folder that is removed once the module
is imported.
"""
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile

import grpc

# As org.murmur.proto.Wire: chunks of 1 MiB, messages of at most 4 MiB either way.
CHUNK_BYTES = 1 << 20
MAX_MESSAGE_BYTES = 4 << 20
# The trailer naming a refusal's RefusalReason.
REFUSAL_TRAILER = "murmur-refusal"
SERVICE = "murmur.v1.Murmur"
# proto3 `optional` compiles without an experimental flag from protoc 3.15 on.
MIN_PROTOC = (3, 15)

_HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_PROTO = os.path.normpath(os.path.join(_HERE, "..", "..", "proto", "src", "main", "proto", "murmur.proto"))


class SetupError(Exception):
    """What is missing to speak the protocol, and what to install."""


def proto_path():
    """murmur.proto: $MURMUR_PROTO, or the repository's copy beside this example."""
    return os.environ.get("MURMUR_PROTO") or DEFAULT_PROTO


def find_protoc():
    """The protoc to use ($PROTOC or the first on PATH) and its version; SetupError if none fits."""
    protoc = os.environ.get("PROTOC") or shutil.which("protoc")
    if not protoc:
        raise SetupError("protoc not found: install Debian's protobuf-compiler (or set $PROTOC)")
    try:
        out = subprocess.run([protoc, "--version"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise SetupError(f"{protoc} --version failed: {e}") from e
    match = re.search(r"(\d+)\.(\d+)", out)
    version = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
    if version < MIN_PROTOC:
        raise SetupError(f"{protoc} is {out.strip()}; murmur.proto needs protoc 3.15 or later "
                         "(install Debian's protobuf-compiler)")
    return protoc, out.strip()


_MODULE = None


def load():
    """The generated module murmur_pb2 (compiled once per process)."""
    global _MODULE
    if _MODULE is not None:
        return _MODULE
    source = proto_path()
    if not os.path.isfile(source):
        raise SetupError(f"{source} not found (set $MURMUR_PROTO to murmur.proto)")
    protoc, _ = find_protoc()
    with tempfile.TemporaryDirectory(prefix="murmur-proto-") as out:
        result = subprocess.run([protoc, "-I" + os.path.dirname(source), "--python_out=" + out,
                                 os.path.basename(source)], capture_output=True, text=True)
        if result.returncode != 0:
            raise SetupError(f"protoc could not compile {source}: {result.stderr.strip()}")
        spec = importlib.util.spec_from_file_location("murmur_pb2", os.path.join(out, "murmur_pb2.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules["murmur_pb2"] = module
        spec.loader.exec_module(module)
    _MODULE = module
    return module


def message_class(pb2, descriptor):
    """The generated class of a top-level message of murmur.proto."""
    if descriptor.containing_type is not None:
        raise ValueError(f"{descriptor.full_name}: nested message types are not supported")
    return getattr(pb2, descriptor.name)


class MurmurStub:
    """One callable attribute per RPC of murmur.v1.Murmur, named as in the proto (PushUpdate, ...),
    with grpc's usual calling conventions for its kind (unary or streaming on either side)."""

    def __init__(self, channel, pb2):
        service = pb2.DESCRIPTOR.services_by_name[SERVICE.rsplit(".", 1)[1]]
        kinds = {
            (False, False): channel.unary_unary,
            (True, False): channel.stream_unary,
            (False, True): channel.unary_stream,
            (True, True): channel.stream_stream,
        }
        for method in service.methods:
            factory = kinds[(method.client_streaming, method.server_streaming)]
            setattr(self, method.name, factory(
                f"/{service.full_name}/{method.name}",
                request_serializer=message_class(pb2, method.input_type).SerializeToString,
                response_deserializer=message_class(pb2, method.output_type).FromString))


def open_channel(target, tls_ca=None, tls_cert=None, tls_key=None):
    """A channel to host:port, plaintext, or TLS when a CA file is given (mutual with cert and key)."""
    options = [("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
               ("grpc.max_send_message_length", MAX_MESSAGE_BYTES)]
    if tls_ca is None:
        if tls_cert or tls_key:
            raise SetupError("--tls-cert and --tls-key need --tls-ca")
        return grpc.insecure_channel(target, options=options)
    if bool(tls_cert) != bool(tls_key):
        raise SetupError("--tls-cert and --tls-key go together")

    def read(path):
        with open(path, "rb") as f:
            return f.read()

    credentials = grpc.ssl_channel_credentials(
        root_certificates=read(tls_ca),
        private_key=read(tls_key) if tls_key else None,
        certificate_chain=read(tls_cert) if tls_cert else None)
    return grpc.secure_channel(target, credentials, options=options)


class Refused(Exception):
    """The server refused a request: its gRPC status, the murmur-refusal reason and its description."""

    def __init__(self, error):
        self.code = error.code()
        self.details = error.details() or ""
        self.reason = None
        for key, value in error.trailing_metadata() or ():
            if key == REFUSAL_TRAILER:
                self.reason = value
        super().__init__(self.line())

    def line(self):
        reason = f" {self.reason}" if self.reason else ""
        return f"{self.code.name}{reason}: {self.details}"
