package io.deskgate.launcher;

import io.deskgate.common.DeskgateException;
import io.deskgate.config.ConfigException;
import java.io.PrintWriter;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code deskgate} command line. */
@Command(name = "deskgate", mixinStandardHelpOptions = true, version = "deskgate 0.1.0",
        description = "Deskgate: real remote desktops in the browser.",
        subcommands = {UpCommand.class, RunCommand.class, AdminCommand.class, StatusCommand.class, CaCommand.class,
                DrainCommand.Drain.class, DrainCommand.Undrain.class, DrainCommand.Drains.class},
        footer = {"", "Benchmarks (their own class path, not the product's): deskgate bench --help"})
public final class Main implements Runnable {
    /** The exit status of a bad config file, as picocli's own for a bad command line. */
    static final int USAGE = 2;

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /**
     * Runs the CLI and returns its exit code. A {@link DeskgateException} becomes one clear line and exit code 1, a
     * {@link ConfigException} (a bad config file) one clear line and exit code {@value #USAGE}.
     */
    public static int execute(String... args) {
        return executeCommand(new Main(), args);
    }

    /**
     * Runs the picocli {@code command} (also the benchmarks' own entry point) and returns its exit code. A
     * {@link DeskgateException} becomes one clear line and exit code 1, a {@link ConfigException} one clear line
     * and exit code {@value #USAGE}.
     */
    public static int executeCommand(Object command, String... args) {
        return executeCommand(command, Optional.empty(), args);
    }

    /** {@link #execute} writing to {@code out} and {@code err} (for tests). */
    static int execute(PrintWriter out, PrintWriter err, String... args) {
        return executeCommand(new Main(), Optional.of(new PrintWriter[] {out, err}), args);
    }

    private static int executeCommand(Object command, Optional<PrintWriter[]> outErr, String... args) {
        CommandLine cli = new CommandLine(command);
        outErr.ifPresent(w -> cli.setOut(w[0]).setErr(w[1]));
        // A usage error is one line too, with exit status 2.
        cli.setParameterExceptionHandler((e, a) -> {
            e.getCommandLine().getErr().println("deskgate: " + e.getMessage() + " (see --help)");
            e.getCommandLine().getErr().flush();
            return 2;
        });
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            Throwable cause = e;
            while (!(cause instanceof DeskgateException) && !(cause instanceof ConfigException) && cause.getCause() != null) {
                cause = cause.getCause();
            }
            if (cause instanceof ConfigException ce) {
                cmd.getErr().println("deskgate: " + ce.getMessage());
                return USAGE;
            }
            if (cause instanceof DeskgateException de) {
                cmd.getErr().println("deskgate: " + de.getMessage());
                cmd.getErr().flush();
                return 1;
            }
            throw e;
        });
        return cli.execute(args);
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }
}
