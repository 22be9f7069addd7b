package io.deskgate.engine;

import io.deskgate.stream.StreamMessage;

/**
 * Where {@link InstanceCore} sends down stream messages, in order. In production it is the instance's
 * {@link io.deskgate.stream.StreamSession} and datagram channel; tests collect the messages.
 *
 * <p>Called only by the thread that owns the instance's core.
 */
@FunctionalInterface
public interface StreamSink {
    void send(StreamMessage message, long nowNs);
}
