package io.deskgate.frontdoor;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;

/** Channels to the control plane's gRPC services. */
final class GrpcChannels {
    private GrpcChannels() {}

    /** A plaintext channel to {@code host:port}; the control plane runs on a trusted network for now. */
    static ManagedChannel plaintext(String target) {
        return Grpc.newChannelBuilder(target, InsecureChannelCredentials.create()).build();
    }
}
