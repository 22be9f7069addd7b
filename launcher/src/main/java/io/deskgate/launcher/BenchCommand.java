package io.deskgate.launcher;

import io.deskgate.bench.RfbBench;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code deskgate bench <name>}: runs one benchmark; each ends with one line {@code <name>: key=value ...}. */
@Command(name = "bench", description = "Run a benchmark: rfb (RFB decode rate on a recorded ZRLE stream).")
final class BenchCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "NAME", description = "rfb")
    String name;

    @Option(names = "--iterations", description = "Measured passes (default: ${DEFAULT-VALUE}).", defaultValue = "20")
    int iterations;

    @Override
    public Integer call() {
        switch (name) {
            case "rfb" -> System.out.println(RfbBench.run(iterations));
            default -> {
                System.err.println("deskgate: unknown benchmark '" + name + "' (known: rfb)");
                return 2;
            }
        }
        return 0;
    }
}
