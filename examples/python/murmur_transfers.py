"""Uploads and downloads of safetensors files, resumable, as org.murmur.proto.client.MurmurClient
does them: an update is pushed as a signed UpdateHeader and 1 MiB chunks, and after a transport
failure resumed from the offset the server reports durable (GetUploadOffset); a model is pulled
into a temporary file beside the target, resumed from that file's length after a transport
failure, checked against the announced SHA-256 and renamed over the target.

Retried: UNAVAILABLE and CANCELLED (the connection broke), and on a resume TOO_MANY_STREAMS (the
server may not have noticed yet that the broken stream is gone). Anything else is a refusal.
"""
import hashlib
import json
import os
import struct
import tempfile
import time

import grpc

import murmur_identity
from murmur_proto import CHUNK_BYTES, Refused

# The dtypes the protocol carries, by their safetensors names.
DTYPES = {"F32": "DTYPE_F32", "F16": "DTYPE_F16", "BF16": "DTYPE_BF16"}
# safetensors' own bound on its JSON header.
MAX_HEADER_BYTES = 100 * 1024 * 1024


class TransferError(Exception):
    """A transfer that failed on this side or on the transport: not a refusal by the server."""


def manifest_of(pb2, path):
    """The TensorSpecs of a safetensors file, in header order, from its 8-byte little-endian header
    length and JSON header."""
    with open(path, "rb") as f:
        prefix = f.read(8)
        if len(prefix) != 8:
            raise TransferError(f"{path}: shorter than a safetensors header")
        (length,) = struct.unpack("<Q", prefix)
        if length > MAX_HEADER_BYTES:
            raise TransferError(f"{path}: header of {length} bytes; not a safetensors file")
        text = f.read(length)
    if len(text) != length:
        raise TransferError(f"{path}: ends inside its {length}-byte header")
    try:
        header = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise TransferError(f"{path}: its header is not JSON: {e}") from None
    if not isinstance(header, dict):
        raise TransferError(f"{path}: its header is not a JSON object")
    specs = []
    for name, tensor in header.items():
        if name == "__metadata__":
            continue
        dtype = tensor.get("dtype") if isinstance(tensor, dict) else None
        shape = tensor.get("shape") if isinstance(tensor, dict) else None
        if dtype not in DTYPES:
            raise TransferError(f"{path}: tensor {name} has dtype {dtype}; the protocol carries "
                                + ", ".join(DTYPES))
        if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
            raise TransferError(f"{path}: tensor {name} has no valid shape")
        specs.append(pb2.TensorSpec(name=name, dtype=pb2.DType.Value(DTYPES[dtype]), shape=shape))
    return specs


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK_BYTES), b""):
            digest.update(block)
    return digest.digest()


def _retryable(error, resuming):
    code = error.code()
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED):
        return True
    return resuming and code == grpc.StatusCode.RESOURCE_EXHAUSTED and Refused(error).reason == "TOO_MANY_STREAMS"


class Transfers:
    """Pushes and pulls over one stub, retrying transport failures up to `attempts` attempts in
    all with `backoff` seconds between them. `log` receives progress lines (resumes, retries)."""

    def __init__(self, pb2, stub, attempts=5, backoff=0.25, log=lambda line: None):
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self.pb2 = pb2
        self.stub = stub
        self.attempts = attempts
        self.backoff = backoff
        self.log = log
        self.purposes = murmur_identity.signed_types(pb2)

    def sign(self, message, keys):
        """Signs a request message for the RPC that carries its type."""
        return murmur_identity.sign(message, keys, self.purposes[message.DESCRIPTOR.full_name])

    # -----------------------------------------------------------------------------------------
    # PushUpdate

    def push_update(self, keys, task_id, round_, path, num_samples):
        """Uploads `path` as this node's update for the round; returns the complete UploadReceipt.
        Raises Refused when the server refuses, TransferError when every attempt failed."""
        pb2 = self.pb2
        unsigned = pb2.UpdateHeader(task_id=task_id, round=round_, manifest=manifest_of(pb2, path),
                                    total_bytes=os.path.getsize(path), sha256=sha256_of(path),
                                    num_samples=num_samples)
        total = unsigned.total_bytes
        key = pb2.UpdateKey(task_id=task_id, round=round_, node_id=keys.node_id)
        start, resume, after_failure, last = 0, False, False, None
        for attempt in range(1, self.attempts + 1):
            chunks = None
            try:
                if after_failure:
                    offset = self._upload_offset(key)
                    if offset is None:
                        start, resume = 0, False
                    elif offset.complete:
                        return pb2.UploadReceipt(sha256=unsigned.sha256, durable_bytes=offset.durable_bytes,
                                                 complete=True)
                    elif offset.durable_bytes > total:
                        raise TransferError(f"the server reports {offset.durable_bytes} durable bytes of an "
                                            f"update of {total} bytes")
                    else:
                        start, resume = offset.durable_bytes, True
                        self.log(f"resuming the upload at byte {start} of {total}")
                header = pb2.UpdateHeader()
                header.CopyFrom(unsigned)
                header.resume = resume
                chunks = _ChunkReader(pb2, path, start, total)
                receipt = self.stub.PushUpdate(chunks.messages(self.sign(header, keys)))
                if receipt.complete:
                    return receipt
                last = f"the server answered with an incomplete receipt ({receipt.durable_bytes} of {total} bytes)"
            except grpc.RpcError as e:
                if chunks is not None and chunks.error is not None:
                    raise chunks.error from None
                if not _retryable(e, after_failure):
                    raise Refused(e) from None
                last = f"{e.code().name}: {e.details()}"
            after_failure = True
            if attempt < self.attempts:
                self.log(f"attempt {attempt} failed ({last}); retrying")
                time.sleep(self.backoff)
        raise TransferError(f"upload of {path} failed after {self.attempts} attempts: {last}")

    def _upload_offset(self, key):
        """The server's UploadOffset of the update, or None when it holds none of it."""
        try:
            return self.stub.GetUploadOffset(self.pb2.GetUploadOffsetRequest(update=key), timeout=30)
        except grpc.RpcError as e:
            if e.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise

    # -----------------------------------------------------------------------------------------
    # PullModel

    def pull_model(self, task_id, which, round_, target):
        """Downloads a model to `target` (replaced atomically once verified); returns its ModelInfo.
        `which` is "global" or "candidate"; `round_` may be None for the current global model."""
        pb2 = self.pb2
        request = pb2.PullModelRequest(task_id=task_id, which=pb2.ModelKind.Value("MODEL_KIND_" + which.upper()))
        if round_ is not None:
            request.round = round_
        target = os.path.abspath(target)
        directory, name = os.path.split(target)
        fd, part = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=directory)
        try:
            with os.fdopen(fd, "r+b") as out:
                info = self._download(request, out)
                out.flush()
                size = os.fstat(out.fileno()).st_size
                if size != info.total_bytes:
                    raise TransferError(f"the download ended at {size} of {info.total_bytes} bytes")
                out.seek(0)
                digest = hashlib.sha256()
                for block in iter(lambda: out.read(CHUNK_BYTES), b""):
                    digest.update(block)
                if digest.digest() != info.sha256:
                    raise TransferError(f"the downloaded model's SHA-256 is {digest.hexdigest()} but the server "
                                        f"announced {info.sha256.hex()}; {target} was not written")
                os.fsync(out.fileno())
            os.replace(part, target)
            part = None
            _sync_directory(directory)
            return info
        finally:
            if part is not None and os.path.exists(part):
                os.unlink(part)

    def _download(self, request, out):
        known, last = None, None
        for attempt in range(1, self.attempts + 1):
            have = out.seek(0, os.SEEK_END)
            if known is not None and have == known.total_bytes:
                return known  # every byte arrived before the stream broke
            request.offset = have
            if have:
                self.log(f"resuming the download at byte {have}")
            stream = _PullStream(known)
            try:
                return stream.run(self.stub.PullModel(request), out, have)
            except grpc.RpcError as e:
                if not _retryable(e, False):
                    raise Refused(e) from None
                last = f"{e.code().name}: {e.details()}"
                if stream.info is not None:
                    known = stream.info
            except _ModelChanged as e:
                last, known = str(e), None
                out.truncate(0)
            if attempt < self.attempts:
                self.log(f"attempt {attempt} failed ({last}); retrying")
                time.sleep(self.backoff)
        raise TransferError(f"download failed after {self.attempts} attempts: {last}")


class _ChunkReader:
    """The messages of one PushUpdate stream: the header, then the file's bytes from `start` in
    chunks of CHUNK_BYTES. grpc pulls them one at a time as the stream can take them. A read error
    is kept (grpc would only log it and cancel the call) so the caller can report it."""

    def __init__(self, pb2, path, start, total):
        self.pb2, self.path, self.start, self.total = pb2, path, start, total
        self.error = None

    def messages(self, header):
        pb2 = self.pb2
        yield pb2.PushUpdateRequest(header=header)
        try:
            with open(self.path, "rb") as f:
                f.seek(self.start)
                at = self.start
                while at < self.total:
                    data = f.read(min(CHUNK_BYTES, self.total - at))
                    if not data:
                        raise TransferError(f"{self.path} ended at {at} bytes while being read; it must not "
                                            "change during an upload")
                    yield pb2.PushUpdateRequest(chunk=pb2.Chunk(offset=at, data=data))
                    at += len(data)
        except (OSError, TransferError) as e:
            self.error = e if isinstance(e, TransferError) else TransferError(f"cannot read {self.path}: {e}")
            raise


class _ModelChanged(Exception):
    """The server announced a different model on a resumed download: start again from 0."""


class _PullStream:
    """One PullModel stream written to `out`: a ModelInfo first, then chunks at increasing offsets."""

    def __init__(self, known):
        self.known = known
        self.info = None

    def run(self, call, out, position):
        try:
            for response in call:
                kind = response.WhichOneof("kind")
                if kind == "info":
                    if self.info is not None:
                        raise TransferError("the server sent a second ModelInfo")
                    info = response.info
                    if self.known is not None and (self.known.total_bytes != info.total_bytes
                                                   or self.known.sha256 != info.sha256):
                        raise _ModelChanged("the server announced a different model on resuming")
                    self.info = info
                elif kind == "chunk":
                    chunk = response.chunk
                    if self.info is None:
                        raise TransferError("the server sent a chunk before the ModelInfo")
                    if chunk.offset != position:
                        raise TransferError(f"the server sent a chunk at offset {chunk.offset} where {position} "
                                            "was expected")
                    if not chunk.data or position + len(chunk.data) > self.info.total_bytes:
                        raise TransferError(f"the server sent a chunk of {len(chunk.data)} bytes at offset "
                                            f"{position} of a model of {self.info.total_bytes} bytes")
                    out.seek(position)
                    out.write(chunk.data)
                    position += len(chunk.data)
                else:
                    raise TransferError("the server sent an empty PullModelResponse")
        except (TransferError, _ModelChanged, OSError):
            call.cancel()
            raise
        if self.info is None:
            raise TransferError("the server ended PullModel without sending a ModelInfo")
        return self.info


def _sync_directory(directory):
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # not every platform can fsync a directory; the rename itself is atomic
    finally:
        os.close(fd)
