package io.deskgate.frontdoor;

import io.deskgate.wire.ControlAuth;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;

/** Channels to the control plane's gRPC services. */
final class GrpcChannels {
    private GrpcChannels() {}

    /**
     * A plaintext channel to {@code host:port} whose every call carries the control credential
     * ({@link ControlAuth}); the control plane runs on loopback or a trusted network for now.
     */
    static ManagedChannel authenticated(String target, ControlAuth auth) {
        return Grpc.newChannelBuilder(target, InsecureChannelCredentials.create())
                .intercept(auth.clientInterceptor()).build();
    }
}
