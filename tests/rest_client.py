#!/usr/bin/python3
"""A JSON client with nothing but Python's standard library (urllib, ssl, json) calls the
resident registry through a Renkei security server's JSON entry, as an agency system that does
not speak gRPC would.

usage: rest_client.py --url https://127.0.0.1:PORT --ca FILE --cert FILE --key FILE
Exits 0 when every check holds; prints what it checked.
"""
import argparse
import json
import re
import socket
import ssl
import sys
import urllib.error
import urllib.request

REGISTRY = "/r1/JP/MUNI/131016/resident-registry/renkei.municipal.v1.ResidentRegistry/GetResident"
# The family names, spelled as UTF-8 bytes so that what is compared is what is meant.
EXPECTED = {
    "131016-0001": b"\xe9\xbd\x8b\xe8\x97\xa4".decode(),          # 齋藤
    "131016-0005": b"\xe9\xab\x99\xe6\xa9\x8b".decode(),          # 髙橋
    "131016-0007": b"\xe8\xbe\xbb\xf3\xa0\x84\x80".decode(),      # 辻 + variation selector
    "131016-0008": b"\xe9\xbd\x8a\xe8\x97\xa4".decode(),          # 齊藤, not 齋藤
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    args = parser.parse_args()

    context = ssl.create_default_context(cafile=args.ca)
    context.load_cert_chain(args.cert, args.key)

    def call(body, headers):
        request = urllib.request.Request(args.url + REGISTRY, data=body, method="POST",
                                         headers={"Content-Type": "application/json", **headers})
        try:
            with urllib.request.urlopen(request, context=context, timeout=30) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    failures = []

    def check(condition, what):
        print(("ok   " if condition else "FAIL ") + what)
        if not condition:
            failures.append(what)

    for code, family in EXPECTED.items():
        status, headers, raw = call(json.dumps({"residentCode": code}).encode(),
                                    {"Renkei-Client": "JP/GOV/MHLW/child-allowance",
                                     "Renkei-Subject": code,
                                     "Renkei-Purpose": "python-rest-test",
                                     "Renkei-User": "official-7"})
        check(status == 200, f"{code}: 200 (got {status}: {raw[:200]!r})")
        if status != 200:
            continue
        answer = json.loads(raw.decode("utf-8"))
        got = answer.get("resident", {}).get("familyNameKanji", "")
        check(got.encode() == family.encode(), f"{code}: family name {family} byte-exact")
        # The bytes on the wire carry the name unescaped, exactly as the registry holds it.
        check(family.encode() in raw, f"{code}: the name's UTF-8 bytes are in the body as sent")
        message_id = headers.get("Renkei-Message-Id", "")
        check(re.fullmatch(r"[0-9a-f]{32}", message_id) is not None,
              f"{code}: Renkei-Message-Id header {message_id!r}")

    status, _, raw = call(b'{"residentCode": 7}', {"Renkei-Client": "JP/GOV/MHLW/child-allowance",
                                                   "Renkei-Subject": "131016-0001",
                                                   "Renkei-Purpose": "python-rest-test"})
    error = json.loads(raw.decode("utf-8")) if raw else {}
    named = any(name in error.get("message", "") for name in ("residentCode", "resident_code"))
    check(status == 400 and error.get("code") == "INVALID_ARGUMENT" and named,
          f"a number for a string field: 400 naming the field ({status}: {error})")

    # A client that resumes its TLS session (curl, Java and Python do) is served as before.
    host, port = args.url.split("//")[1].rsplit(":", 1)
    request = (f"POST {REGISTRY} HTTP/1.1\r\nHost: {host}:{port}\r\n"
               "Renkei-Client: JP/GOV/MHLW/child-allowance\r\nRenkei-Subject: 131016-0001\r\n"
               "Renkei-Purpose: python-rest-test\r\nContent-Type: application/json\r\n"
               "Content-Length: 31\r\nConnection: close\r\n\r\n"
               '{"residentCode": "131016-0001"}').encode()

    def raw_call(session=None):
        with socket.create_connection((host, int(port)), timeout=30) as raw:
            with context.wrap_socket(raw, server_hostname=host, session=session) as tls:
                tls.sendall(request)
                answer = b""
                while chunk := tls.recv(65536):
                    answer += chunk
                return answer, tls.session, tls.session_reused

    first, session, _ = raw_call()
    second, _, reused = raw_call(session)
    check(first.startswith(b"HTTP/1.1 200") and second.startswith(b"HTTP/1.1 200") and reused,
          f"a resumed TLS session is served (reused: {reused}, {second[:40]!r})")

    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
