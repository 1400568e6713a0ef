#!/usr/bin/python3
"""A Murmur node from the command line: makes a node key, pushes updates, pulls models, stakes and
joins rounds. An example of the protocol (proto/src/main/proto/murmur.proto) spoken from Python,
with Debian's packages only (see README.md beside this file).

Every command prints its result as one JSON line on stdout (bytes in hex, enums by name) and
exits 0. A refusal prints one line on stderr, `murmur_node: <command> refused: <STATUS> <REASON>:
<the server's description>`, and exits 1; a malformed command line exits 2; anything else (the
server unreachable after every attempt, a file that cannot be read, a missing prerequisite) prints
one line and exits 3.
"""
import argparse
import json
import sys

REFUSED, USAGE, FAILED = 1, 2, 3
# The Debian package behind each Python module this client needs.
PACKAGES = {"grpc": "python3-grpcio", "google": "python3-protobuf", "google.protobuf": "python3-protobuf",
            "cryptography": "python3-cryptography"}


def to_json(message):
    """A message as a dict: every field of its type, bytes as hex, enums by name."""
    from google.protobuf.descriptor import FieldDescriptor

    def value(field, v):
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            return to_json(v)
        if field.type == FieldDescriptor.TYPE_BYTES:
            return v.hex()
        if field.type == FieldDescriptor.TYPE_ENUM:
            known = field.enum_type.values_by_number.get(v)
            return known.name if known else v
        return v

    out = {}
    for field in message.DESCRIPTOR.fields:
        v = getattr(message, field.name)
        if field.label == FieldDescriptor.LABEL_REPEATED:
            out[field.name] = [value(field, item) for item in v]
        elif field.type == FieldDescriptor.TYPE_MESSAGE and not message.HasField(field.name):
            continue
        else:
            out[field.name] = value(field, v)
    return out


def emit(message):
    print(json.dumps(to_json(message), separators=(", ", ": ")), flush=True)


def log(line):
    print(f"murmur_node: {line}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Commands

def cmd_check(args):
    """Compiles murmur.proto and makes a key: proves every prerequisite is there."""
    import cryptography
    import google.protobuf
    import grpc
    import murmur_proto
    from murmur_identity import NodeKeys
    protoc, version = murmur_proto.find_protoc()
    murmur_proto.load()
    NodeKeys.generate()
    print(json.dumps({"grpc": grpc.__version__, "protobuf": google.protobuf.__version__,
                      "cryptography": cryptography.__version__, "protoc": f"{protoc} ({version})",
                      "proto": murmur_proto.proto_path()}), flush=True)


def cmd_keygen(args):
    from murmur_identity import NodeKeys
    keys = NodeKeys.generate()
    keys.save(args.keyfile)
    print(json.dumps({"node_id": keys.node_id, "key_file": args.keyfile}), flush=True)


def cmd_push(args, node):
    keys = node.keys()
    receipt = node.transfers().push_update(keys, args.task, args.round, args.file, args.samples)
    emit(receipt)


def cmd_pull(args, node):
    which = "candidate" if args.candidate else "global"
    info = node.transfers().pull_model(args.task, which, args.round, args.out)
    emit(info)


def cmd_stake(args, node):
    pb2, transfers = node.pb2(), node.transfers()
    request = transfers.sign(pb2.StakeRequest(task_id=args.task, amount=args.amount), node.keys())
    emit(node.unary("Stake", request))


def cmd_join(args, node):
    pb2, transfers = node.pb2(), node.transfers()
    request = transfers.sign(pb2.JoinRequest(task_id=args.task, round=args.round), node.keys())
    emit(node.unary("Join", request))


class Node:
    """What the network commands share, made on first use: the generated messages, the channel,
    the stub and the node key."""

    def __init__(self, args):
        self.args = args
        self._pb2 = self._stub = self._keys = self._transfers = None

    def pb2(self):
        if self._pb2 is None:
            import murmur_proto
            self._pb2 = murmur_proto.load()
        return self._pb2

    def stub(self):
        if self._stub is None:
            import murmur_proto
            channel = murmur_proto.open_channel(self.args.server, self.args.tls_ca, self.args.tls_cert,
                                                self.args.tls_key)
            self._stub = murmur_proto.MurmurStub(channel, self.pb2())
        return self._stub

    def keys(self):
        if self._keys is None:
            from murmur_identity import NodeKeys
            self._keys = NodeKeys.load(self.args.key)
        return self._keys

    def transfers(self):
        if self._transfers is None:
            from murmur_transfers import Transfers
            self._transfers = Transfers(self.pb2(), self.stub(), attempts=self.args.attempts, log=log)
        return self._transfers

    def unary(self, rpc, request):
        """Calls a unary RPC once: a state-changing request is not retried (a new nonce could apply
        the change twice). A transport failure is a TransferError, any other status a refusal."""
        import grpc
        import murmur_proto
        from murmur_transfers import TransferError
        try:
            return getattr(self.stub(), rpc)(request, timeout=self.args.timeout)
        except grpc.RpcError as e:
            if e.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                raise TransferError(f"{rpc}: {e.code().name}: {e.details()}") from None
            raise murmur_proto.Refused(e) from None


# ---------------------------------------------------------------------------------------------
# Command line

def uint(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative")
    return value


def parser():
    p = argparse.ArgumentParser(prog="murmur_node.py", description=__doc__.split("\n\n")[0])
    commands = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def network(name, help_text):
        c = commands.add_parser(name, help=help_text, description=help_text)
        c.add_argument("--server", required=True, metavar="HOST:PORT", help="the Murmur server")
        c.add_argument("--tls-ca", metavar="PEM", help="CA certificate: connect with TLS (default plaintext)")
        c.add_argument("--tls-cert", metavar="PEM", help="client certificate, for mutual TLS")
        c.add_argument("--tls-key", metavar="PEM", help="client certificate's private key, for mutual TLS")
        c.add_argument("--attempts", type=int, default=5, metavar="N",
                       help="attempts per transfer, the first included; the others follow transport failures "
                       "(default 5)")
        c.add_argument("--timeout", type=float, default=30, metavar="SECONDS",
                       help="deadline of each unary request (default 30)")
        return c

    def signed(name, help_text):
        c = network(name, help_text)
        c.add_argument("--key", required=True, metavar="KEYFILE", help="the node's key file (keygen)")
        return c

    c = commands.add_parser("check", help="check that grpc, protobuf, cryptography and protoc are usable")
    c.set_defaults(run=cmd_check, network=False)

    c = commands.add_parser("keygen", help="write a new Ed25519 node key file (never overwrites one)")
    c.add_argument("keyfile", metavar="KEYFILE")
    c.set_defaults(run=cmd_keygen, network=False)

    c = signed("push", "upload this node's update for a round (resumes after a broken stream)")
    c.add_argument("--task", required=True)
    c.add_argument("--round", required=True, type=uint)
    c.add_argument("--samples", required=True, type=uint, help="training samples behind the update (>= 1)")
    c.add_argument("file", metavar="UPDATE.safetensors")
    c.set_defaults(run=cmd_push, network=True)

    c = network("pull", "download the global model (or a round's candidate), verified by SHA-256")
    c.add_argument("--task", required=True)
    c.add_argument("--candidate", action="store_true", help="the round's candidate instead of the global model")
    c.add_argument("--round", type=uint, help="global: the model after this round (default current)")
    c.add_argument("out", metavar="OUT.safetensors")
    c.set_defaults(run=cmd_pull, network=True)

    c = signed("stake", "add stake to this node's stake in a task")
    c.add_argument("--task", required=True)
    c.add_argument("--amount", required=True, help="token units, a decimal integer string")
    c.set_defaults(run=cmd_stake, network=True)

    c = signed("join", "join a round of a task during its join phase")
    c.add_argument("--task", required=True)
    c.add_argument("--round", required=True, type=uint)
    c.set_defaults(run=cmd_join, network=True)
    return p


def main(argv=None):
    p = parser()
    args = p.parse_args(argv)
    if args.command == "pull" and args.candidate and args.round is None:
        p.error("pull --candidate needs --round")
    try:
        import grpc
        import murmur_proto
        from murmur_identity import KeyFileError
        from murmur_transfers import TransferError
    except ImportError as e:
        package = PACKAGES.get(e.name, PACKAGES.get((e.name or "").split(".")[0], "it"))
        log(f"{args.command} failed: python module {e.name} missing: install Debian's {package}")
        return FAILED
    try:
        if args.network:
            args.run(args, Node(args))
        else:
            args.run(args)
        return 0
    except murmur_proto.Refused as e:
        log(f"{args.command} refused: {e.line()}")
        return REFUSED
    except grpc.RpcError as e:
        log(f"{args.command} failed: {e.code().name}: {e.details()}")
        return FAILED
    except (murmur_proto.SetupError, KeyFileError, TransferError, OSError, ValueError) as e:
        log(f"{args.command} failed: {e}")
        return FAILED


if __name__ == "__main__":
    sys.exit(main())
