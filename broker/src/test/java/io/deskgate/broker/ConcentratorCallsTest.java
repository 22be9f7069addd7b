package io.deskgate.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.common.RateLimitedLog;
import io.deskgate.common.Secrets;
import io.deskgate.control.ConcentratorAnswer;
import io.deskgate.control.ConcentratorCall;
import io.deskgate.control.ConcentratorGrpc;
import io.deskgate.control.ControlAuth;
import io.deskgate.control.ControlChannels;
import io.deskgate.control.FindAvailableReply;
import io.deskgate.control.FindAvailableRequest;
import io.deskgate.control.InitiateSessionReply;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The broker's calls streams ({@link ConcentratorCalls}; docs/protocol.md, "Calls streams") against a concentrator
 * peer scripted by the test over real loopback gRPC: the peer answers what the test says, when it says.
 */
class ConcentratorCallsTest {
    private static final byte[] SECRET = Secrets.randomBytes(32);
    private static final long WAIT_S = 30;

    private Peer peer;
    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
    private final ScheduledThreadPoolExecutor timers = new ScheduledThreadPoolExecutor(1);
    private ConcentratorCalls calls;

    @BeforeEach
    void start() throws Exception {
        peer = new Peer();
        ControlAuth auth = new ControlAuth(SECRET);
        calls = new ConcentratorCalls(t -> channels.computeIfAbsent(t, x -> ControlChannels.openDirect(x, auth)), timers,
                new RateLimitedLog(LoggerFactory.getLogger(ConcentratorCallsTest.class)));
    }

    @AfterEach
    void stop() {
        calls.close();
        channels.values().forEach(c -> ControlChannels.close(c, Duration.ofSeconds(1)));
        peer.close();
        timers.shutdownNow();
    }

    /** A concentrator whose calls streams the test drives: the calls received, and the streams' answer sides. */
    private static final class Peer implements AutoCloseable {
        final LinkedBlockingQueue<ConcentratorCall> received = new LinkedBlockingQueue<>();
        final LinkedBlockingQueue<StreamObserver<ConcentratorAnswer>> streams = new LinkedBlockingQueue<>();
        volatile StreamObserver<ConcentratorAnswer> current;
        final AtomicInteger opened = new AtomicInteger();
        final Server server;

        Peer() throws java.io.IOException {
            server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                    .addService(new ConcentratorGrpc.ConcentratorImplBase() {
                        @Override
                        public StreamObserver<ConcentratorCall> calls(StreamObserver<ConcentratorAnswer> out) {
                            opened.incrementAndGet();
                            current = out;
                            streams.add(out);
                            return new StreamObserver<>() {
                                @Override
                                public void onNext(ConcentratorCall c) {
                                    received.add(c);
                                }

                                @Override
                                public void onError(Throwable t) {}

                                @Override
                                public void onCompleted() {}
                            };
                        }
                    })
                    .intercept(new ControlAuth(SECRET).serverInterceptor()).build().start();
        }

        String target() {
            return "127.0.0.1:" + server.getPort();
        }

        ConcentratorCall next() throws InterruptedException {
            ConcentratorCall c = received.poll(WAIT_S, TimeUnit.SECONDS);
            assertThat(c).as("a call at the peer").isNotNull();
            return c;
        }

        synchronized void send(ConcentratorAnswer a) {
            current.onNext(a);
        }

        @Override
        public void close() {
            server.shutdownNow();
        }
    }

    /** What one call's observer got: its reply or its status, and how many callbacks ended it. */
    private static final class Outcome<T> implements StreamObserver<T> {
        final CompletableFuture<T> reply = new CompletableFuture<>();
        final CompletableFuture<Status> failure = new CompletableFuture<>();
        final AtomicInteger ends = new AtomicInteger();

        @Override
        public void onNext(T value) {
            reply.complete(value);
        }

        @Override
        public void onError(Throwable t) {
            ends.incrementAndGet();
            failure.complete(Status.fromThrowable(t));
        }

        @Override
        public void onCompleted() {
            ends.incrementAndGet();
        }

        T replied() throws Exception {
            return reply.get(WAIT_S, TimeUnit.SECONDS);
        }

        Status failed() throws Exception {
            return failure.get(WAIT_S, TimeUnit.SECONDS);
        }
    }

    private static FindAvailableRequest find(String pool) {
        return FindAvailableRequest.newBuilder().setTenant(1).setPool(pool).setLimit(4).build();
    }

    private static long in(Duration d) {
        return System.nanoTime() + d.toNanos();
    }

    private static ConcentratorAnswer found(long id, String concentratorId) {
        return ConcentratorAnswer.newBuilder().setCallId(id).setFound(FindAvailableReply.newBuilder().setConcentratorId(concentratorId))
                .build();
    }

    @Test
    void shouldMatchEachReplyToItsCallById() throws Exception {
        Outcome<FindAvailableReply> a = new Outcome<>();
        Outcome<FindAvailableReply> b = new Outcome<>();
        calls.find(peer.target(), find("pool-a"), in(Duration.ofSeconds(WAIT_S)), a);
        calls.find(peer.target(), find("pool-b"), in(Duration.ofSeconds(WAIT_S)), b);
        ConcentratorCall first = peer.next();
        ConcentratorCall second = peer.next();
        assertThat(first.getCallId()).isNotEqualTo(second.getCallId());
        assertThat(first.getTimeoutMs()).as("the call's deadline travels with it").isPositive();

        // Answered in the reverse order, each naming the pool it was asked for.
        peer.send(found(second.getCallId(), second.getFind().getPool()));
        peer.send(found(first.getCallId(), first.getFind().getPool()));

        assertThat(a.replied().getConcentratorId()).isEqualTo("pool-a");
        assertThat(b.replied().getConcentratorId()).isEqualTo("pool-b");
        assertThat(peer.opened.get()).as("one stream for both calls").isEqualTo(1);
        assertThat(calls.inFlight()).isZero();
    }

    @Test
    void shouldFailACallAtItsDeadlineAndIgnoreItsLateReply() throws Exception {
        Outcome<FindAvailableReply> late = new Outcome<>();
        calls.find(peer.target(), find("p"), in(Duration.ofMillis(200)), late);
        ConcentratorCall c = peer.next();

        assertThat(late.failed().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        peer.send(found(c.getCallId(), "too-late"));
        // A later call on the same stream is answered: the late reply was dropped, not mistaken for it.
        Outcome<FindAvailableReply> next = new Outcome<>();
        calls.find(peer.target(), find("p"), in(Duration.ofSeconds(WAIT_S)), next);
        ConcentratorCall c2 = peer.next();
        peer.send(found(c2.getCallId(), "in-time"));

        assertThat(next.replied().getConcentratorId()).isEqualTo("in-time");
        assertThat(late.reply).as("the late reply never delivered").isNotDone();
        assertThat(late.ends.get()).isEqualTo(1);
        assertThat(calls.ignoredAnswers()).isEqualTo(1);
    }

    @Test
    void shouldFailEveryCallInFlightAtOnceWhenTheStreamDiesAndOpenANewOne() throws Exception {
        Outcome<FindAvailableReply> a = new Outcome<>();
        Outcome<InitiateSessionReply> b = new Outcome<>();
        calls.find(peer.target(), find("p"), in(Duration.ofMinutes(10)), a);
        calls.initiate(peer.target(), io.deskgate.control.InitiateSessionRequest.newBuilder().setDesktopId("agent-1/1").build(),
                in(Duration.ofMinutes(10)), b);
        peer.next();
        peer.next();

        peer.current.onError(Status.INTERNAL.withDescription("the peer broke").asRuntimeException());

        assertThat(a.failed().getCode()).as("failed by the stream's end, long before its deadline").isEqualTo(Status.Code.INTERNAL);
        assertThat(b.failed().getCode()).isEqualTo(Status.Code.INTERNAL);
        assertThat(calls.inFlight()).isZero();

        Outcome<FindAvailableReply> after = new Outcome<>();
        calls.find(peer.target(), find("p"), in(Duration.ofSeconds(WAIT_S)), after);
        ConcentratorCall c = peer.next();
        peer.send(found(c.getCallId(), "reopened"));
        assertThat(after.replied().getConcentratorId()).isEqualTo("reopened");
        assertThat(peer.opened.get()).as("a new stream").isEqualTo(2);
    }

    @Test
    void shouldRefuseAnAnswerOfTheWrongKindAndIgnoreOneToAnUnknownId() throws Exception {
        Outcome<FindAvailableReply> a = new Outcome<>();
        calls.find(peer.target(), find("p"), in(Duration.ofSeconds(WAIT_S)), a);
        ConcentratorCall c = peer.next();

        peer.send(found(c.getCallId() + 1000, "nobody-asked"));
        peer.send(ConcentratorAnswer.newBuilder().setCallId(c.getCallId()).setInitiated(InitiateSessionReply.getDefaultInstance()).build());

        assertThat(a.failed().getCode()).isEqualTo(Status.Code.INTERNAL);
        assertThat(a.reply).isNotDone();
        assertThat(calls.ignoredAnswers()).isEqualTo(1);
    }

    @Test
    void shouldHandAnErrorAnswerOverAsTheCallsStatus() throws Exception {
        Outcome<InitiateSessionReply> a = new Outcome<>();
        calls.initiate(peer.target(), io.deskgate.control.InitiateSessionRequest.newBuilder().setDesktopId("agent-1/1").build(),
                in(Duration.ofSeconds(WAIT_S)), a);
        ConcentratorCall c = peer.next();
        peer.send(ConcentratorAnswer.newBuilder().setCallId(c.getCallId()).setError(io.deskgate.control.CallError.newBuilder()
                .setCode(Status.Code.ABORTED.value()).setDescription("lost")).build());

        Status s = a.failed();
        assertThat(s.getCode()).as("a lost compare-and-set").isEqualTo(Status.Code.ABORTED);
        assertThat(s.getDescription()).isEqualTo("lost");
    }
}
