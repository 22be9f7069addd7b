package io.deskgate.gateway;

import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;

/**
 * Feeds engines' datagrams to the {@link SessionTable}. Runs on the UDP event loop, which owns the
 * table. Copies each packet's bytes into an owned array; the packet itself is released by
 * {@link SimpleChannelInboundHandler} when this returns.
 */
final class UdpDatagramHandler extends SimpleChannelInboundHandler<DatagramPacket> {
    private final SessionTable table;

    UdpDatagramHandler(SessionTable table) {
        super(DatagramPacket.class, true);
        this.table = table;
    }

    @Override protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
        table.onDatagram(ByteBufUtil.getBytes(packet.content()), packet.sender(), System.nanoTime());
    }
}
