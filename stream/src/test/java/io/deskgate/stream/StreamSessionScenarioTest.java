package io.deskgate.stream;

import io.deskgate.common.ProtocolException;
import io.deskgate.stream.StreamMessage.FrameAck;
import io.deskgate.stream.StreamMessage.FrameEnd;
import io.deskgate.stream.StreamMessage.Key;
import io.deskgate.stream.StreamMessage.RefreshRequest;
import io.deskgate.stream.StreamMessage.Tile;
import io.deskgate.stream.StreamSession.Receipt;
import io.deskgate.stream.StreamSession.Side;
import io.deskgate.testkit.ScenarioScript;
import io.deskgate.testkit.ScenarioScript.Event;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Stream;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * A pair of {@link StreamSession}s (an engine and a gateway) and the network between them, replayed from
 * {@code src/test/testdata/stream-session/*.txt} (see {@link ScenarioScript}; {@code -Ddeskgate.rewrite=true}
 * rewrites the expectations). Only the production API is driven: {@code send}, {@code receive},
 * {@code tick}, {@code peerTimedOut}.
 *
 * <p>Events (any may take {@code at=<duration>}: the fake clock's time since the start; it never goes back):
 * <ul>
 *   <li>{@code start [mtu=B retransmit=N retransmit-bytes=B nack-delay=D give-up=D keepalive=D peer-timeout=D]}
 *       (first): both sides' {@link StreamSessionConfig} (defaults otherwise); {@code engine.KEY=} or
 *       {@code gateway.KEY=} sets one side's only.
 *   <li>{@code send engine|gateway MESSAGE}: MESSAGE is {@code tile id=N bytes=B} (B encoded bytes),
 *       {@code frame-end frame=N} (down), {@code key keysym=K}, {@code frame-ack frame=N}, {@code refresh-request} (up).
 *   <li>{@code deliver [NAME...]}: the named datagrams reach their peer, in the order written ({@code e3..e5}
 *       is a range); without names, every datagram in flight, in the order sent. A name may be delivered
 *       again: the network duplicated it.
 *   <li>{@code drop NAME...}: datagrams in flight are lost.
 *   <li>{@code tick [engine|gateway]}: the timers of one side, or of both (engine first).
 *   <li>{@code restart engine|gateway}: that side is a new instance (a new epoch) with the same key.
 *   <li>{@code state}: each side's liveness, and the datagrams in flight.
 * </ul>
 *
 * <p>Output: {@code SIDE sent NAME KIND ...} for each datagram a side writes ({@code e1, e2, ...} from the
 * engine, {@code g1, ...} from the gateway, decrypted here to print the NACK ranges and keepalive fields),
 * {@code SIDE resent NAME} for a retransmission (the stored bytes again), {@code SIDE got MESSAGE},
 * {@code SIDE refresh-needed}, {@code SIDE ignored NAME (not fresh)} for a duplicate or replay,
 * {@code SIDE rejected NAME: why}, and, at a tick, {@code SIDE peer-timed-out} / {@code SIDE peer-heard-again}
 * when {@code peerTimedOut} changes.
 */
class StreamSessionScenarioTest {
    @TestFactory
    Stream<DynamicTest> scenarios() {
        return ScenarioScript.tests(Path.of("src/test/testdata/stream-session"), Replay::new);
    }

    /** One file's two sessions, the network and the fake clock. */
    static final class Replay implements Function<Event, List<String>> {
        private static final long MS = 1_000_000L;
        /** The fake clock starts far from zero so that nothing depends on a zero epoch. */
        private static final long BASE = 1_000_000 * MS;
        private static final int TENANT = 7;
        private static final UUID SESSION = UUID.fromString("00112233-4455-6677-8899-aabbccddeeff");
        private static final byte[] KEY = new StreamKeys(new byte[32]).derive(TENANT, SESSION.toString());

        private final Map<Side, StreamSessionConfig> configs = new EnumMap<>(Side.class);
        private final Map<Side, StreamSession> sessions = new EnumMap<>(Side.class);
        private final Map<Side, Boolean> timedOutShown = new EnumMap<>(Side.class);
        private final Map<Side, Integer> counters = new EnumMap<>(Side.class);
        private final Map<Side, Integer> epochs = new EnumMap<>(Side.class);
        /** Every datagram either side wrote, by name. */
        private final Map<String, byte[]> datagrams = new LinkedHashMap<>();
        /** Datagrams on the network now, in the order sent (a name twice once it was resent). */
        private final List<String> inFlight = new ArrayList<>();
        /** What was sent with each tile id, to tell a reassembled tile from a corrupt one. */
        private final Map<Integer, Tile> tiles = new HashMap<>();
        private final Cipher cipher;
        private long now = BASE;

        Replay() {
            try {
                cipher = Cipher.getInstance("AES/GCM/NoPadding");
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public List<String> apply(Event e) {
            if (e.args().containsKey("at")) {
                long t = BASE + e.nanosArg("at");
                if (t < now) throw e.bad("time goes back");
                now = t;
            }
            if (sessions.isEmpty() && !e.name().equals("start")) throw e.bad("the first event must be start");
            List<String> out = new ArrayList<>();
            switch (e.name()) {
                case "start" -> start(e);
                case "send" -> {
                    Side side = side(e);
                    for (byte[] d : sessions.get(side).send(message(e, side), now)) out.add(sent(side, d));
                }
                case "deliver" -> {
                    List<String> names = names(e);
                    if (names.isEmpty()) {
                        if (inFlight.isEmpty()) throw e.bad("nothing in flight");
                        names = List.copyOf(inFlight);
                    }
                    for (String n : names) {
                        inFlight.remove(n);
                        deliver(n, out);
                    }
                }
                case "drop" -> {
                    List<String> names = names(e);
                    if (names.isEmpty()) throw e.bad("name the datagrams lost");
                    for (String n : names) if (!inFlight.remove(n)) throw e.bad(n + " is not in flight");
                }
                case "tick" -> {
                    if (e.words().isEmpty()) {
                        tick(Side.ENGINE, out);
                        tick(Side.GATEWAY, out);
                    } else {
                        tick(side(e), out);
                    }
                }
                case "restart" -> {
                    Side side = side(e);
                    epochs.merge(side, 1, Integer::sum);
                    sessions.put(side, session(side));
                    timedOutShown.put(side, false);
                }
                case "state" -> {
                    for (Side side : Side.values()) {
                        StreamSession s = sessions.get(side);
                        long heard = s.lastHeardNs();
                        out.add(name(side) + " last-heard=" + (heard == Long.MIN_VALUE ? "never" : ms(heard))
                                + " peer-timed-out=" + s.peerTimedOut(now));
                    }
                    out.add("in-flight " + (inFlight.isEmpty() ? "none" : String.join(" ", inFlight)));
                }
                default -> throw e.bad("unknown event");
            }
            return out;
        }

        private static final List<String> OPTIONS =
                List.of("mtu", "retransmit", "retransmit-bytes", "nack-delay", "give-up", "keepalive", "peer-timeout");

        private void start(Event e) {
            if (!sessions.isEmpty()) throw e.bad("start only once");
            for (String k : e.args().keySet()) {
                if (!k.equals("at") && !OPTIONS.contains(k.substring(k.indexOf('.') + 1))) throw e.bad("unknown option " + k);
                if (k.contains(".") && !k.startsWith("engine.") && !k.startsWith("gateway.")) throw e.bad("unknown side in " + k);
            }
            for (Side side : Side.values()) {
                StreamSessionConfig d = StreamSessionConfig.defaults();
                String p = name(side) + ".";
                StreamSessionConfig c = new StreamSessionConfig(
                        (int) number(e, p, "mtu", d.maxDatagramBytes()),
                        (int) number(e, p, "retransmit", d.retransmitBufferDatagrams()),
                        number(e, p, "retransmit-bytes", d.retransmitBufferBytes()),
                        duration(e, p, "nack-delay", d.nackDelayNs()),
                        duration(e, p, "give-up", d.giveUpGapNs()),
                        duration(e, p, "keepalive", d.keepaliveIntervalNs()),
                        duration(e, p, "peer-timeout", d.peerTimeoutNs()));
                configs.put(side, c);
                counters.put(side, 0);
                epochs.put(side, 1);
                sessions.put(side, session(side));
                timedOutShown.put(side, false);
            }
        }

        /** {@code engine.KEY=} (or {@code gateway.KEY=}), else {@code KEY=}, else the default. */
        private static long number(Event e, String prefix, String key, long orElse) {
            String k = e.args().containsKey(prefix + key) ? prefix + key : key;
            return e.args().containsKey(k) ? e.longArg(k) : orElse;
        }

        private static long duration(Event e, String prefix, String key, long orElseNs) {
            String k = e.args().containsKey(prefix + key) ? prefix + key : key;
            return e.nanosArg(k, orElseNs + "ns");
        }

        /** Fixed epochs (engine 0xe0000001, gateway 0x60000001, one more at each restart): the replay is repeatable. */
        private StreamSession session(Side side) {
            int epoch = (side == Side.ENGINE ? 0xe0000000 : 0x60000000) + epochs.get(side);
            return new StreamSession(side, TENANT, SESSION, KEY, configs.get(side), epoch);
        }

        private static Side side(Event e) {
            boolean engine = e.has("engine");
            if (engine == e.has("gateway")) throw e.bad("say engine or gateway");
            return engine ? Side.ENGINE : Side.GATEWAY;
        }

        private static String name(Side side) { return side == Side.ENGINE ? "engine" : "gateway"; }

        private static Side peer(Side side) { return side == Side.ENGINE ? Side.GATEWAY : Side.ENGINE; }

        private StreamMessage message(Event e, Side side) {
            List<String> kinds = e.words().stream().filter(w -> !w.equals("engine") && !w.equals("gateway")).toList();
            if (kinds.size() != 1) throw e.bad("name one message: tile, frame-end, key, frame-ack or refresh-request");
            return switch (kinds.getFirst()) {
                case "tile" -> {
                    int id = e.intArg("id");
                    int bytes = e.intArg("bytes");
                    if (id < 0 || id > 0xffff) throw e.bad("tile id must be in [0, 65535]");
                    if (bytes < 10 || bytes > StreamCodec.MAX_MESSAGE_BYTES) throw e.bad("a tile is 10 to 4 MiB bytes");
                    byte[] data = new byte[bytes - 10];
                    new Random(id).nextBytes(data);
                    Tile t = new Tile(id, 0, 16, 16, Tile.FORMAT_JPEG, data);
                    tiles.put(id, t);
                    yield t;
                }
                case "frame-end" -> new FrameEnd(e.longArg("frame"), 0);
                case "key" -> new Key(true, e.longArg("keysym"));
                case "frame-ack" -> new FrameAck(e.longArg("frame"), 0);
                case "refresh-request" -> new RefreshRequest();
                default -> throw e.bad("unknown message " + kinds.getFirst());
            };
        }

        /** Names and {@code e3..e5} ranges, each one a datagram written so far. */
        private List<String> names(Event e) {
            List<String> out = new ArrayList<>();
            for (String w : e.words()) {
                int dots = w.indexOf("..");
                if (dots < 0) {
                    out.add(known(e, w));
                    continue;
                }
                String from = known(e, w.substring(0, dots));
                String to = known(e, w.substring(dots + 2));
                if (from.charAt(0) != to.charAt(0)) throw e.bad("a range is one side's: " + w);
                int a = Integer.parseInt(from.substring(1));
                int b = Integer.parseInt(to.substring(1));
                if (b < a) throw e.bad("empty range " + w);
                for (int i = a; i <= b; i++) out.add(from.charAt(0) + String.valueOf(i));
            }
            return out;
        }

        private String known(Event e, String name) {
            if (!datagrams.containsKey(name)) throw e.bad("no datagram " + name);
            return name;
        }

        private void deliver(String name, List<String> out) {
            Side to = name.startsWith("e") ? Side.GATEWAY : Side.ENGINE;
            byte[] d = datagrams.get(name);
            Receipt r;
            try {
                r = sessions.get(to).receive(d, d.length, now);
            } catch (ProtocolException ex) {
                out.add(name(to) + " rejected " + name + ": " + ex.getMessage());
                return;
            }
            if (!r.fresh()) out.add(name(to) + " ignored " + name + " (not fresh)");
            receipt(to, r, out);
        }

        private void tick(Side side, List<String> out) {
            receipt(side, sessions.get(side).tick(now), out);
            boolean timedOut = sessions.get(side).peerTimedOut(now);
            if (timedOut != timedOutShown.get(side)) {
                out.add(name(side) + (timedOut ? " peer-timed-out" : " peer-heard-again"));
                timedOutShown.put(side, timedOut);
            }
        }

        private void receipt(Side side, Receipt r, List<String> out) {
            for (StreamMessage m : r.delivered()) out.add(name(side) + " got " + describe(m));
            if (r.refreshNeeded()) out.add(name(side) + " refresh-needed");
            for (byte[] d : r.replies()) out.add(sent(side, d));
        }

        private String describe(StreamMessage m) {
            return switch (m) {
                case Tile t -> "tile id=" + t.x() + " bytes=" + StreamCodec.encode(t).length
                        + (t.equals(tiles.get(t.x())) ? "" : " NOT AS SENT");
                case FrameEnd f -> "frame-end frame=" + f.frameId();
                case Key k -> "key keysym=" + k.keysym();
                case FrameAck f -> "frame-ack frame=" + f.frameId();
                case RefreshRequest r -> "refresh-request";
                default -> m.toString();
            };
        }

        /** Names a datagram a side wrote (or recognises a retransmission) and puts it in flight. */
        private String sent(Side side, byte[] d) {
            String prefix = side == Side.ENGINE ? "e" : "g";
            for (Map.Entry<String, byte[]> known : datagrams.entrySet()) {
                if (known.getKey().startsWith(prefix) && Arrays.equals(known.getValue(), d)) {
                    inFlight.add(known.getKey());
                    return name(side) + " resent " + known.getKey();
                }
            }
            int n = counters.merge(side, 1, Integer::sum);
            String name = prefix + n;
            datagrams.put(name, d.clone());
            inFlight.add(name);
            return name(side) + " sent " + name + " " + wire(d);
        }

        /** The header, and the payload opened with the session key: what the datagram says. */
        private String wire(byte[] d) {
            DatagramHeader h = DatagramHeader.peek(d, d.length).orElseThrow();
            byte[] plain;
            try {
                cipher.init(Cipher.DECRYPT_MODE, new SecretKeySpec(KEY, "AES"), new GCMParameterSpec(DatagramHeader.TAG_BYTES * 8, h.nonce()));
                cipher.updateAAD(d, 0, DatagramHeader.HEADER_BYTES);
                plain = cipher.doFinal(d, DatagramHeader.HEADER_BYTES, d.length - DatagramHeader.HEADER_BYTES);
            } catch (GeneralSecurityException e) {
                throw new AssertionError("a session wrote a datagram that does not open", e);
            }
            ByteBuffer b = ByteBuffer.wrap(plain);
            return switch (h.kind()) {
                case DatagramHeader.KIND_DATA -> "DATA seq=" + h.sequence() + " frag=" + h.fragmentIndex() + "/" + h.fragmentCount()
                        + " payload=" + plain.length;
                case DatagramHeader.KIND_NACK -> {
                    int ranges = b.getShort() & 0xffff;
                    List<String> missing = new ArrayList<>();
                    for (int i = 0; i < ranges; i++) {
                        long start = b.getLong();
                        int len = b.getShort() & 0xffff;
                        missing.add(len == 1 ? String.valueOf(start) : start + ".." + (start + len - 1));
                    }
                    yield "NACK seq=" + h.sequence() + " missing=" + String.join(",", missing);
                }
                default -> "KEEPALIVE seq=" + h.sequence() + " next=" + b.getLong() + " oldest=" + b.getLong();
            };
        }

        private static String ms(long t) {
            long sinceStart = t - BASE;
            return sinceStart % MS == 0 ? sinceStart / MS + "ms" : sinceStart + "ns";
        }
    }
}
