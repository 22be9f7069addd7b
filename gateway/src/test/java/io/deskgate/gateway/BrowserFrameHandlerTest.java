package io.deskgate.gateway;

import io.deskgate.common.RateLimitedLog;
import org.slf4j.LoggerFactory;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.common.Status;
import io.deskgate.stream.StreamCodec;
import io.deskgate.stream.StreamMessage;
import io.deskgate.stream.StreamMessage.Key;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The browser-frame rules of docs/protocol.md §2.9, on an embedded channel. */
class BrowserFrameHandlerTest {
    final List<StreamMessage> upward = new ArrayList<>();
    final int[] closed = new int[1];
    final EmbeddedChannel channel = new EmbeddedChannel(
            new BrowserFrameHandler(new SessionKey(1, UUID.randomUUID()), upward::add, () -> closed[0]++,
                    new RateLimitedLog(LoggerFactory.getLogger(BrowserFrameHandlerTest.class))));

    @Test
    void shouldForwardAnUpMessageFromTheBrowser() {
        channel.writeInbound(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(StreamCodec.encode(new Key(true, 0x61)))));
        assertThat(upward).containsExactly(new Key(true, 0x61));
        assertThat(channel.isActive()).isTrue();
    }

    @Test
    void shouldCloseWithProtocolErrorAndForwardNothingWhenTheBrowserSendsViewerLeft() {
        channel.writeInbound(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(new byte[] {(byte) StreamCodec.VIEWER_LEFT})));
        assertThat(upward).isEmpty();
        CloseWebSocketFrame close = channel.readOutbound();
        assertThat(close.statusCode()).isEqualTo(Status.PROTOCOL_ERROR.wsCloseCode());
        close.release();
        assertThat(channel.isActive()).isFalse();
        assertThat(closed[0]).as("onClosed ran once").isEqualTo(1);
    }
}
