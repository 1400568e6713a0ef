package org.murmur.server.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import org.murmur.kernels.api.BackendUnavailableException;
import org.murmur.kernels.api.InvalidInputException;
import org.murmur.proto.identity.KeyFileException;
import org.murmur.proto.safetensors.SafetensorsException;
import org.murmur.server.grpc.InvalidConfigException;
import picocli.CommandLine;

/** Turns a command's failure into one line on stderr and the matching exit code. */
final class FailureHandler implements CommandLine.IExecutionExceptionHandler {
    private final PrintWriter err;

    FailureHandler(PrintWriter err) {
        this.err = err;
    }

    @Override
    public int handleExecutionException(Exception exception, CommandLine commandLine, CommandLine.ParseResult parseResult) {
        int code;
        if (exception instanceof InvalidConfigException) {
            err.println("murmur: --" + oneLine(exception.getMessage()));
            return Main.EXIT_USAGE;
        }
        if (exception instanceof InvalidInputException || exception instanceof SafetensorsException
                || exception instanceof KeyFileException) {
            code = Main.EXIT_INVALID_INPUT;
        } else if (exception instanceof CommandLine.ParameterException) {
            code = Main.EXIT_USAGE;
        } else if (exception instanceof BackendUnavailableException
                || exception instanceof IOException || exception instanceof UncheckedIOException) {
            code = Main.EXIT_ENVIRONMENT;
        } else {
            err.println("murmur: internal error: " + exception);
            exception.printStackTrace(err);
            return Main.EXIT_ENVIRONMENT;
        }
        err.println("murmur: " + oneLine(exception.getMessage()));
        return code;
    }

    static String oneLine(String message) {
        return message == null ? "failed" : message.replaceAll("\\s*\\R\\s*", " ").strip();
    }
}
