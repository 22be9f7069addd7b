package io.deskgate.testkit;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/** gRPC helpers for tests of the control plane. */
public final class GrpcCalls {
    private GrpcCalls() {}

    /** The status code a blocking call ends with: {@code OK} when it returns, else the code it failed with. */
    public static Status.Code code(Runnable call) {
        try {
            call.run();
            return Status.Code.OK;
        } catch (StatusRuntimeException e) {
            return e.getStatus().getCode();
        }
    }
}
