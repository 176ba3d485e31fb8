#!/usr/bin/env python3
"""A raw HTTP/2 gRPC client for the attack corpus (tests/security).

gRPC's own libraries refuse to send metadata values with NUL, ESC, CR/LF, DEL or invalid
UTF-8; an attacker's client does not. This one sends exactly the bytes it is given, with
Debian's python3-h2 (header validation and normalisation off), over TLS with a client
certificate, and prints what came back as one JSON line:
  {"grpc_status": 3, "grpc_message": "...", "reset": null, "message_id": "..."}

usage: raw_h2_client.py --address HOST:PORT --ca CA --cert CERT --key KEY
                        --header NAME=HEXVALUE [--header ...]
Header values are hex, so that any byte can be given.
"""
import argparse
import json
import socket
import ssl
import sys
import urllib.parse

import h2.config
import h2.connection
import h2.events

METHOD = b"/renkei.municipal.v1.ResidentRegistry/GetResident"


def grpc_frame(resident_code):
    # GetResidentRequest{resident_code = 1}, in a gRPC length-prefixed message.
    code = resident_code.encode()
    message = b"\x0a" + bytes([len(code)]) + code
    return b"\x00" + len(message).to_bytes(4, "big") + message


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--header", action="append", default=[])
    args = parser.parse_args()

    host, port = args.address.rsplit(":", 1)
    context = ssl.create_default_context(cafile=args.ca)
    context.load_cert_chain(args.cert, args.key)
    context.set_alpn_protocols(["h2"])
    sock = context.wrap_socket(socket.create_connection((host, int(port)), timeout=20),
                               server_hostname=host)

    config = h2.config.H2Configuration(client_side=True, header_encoding=None,
                                       validate_outbound_headers=False,
                                       normalize_outbound_headers=False,
                                       validate_inbound_headers=False)
    connection = h2.connection.H2Connection(config=config)
    connection.initiate_connection()
    headers = [(b":method", b"POST"), (b":scheme", b"https"), (b":path", METHOD),
               (b":authority", args.address.encode()), (b"content-type", b"application/grpc"),
               (b"te", b"trailers")]
    for header in args.header:
        name, value = header.split("=", 1)
        headers.append((name.encode(), bytes.fromhex(value)))
    stream = connection.get_next_available_stream_id()
    connection.send_headers(stream, headers)
    connection.send_data(stream, grpc_frame("131016-0001"), end_stream=True)
    sock.sendall(connection.data_to_send())

    result = {"grpc_status": None, "grpc_message": None, "reset": None, "message_id": None}
    done = False
    while not done:
        data = sock.recv(65536)
        if not data:
            break
        for event in connection.receive_data(data):
            if isinstance(event, (h2.events.ResponseReceived, h2.events.TrailersReceived)):
                for name, value in event.headers:
                    if name == b"grpc-status":
                        result["grpc_status"] = int(value)
                    elif name == b"grpc-message":
                        result["grpc_message"] = urllib.parse.unquote(value.decode())
                    elif name == b"renkei-message-id":
                        result["message_id"] = value.decode()
                if isinstance(event, h2.events.TrailersReceived) or b"grpc-status" in dict(
                        event.headers):
                    done = True
            elif isinstance(event, h2.events.StreamReset):
                result["reset"] = int(event.error_code)
                done = True
            elif isinstance(event, h2.events.ConnectionTerminated):
                result["reset"] = "goaway %d" % int(event.error_code)
                done = True
            elif isinstance(event, h2.events.DataReceived):
                connection.acknowledge_received_data(event.flow_controlled_length,
                                                     event.stream_id)
        sock.sendall(connection.data_to_send())
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
