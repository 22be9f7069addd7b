package io.deskgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.stream.StreamCodec;
import io.deskgate.stream.StreamMessage.FrameEnd;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Backpressure toward a slow browser (docs/protocol.md §2.9) on an EmbeddedChannel. */
class DownstreamFlowHandlerTest {
    final AtomicInteger resyncs = new AtomicInteger();

    EmbeddedChannel channel() {
        EmbeddedChannel ch = new EmbeddedChannel(new DownstreamFlowHandler(resyncs::incrementAndGet));
        ch.config().setWriteBufferWaterMark(new WriteBufferWaterMark(64, 128));
        return ch;
    }

    static byte[] frame(Object o) {
        BinaryWebSocketFrame f = (BinaryWebSocketFrame) o;
        try {
            return ByteBufUtil.getBytes(f.content());
        } finally {
            f.release();
        }
    }

    @Test
    void shouldWriteEachMessageAsOneBinaryFrameOfItsCodecBytes() {
        EmbeddedChannel ch = channel();
        ch.writeAndFlush(new FrameEnd(1, 2));
        assertThat(frame(ch.readOutbound())).isEqualTo(StreamCodec.encode(new FrameEnd(1, 2)));
        assertThat(ch.finish()).isFalse();
    }

    @Test
    void shouldQueueWhileUnwritableAndSendInOrderWhenWritableAgain() {
        EmbeddedChannel ch = channel();
        ch.write(new BinaryWebSocketFrame(ch.alloc().buffer().writeZero(200))); // unflushed: over the high mark
        assertThat(ch.isWritable()).isFalse();
        DownstreamFlowHandler h = ch.pipeline().get(DownstreamFlowHandler.class);
        for (int i = 0; i < 10; i++) ch.write(new FrameEnd(i, i));
        assertThat(h.queued()).isEqualTo(10);
        ch.flush(); // drains the outbound buffer: writable again, queue written behind it
        ch.runPendingTasks();
        assertThat(h.queued()).isZero();
        ((BinaryWebSocketFrame) ch.readOutbound()).release();
        for (int i = 0; i < 10; i++) assertThat(frame(ch.readOutbound())).isEqualTo(StreamCodec.encode(new FrameEnd(i, i)));
        assertThat(resyncs).hasValue(0);
        ch.finishAndReleaseAll();
    }

    @Test
    void shouldDropTheQueuePastItsBoundAndAskForRefreshWhenWritable() {
        EmbeddedChannel ch = channel();
        ch.write(new BinaryWebSocketFrame(ch.alloc().buffer().writeZero(200)));
        DownstreamFlowHandler h = ch.pipeline().get(DownstreamFlowHandler.class);
        for (int i = 0; i <= DownstreamFlowHandler.MAX_QUEUED_MESSAGES + 10; i++) ch.write(new FrameEnd(i, i));
        assertThat(h.overflowed()).isTrue();
        assertThat(h.queued()).isZero();
        ch.flush();
        ch.runPendingTasks();
        assertThat(resyncs).hasValue(1);
        ((BinaryWebSocketFrame) ch.readOutbound()).release();
        assertThat((Object) ch.readOutbound()).as("dropped messages are never written").isNull();
        ch.writeAndFlush(new FrameEnd(99, 99));
        assertThat(frame(ch.readOutbound())).isEqualTo(StreamCodec.encode(new FrameEnd(99, 99)));
        ch.finishAndReleaseAll();
    }
}
