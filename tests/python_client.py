#!/usr/bin/python3
"""An independent client: Python's gRPC (Debian python3-grpcio, a different gRPC
implementation's bindings than the C++ the platform is built with) calls the resident registry
through a Renkei security server, as any agency system would.

usage: python_client.py --address HOST:PORT --stubs DIR --ca FILE
                        --cert FILE --key FILE [--cert-unregistered FILE --key-unregistered FILE]
Exits 0 when every check holds; prints what it checked.
"""
import argparse
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", required=True)
    parser.add_argument("--stubs", required=True, help="folder with protoc --python_out output")
    parser.add_argument("--ca", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--other-cert", required=True, help="a client registered as another subsystem")
    parser.add_argument("--other-key", required=True)
    args = parser.parse_args()
    sys.path.insert(0, args.stubs)

    import grpc
    from municipal.v1 import resident_registry_pb2 as registry

    def channel(cert, key):
        read = lambda path: open(path, "rb").read()
        credentials = grpc.ssl_channel_credentials(
            root_certificates=read(args.ca), private_key=read(key), certificate_chain=read(cert))
        return grpc.secure_channel(args.address, credentials)

    def get_resident(chan, code):
        call = chan.unary_unary(
            "/renkei.municipal.v1.ResidentRegistry/GetResident",
            request_serializer=registry.GetResidentRequest.SerializeToString,
            response_deserializer=registry.GetResidentResponse.FromString)
        return call.with_call(
            registry.GetResidentRequest(resident_code=code),
            metadata=[("renkei-client", "JP/GOV/MHLW/child-allowance"),
                      ("renkei-service", "JP/MUNI/131016/resident-registry"),
                      ("renkei-subject", code),
                      ("renkei-purpose", "python-interop-test"),
                      ("renkei-user", "official-7")],
            timeout=10)

    failures = []

    def check(condition, what):
        print(("ok   " if condition else "FAIL ") + what)
        if not condition:
            failures.append(what)

    with channel(args.cert, args.key) as chan:
        response, call = get_resident(chan, "131016-0001")
        resident = response.resident
        check(resident.resident_code == "131016-0001", "resident code comes back")
        check(resident.family_name_kanji.encode("utf-8") == b"\xe9\xbd\x8b\xe8\x97\xa4",
              "family name 齋藤 byte-exact")
        check(resident.family_name_kana == "サイトウ", "kana name")
        check([m.resident_code for m in resident.household][:2] == ["131016-0001", "131016-0002"],
              "household members")
        trailers = dict(call.trailing_metadata())
        check(len(trailers.get("renkei-message-id", "")) == 32, "message id in trailing metadata")

        response, _ = get_resident(chan, "131016-0007")
        check(response.resident.family_name_kanji.encode("utf-8") ==
              b"\xe8\xbe\xbb\xf3\xa0\x84\x80", "辻 with variation selector byte-exact")

        try:
            get_resident(chan, "131016-9999")
            check(False, "unknown resident is NOT_FOUND")
        except grpc.RpcError as error:
            check(error.code() == grpc.StatusCode.NOT_FOUND, "unknown resident is NOT_FOUND")

    with channel(args.other_cert, args.other_key) as chan:
        try:
            get_resident(chan, "131016-0001")
            check(False, "a caller registered as another subsystem is PERMISSION_DENIED")
        except grpc.RpcError as error:
            check(error.code() == grpc.StatusCode.PERMISSION_DENIED,
                  "a caller registered as another subsystem is PERMISSION_DENIED: " + error.details())

    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
