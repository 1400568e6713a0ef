#!/usr/bin/python3
"""Signs request messages given as files, so another implementation can check that Python signs
exactly as it does (server/src/test/java/org/murmur/server/grpc/PythonClientTest.java does).

    sign_vectors.py --key KEYFILE DIR

DIR/cases.txt lists one case a line, `NAME TYPE` (TYPE a full message name such as
murmur.v1.StakeRequest). For each, DIR/NAME.in holds the unsigned message in protobuf binary;
this writes DIR/NAME.payload, the canonical payload bytes, and DIR/NAME.signed, the message with
its `auth` signed for the RPC that carries its type (task id and round from the message itself).
"""
import argparse
import os
import sys

import murmur_identity
import murmur_proto


def main(argv=None):
    p = argparse.ArgumentParser(prog="sign_vectors.py")
    p.add_argument("--key", required=True)
    p.add_argument("dir")
    args = p.parse_args(argv)
    pb2 = murmur_proto.load()
    keys = murmur_identity.NodeKeys.load(args.key)
    purposes = murmur_identity.signed_types(pb2)
    with open(os.path.join(args.dir, "cases.txt"), encoding="utf-8") as f:
        cases = [line.split() for line in f if line.strip()]
    for name, type_name in cases:
        cls = getattr(pb2, type_name.rsplit(".", 1)[1])
        with open(os.path.join(args.dir, name + ".in"), "rb") as f:
            message = cls.FromString(f.read())
        with open(os.path.join(args.dir, name + ".payload"), "wb") as f:
            f.write(murmur_identity.canonical_payload(message))
        purpose = purposes[type_name]
        murmur_identity.sign(message, keys, purpose)
        murmur_identity.verify(message, purpose)
        with open(os.path.join(args.dir, name + ".signed"), "wb") as f:
            f.write(message.SerializeToString())
        task_id, round_ = murmur_identity.request_scope(message)
        print(f"{name}: {purpose} task={task_id!r} round={round_}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
