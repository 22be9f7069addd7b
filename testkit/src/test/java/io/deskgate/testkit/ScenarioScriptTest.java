package io.deskgate.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.deskgate.testkit.ScenarioScript.Event;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.AssertionFailedError;

/** The scenario runner itself: it passes, fails on one changed line, rewrites, and rejects bad scripts. */
class ScenarioScriptTest {
    @TempDir Path dir;

    /** A counter core: {@code add n=<k>} prints the new total, {@code quiet} prints nothing, {@code twice} two lines. */
    static Function<Event, List<String>> counter() {
        long[] total = {0};
        return e -> switch (e.name()) {
            case "add" -> {
                total[0] += e.longArg("n");
                yield List.of("total " + total[0]);
            }
            case "quiet" -> List.of();
            case "twice" -> List.of("one", "two");
            case "wait" -> List.of("waited " + e.nanosArg("for") + "ns");
            default -> throw e.bad("unknown event");
        };
    }

    private Path write(String name, String text) throws IOException {
        Path f = dir.resolve(name);
        Files.writeString(f, text);
        return f;
    }

    static final String SCRIPT = """
            # a counter
            > add n=2
            total 2

            > quiet
            > twice
            one
            two
            # the end
            > add n=3
            total 5
            > wait for=250ms
            waited 250000000ns
            """;

    @Test
    void shouldKeepArgumentsInWrittenOrder() throws IOException {
        Function<Event, List<String>> echo = e -> List.of(String.join(",", e.args().keySet()) + " " + e.longArg("z", 7));
        ScenarioScript.run(write("order.txt", "> echo z=1 a=2 m=3 b=4 y=5 c=6 x=7 d=8 w=9 e=10\nz,a,m,b,y,c,x,d,w,e 1\n"
                + "> echo a=1\na 7\n"), echo, false);
    }

    @Test
    void shouldPassWhenEveryOutputIsAsWritten() throws IOException {
        ScenarioScript.run(write("ok.txt", SCRIPT), counter(), false);
    }

    @Test
    void shouldFailNamingTheLineWhenOneExpectedLineIsChanged() throws IOException {
        Path f = write("changed.txt", SCRIPT.replace("total 5", "total 6"));
        assertThatThrownBy(() -> ScenarioScript.run(f, counter(), false)).isInstanceOf(AssertionFailedError.class)
                .hasMessageContaining("changed.txt:10: > add n=3").hasMessageContaining("expected: [total 6]")
                .hasMessageContaining("actual:   [total 5]");
        Path missing = write("missing.txt", SCRIPT.replace("one\ntwo\n", "one\n"));
        assertThatThrownBy(() -> ScenarioScript.run(missing, counter(), false)).isInstanceOf(AssertionFailedError.class);
        Path extra = write("extra.txt", SCRIPT.replace("> quiet\n", "> quiet\nsomething\n"));
        assertThatThrownBy(() -> ScenarioScript.run(extra, counter(), false)).isInstanceOf(AssertionFailedError.class);
    }

    @Test
    void shouldRewriteTheExpectationsKeepingCommentsAndBlankLines() throws IOException {
        Path f = write("rewrite.txt", SCRIPT.replace("total 5", "total 6").replace("one\ntwo\n", ""));
        ScenarioScript.run(f, counter(), true);
        assertThat(Files.readString(f)).isEqualTo(SCRIPT);
        ScenarioScript.run(f, counter(), false);
    }

    @Test
    void shouldRejectMalformedScriptsNamingTheLine() throws IOException {
        Path before = write("before.txt", "total 1\n> add n=1\ntotal 1\n");
        assertThatThrownBy(() -> ScenarioScript.run(before, counter(), false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("before.txt:1");
        Path detached = write("detached.txt", "> add n=1\n\ntotal 1\n");
        assertThatThrownBy(() -> ScenarioScript.run(detached, counter(), false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("detached.txt:3");
        Path unknown = write("unknown.txt", "> frobnicate\n");
        assertThatThrownBy(() -> ScenarioScript.run(unknown, counter(), false)).isInstanceOf(AssertionError.class)
                .hasMessageContaining("unknown.txt:1").hasMessageContaining("unknown event");
        Path badArg = write("badarg.txt", "> wait for=soon\n");
        assertThatThrownBy(() -> ScenarioScript.run(badArg, counter(), false)).hasMessageContaining("not a duration");
    }

    @Test
    void shouldMakeOneDynamicTestPerFileWithAFreshHandler() throws IOException {
        write("a.txt", "> add n=1\ntotal 1\n");
        write("b.txt", "> add n=1\ntotal 1\n");
        write("notes.md", "not a scenario");
        List<String> names = new ArrayList<>();
        ScenarioScript.tests(dir, ScenarioScriptTest::counter).forEach(t -> {
            names.add(t.getDisplayName());
            try {
                t.getExecutable().execute();
            } catch (Throwable e) {
                throw new AssertionError(e);
            }
        });
        assertThat(names).containsExactly("a.txt", "b.txt");
    }
}
