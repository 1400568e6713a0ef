"""Node keys and request signatures, byte for byte as the Java side (org.murmur.proto.identity:
NodeKeys, NodeId, CanonicalPayload, CanonicalRequest, RequestSigner) and murmur.proto's `Auth`
comment define them.

The canonical payload is computed from the protobuf descriptors, not per message type, so every
signed request of the protocol (and any added later) is signed the same way.
"""
import base64
import hashlib
import os
import struct

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from google.protobuf.descriptor import FieldDescriptor

DOMAIN = "murmur.v1/canonical-request"
AUTH_TYPE = "murmur.v1.Auth"
NONCE_BYTES = 16
NODE_ID_BYTES = 20
_MAX_KEY_FILE_BYTES = 64 * 1024
_U64 = (1 << 64) - 1


# ---------------------------------------------------------------------------------------------
# Keys

class KeyFileError(Exception):
    """A key file that cannot be used, and why."""


class NodeKeys:
    """An Ed25519 key pair and its node id: lowercase hex of the first 20 bytes of
    SHA-256(raw public key). On disk, as NodeKeys.java: a comment line, a PKCS#8 `PRIVATE KEY`
    PEM block and an X.509 `PUBLIC KEY` PEM block."""

    def __init__(self, private_key):
        self.private_key = private_key
        self.raw_public_key = private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.node_id = node_id_of(self.raw_public_key)

    @staticmethod
    def generate():
        return NodeKeys(ed25519.Ed25519PrivateKey.generate())

    @staticmethod
    def load(path):
        """Reads a key file written by `save` or by NodeKeys.java; KeyFileError naming the file and
        the problem when it is missing, not PEM, not Ed25519, or its two keys do not match."""
        try:
            if os.path.getsize(path) > _MAX_KEY_FILE_BYTES:
                raise KeyFileError(f"{path}: larger than {_MAX_KEY_FILE_BYTES} bytes; not a key file")
            with open(path, "rb") as f:
                text = f.read().decode("ascii")
        except FileNotFoundError:
            raise KeyFileError(f"{path}: does not exist (generate a key first: murmur_node.py keygen)") from None
        except UnicodeDecodeError:
            raise KeyFileError(f"{path}: is not PEM text (non-ASCII bytes)") from None
        private_der = _pem_block(path, text, "PRIVATE KEY")
        public_der = _pem_block(path, text, "PUBLIC KEY")
        try:
            private_key = serialization.load_der_private_key(private_der, password=None)
            public_key = serialization.load_der_public_key(public_der)
        except (ValueError, TypeError) as e:
            raise KeyFileError(f"{path}: does not hold an Ed25519 key pair: {e}") from None
        if not isinstance(private_key, ed25519.Ed25519PrivateKey) or not isinstance(
                public_key, ed25519.Ed25519PublicKey):
            raise KeyFileError(f"{path}: does not hold an Ed25519 key pair")
        keys = NodeKeys(private_key)
        if public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw) \
                != keys.raw_public_key:
            raise KeyFileError(f"{path}: its public key does not belong to its private key")
        return keys

    def save(self, path):
        """Writes the key file; never replaces an existing one (an overwritten key is an identity
        lost). Owner-only permissions, forced to disk."""
        private_der = self.private_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        public_der = self.private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        text = (f"# Murmur node key, node id {self.node_id}\n"
                + _pem("PRIVATE KEY", private_der) + _pem("PUBLIC KEY", public_der))
        parent = os.path.dirname(os.path.abspath(path))
        os.makedirs(parent, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise KeyFileError(f"{path}: a node key file already exists; refusing to overwrite it") from None
        with os.fdopen(fd, "wb") as f:
            f.write(text.encode("ascii"))
            f.flush()
            os.fsync(f.fileno())

    def sign(self, data):
        """The 64-byte Ed25519 signature of `data`."""
        return self.private_key.sign(data)


def node_id_of(raw_public_key):
    if len(raw_public_key) != 32:
        raise ValueError(f"an Ed25519 public key is 32 bytes, got {len(raw_public_key)}")
    return hashlib.sha256(raw_public_key).digest()[:NODE_ID_BYTES].hex()


def _pem(label, der):
    body = base64.b64encode(der).decode("ascii")
    lines = "\n".join(body[i:i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----\n"


def _pem_block(path, text, label):
    begin, end = f"-----BEGIN {label}-----", f"-----END {label}-----"
    start = text.find(begin)
    if start < 0:
        raise KeyFileError(f"{path}: has no {begin} block")
    if text.find(begin, start + len(begin)) >= 0:
        raise KeyFileError(f"{path}: has more than one {begin} block")
    stop = text.find(end, start)
    if stop < 0:
        raise KeyFileError(f"{path}: its {label} block has no {end} line (file truncated?)")
    body = "".join(text[start + len(begin):stop].split())
    try:
        der = base64.b64decode(body, validate=True)
    except ValueError as e:
        raise KeyFileError(f"{path}: its {label} block is not valid base64: {e}") from None
    if not der:
        raise KeyFileError(f"{path}: its {label} block is empty")
    return der


# ---------------------------------------------------------------------------------------------
# Canonical encoding

class _Writer:
    """Fixed-width big-endian integers and length-prefixed byte strings (CanonicalWriter.java)."""

    def __init__(self):
        self.parts = []

    def u8(self, value):
        self.parts.append(bytes((value,)))

    def u32(self, value):
        self.parts.append(struct.pack(">I", value))

    def u64(self, value):
        """Eight bytes big-endian; a negative value in two's complement (sign-extended)."""
        self.parts.append(struct.pack(">Q", value & _U64))

    def raw(self, value):
        self.parts.append(value)

    def bytes(self, value):
        self.u32(len(value))
        self.parts.append(bytes(value))

    def string(self, value):
        # strict UTF-8: a lone surrogate raises UnicodeEncodeError, as Java refuses it
        self.bytes(value.encode("utf-8"))

    def result(self):
        return b"".join(self.parts)


_UNSIGNED = {FieldDescriptor.TYPE_UINT32, FieldDescriptor.TYPE_UINT64,
             FieldDescriptor.TYPE_FIXED32, FieldDescriptor.TYPE_FIXED64}
_SIGNED = {FieldDescriptor.TYPE_INT32, FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_SINT32,
           FieldDescriptor.TYPE_SINT64, FieldDescriptor.TYPE_SFIXED32, FieldDescriptor.TYPE_SFIXED64,
           FieldDescriptor.TYPE_ENUM}


def canonical_payload(message):
    """The canonical encoding of `message` without its top-level `auth` field
    (CanonicalPayload.encode): its set fields in ascending field-number order."""
    out = _Writer()
    _write_fields(out, message, top_level=True)
    return out.result()


def _has_presence(field):
    presence = getattr(field, "has_presence", None)
    if presence is not None:
        return presence
    return (field.containing_oneof is not None or field.type == FieldDescriptor.TYPE_MESSAGE
            or field.file.syntax == "proto2")


def _is_set(message, field):
    if field.label == FieldDescriptor.LABEL_REPEATED:
        return len(getattr(message, field.name)) > 0
    if _has_presence(field):
        return message.HasField(field.name)
    value = getattr(message, field.name)
    if field.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return struct.pack("<d", value) != bytes(8)  # -0.0 is set: its bits are not all zero
    return value != field.default_value


def _is_map(field):
    return (field.label == FieldDescriptor.LABEL_REPEATED and field.type == FieldDescriptor.TYPE_MESSAGE
            and field.message_type.GetOptions().map_entry)


def _is_auth(field):
    return (field.name == "auth" and field.type == FieldDescriptor.TYPE_MESSAGE
            and field.label != FieldDescriptor.LABEL_REPEATED and field.message_type.full_name == AUTH_TYPE)


def _unknown_field_count(message):
    unknown = getattr(message, "UnknownFields", None)
    if unknown is not None:
        return len(unknown())
    from google.protobuf import unknown_fields  # protobuf 4.25 and later
    return len(unknown_fields.UnknownFieldSet(message))


def _write_fields(out, message, top_level):
    descriptor = message.DESCRIPTOR
    if _unknown_field_count(message):
        raise ValueError(f"{descriptor.full_name} holds fields unknown to this schema; "
                         "it cannot be signed or verified")
    for field in sorted(descriptor.fields, key=lambda f: f.number):
        if (top_level and _is_auth(field)) or not _is_set(message, field):
            continue
        out.u32(field.number)
        value = getattr(message, field.name)
        if _is_map(field):
            _write_map(out, field, value)
        elif field.label == FieldDescriptor.LABEL_REPEATED:
            out.u32(len(value))
            for item in value:
                _write_value(out, field, item)
        else:
            _write_value(out, field, value)


def _write_map(out, field, entries):
    key_field = field.message_type.fields_by_number[1]
    value_field = field.message_type.fields_by_number[2]
    encoded = []
    for key, value in entries.items():
        k, v = _Writer(), _Writer()
        _write_value(k, key_field, key)
        _write_value(v, value_field, value)
        encoded.append((k.result(), v.result()))
    encoded.sort(key=lambda pair: pair[0])  # bytes compare as unsigned, shorter prefix first
    out.u32(len(encoded))
    for key, value in encoded:
        out.raw(key)
        out.raw(value)


def _write_value(out, field, value):
    t = field.type
    if t in _SIGNED or t in _UNSIGNED:
        out.u64(value)
    elif t == FieldDescriptor.TYPE_BOOL:
        out.u8(1 if value else 0)
    elif t == FieldDescriptor.TYPE_FLOAT:
        out.raw(struct.pack(">f", value))
    elif t == FieldDescriptor.TYPE_DOUBLE:
        out.raw(struct.pack(">d", value))
    elif t == FieldDescriptor.TYPE_STRING:
        out.string(value)
    elif t == FieldDescriptor.TYPE_BYTES:
        out.bytes(value)
    elif t == FieldDescriptor.TYPE_MESSAGE:
        nested = _Writer()
        _write_fields(nested, value, top_level=False)
        out.bytes(nested.result())
    else:
        raise ValueError(f"{field.full_name}: unhandled field type {t}")


def canonical_request(purpose, task_id, round_, node_id, nonce, payload_digest):
    """The bytes a node signs (CanonicalRequest.encode)."""
    if not 16 <= len(nonce) <= 64:
        raise ValueError(f"nonce: must be 16 to 64 bytes, got {len(nonce)}")
    if len(payload_digest) != 32:
        raise ValueError(f"payload digest: must be 32 bytes, got {len(payload_digest)}")
    out = _Writer()
    out.string(DOMAIN)
    out.string(purpose)
    out.string(task_id)
    out.u64(round_)
    out.bytes(node_id.encode("ascii"))
    out.bytes(nonce)
    out.bytes(payload_digest)
    return out.result()


# ---------------------------------------------------------------------------------------------
# Signing

def signed_types(pb2, service_name="Murmur"):
    """Purpose tag ("murmur.v1/<RPC>") of each message type that carries a signature, read from the
    service: an RPC's request type with an `auth` field, or, for the upload streams, the type of a
    field of the request (the header) that has one."""
    def signed(descriptor):
        return any(_is_auth(f) for f in descriptor.fields)

    purposes = {}
    service = pb2.DESCRIPTOR.services_by_name[service_name]
    package = pb2.DESCRIPTOR.package
    for method in service.methods:
        request = method.input_type
        candidates = [request] + [f.message_type for f in request.fields
                                  if f.type == FieldDescriptor.TYPE_MESSAGE]
        for descriptor in candidates:
            if signed(descriptor):
                purposes[descriptor.full_name] = f"{package}/{method.name}"
    return purposes


def request_scope(message):
    """(task_id, round) a signed message is signed for: its own fields, "" and 0 where it has none."""
    fields = message.DESCRIPTOR.fields_by_name
    task_id = message.task_id if "task_id" in fields else ""
    round_ = message.round if "round" in fields else 0
    return task_id, round_


def sign(message, keys, purpose, nonce=None):
    """Sets `message.auth` (after clearing it) to this node's signature over the message: node id,
    raw public key, a fresh 16-byte nonce and the Ed25519 signature. Returns the message."""
    message.ClearField("auth")
    task_id, round_ = request_scope(message)
    nonce = os.urandom(NONCE_BYTES) if nonce is None else nonce
    digest = hashlib.sha256(canonical_payload(message)).digest()
    signature = keys.sign(canonical_request(purpose, task_id, round_, keys.node_id, nonce, digest))
    message.auth.node_id = keys.node_id
    message.auth.public_key = keys.raw_public_key
    message.auth.nonce = nonce
    message.auth.signature = signature
    return message


def verify(message, purpose):
    """Checks `message.auth` against the key it carries (for tests and tools); raises
    InvalidSignature or ValueError."""
    auth = message.auth
    if node_id_of(auth.public_key) != auth.node_id:
        raise ValueError("the node id is not the one derived from the public key")
    unsigned = type(message)()
    unsigned.CopyFrom(message)
    unsigned.ClearField("auth")
    task_id, round_ = request_scope(message)
    digest = hashlib.sha256(canonical_payload(unsigned)).digest()
    ed25519.Ed25519PublicKey.from_public_bytes(auth.public_key).verify(
        auth.signature, canonical_request(purpose, task_id, round_, auth.node_id, auth.nonce, digest))


__all__ = ["NodeKeys", "KeyFileError", "canonical_payload", "canonical_request", "signed_types", "sign",
           "verify", "request_scope", "node_id_of", "InvalidSignature"]
