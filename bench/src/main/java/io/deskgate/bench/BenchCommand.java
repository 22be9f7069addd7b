package io.deskgate.bench;

import io.deskgate.launcher.Main;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code deskgate bench <name>}: runs one benchmark; each ends with one line {@code <name>: key=value ...}
 * on standard output (progress lines may come before it; logs go to standard error). The bench module's own
 * entry point: the {@code deskgate} script starts it on the bench module's class path, so nothing of it is on
 * the class path of {@code deskgate up}.
 */
@Command(name = "deskgate bench", mixinStandardHelpOptions = true, version = "deskgate 0.1.0", description = {
        "Run a benchmark:",
        "  rfb   RFB decode rate on a recorded ZRLE stream.",
        "  open  Time to a ready platform and from launch to the first frame in a (headless) browser, against"
                + " a direct RFB connection; starts the whole platform with one Xvnc desktop in a temporary data directory."})
public final class BenchCommand implements Callable<Integer> {
    static final int DEFAULT_RFB_PASSES = 20;

    public static void main(String[] args) {
        System.exit(Main.executeCommand(new BenchCommand(), args));
    }

    @Parameters(index = "0", paramLabel = "NAME", description = "rfb or open")
    String name;

    @Option(names = "--iterations", paramLabel = "N",
            description = "rfb: measured decode passes (default " + DEFAULT_RFB_PASSES + "); open: session opens (default "
                    + OpenBench.DEFAULT_OPENS + ").")
    Integer iterations;

    @Override
    public Integer call() {
        if (iterations != null && iterations < 1) {
            System.err.println("deskgate: --iterations must be at least 1");
            return 2;
        }
        switch (name) {
            case "rfb" -> System.out.println(RfbBench.run(iterations != null ? iterations : DEFAULT_RFB_PASSES));
            case "open" -> {
                String line = OpenBench.run(iterations != null ? iterations : OpenBench.DEFAULT_OPENS, System.out);
                System.out.println(line);
            }
            default -> {
                System.err.println("deskgate: unknown benchmark '" + name + "' (known: rfb, open)");
                return 2;
            }
        }
        return 0;
    }
}
