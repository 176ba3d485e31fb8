"""Protobuf + gRPC C++ code generation with the system protoc (no rules_proto download)."""

def renkei_cc_proto(name, srcs = [], grpc_srcs = [], deps = []):
    """Generates C++ for `srcs` (messages) and `grpc_srcs` (messages + services).

    All protos of the package are visible to protoc, so imports across libraries work;
    the generated headers are included as "renkei/v1/envelope.pb.h".
    """
    all_srcs = srcs + grpc_srcs
    outs = []
    for src in all_srcs:
        base = src[:-len(".proto")]
        outs += [base + ".pb.h", base + ".pb.cc"]
    for src in grpc_srcs:
        base = src[:-len(".proto")]
        outs += [base + ".grpc.pb.h", base + ".grpc.pb.cc"]
    grpc_cmd = ""
    if grpc_srcs:
        grpc_cmd = ("protoc -I$$PROTO_ROOT --grpc_out=$(RULEDIR) " +
                    "--plugin=protoc-gen-grpc=/usr/bin/grpc_cpp_plugin " +
                    " ".join(["$$PROTO_ROOT/" + s for s in grpc_srcs]) + " && ")
    native.genrule(
        name = name + "_gen",
        srcs = all_srcs + [":all_protos"],
        outs = outs,
        cmd = ("PROTO_ROOT=$$(dirname $(location " + all_srcs[0] + "))/" +
               "/".join([".."] * all_srcs[0].count("/")) + " && " +
               grpc_cmd +
               "protoc -I$$PROTO_ROOT --cpp_out=$(RULEDIR) " +
               " ".join(["$$PROTO_ROOT/" + s for s in all_srcs])),
    )
    native.cc_library(
        name = name,
        srcs = [o for o in outs if o.endswith(".cc")],
        hdrs = [o for o in outs if o.endswith(".h")],
        includes = ["."],
        deps = deps + ["//third_party/system:grpc", "//third_party/system:protobuf"],
    )
