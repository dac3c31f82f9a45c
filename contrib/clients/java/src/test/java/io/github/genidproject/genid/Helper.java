// SPDX-License-Identifier: BSD-2-Clause
package io.github.genidproject.genid;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A server process of the conformance cases: the real genid through
 * tests/clients/run_genid.py, or tests/clients/fake_server.py.
 */
final class Helper implements AutoCloseable {
    private static final String EOF = "\u0000eof";

    private final Process proc;
    private final Writer in;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final boolean fake;
    private final String script;
    final int port;
    private boolean dead;

    /** tests/clients of the source tree ($GENID_CLIENT_TESTS overrides). */
    static Path casesDir() {
        String d = System.getenv("GENID_CLIENT_TESTS");
        if (d != null && !d.isEmpty()) {
            return Paths.get(d);
        }
        return Paths.get(System.getProperty("genid.tests", "../../../tests/clients")).toAbsolutePath().normalize();
    }

    static Object cases() throws IOException {
        Path p = casesDir().resolve("cases.json");
        if (!Files.exists(p)) {
            throw new IOException(p + " is missing: set GENID_CLIENT_TESTS to tests/clients of the source tree");
        }
        return Json.parse(Files.readString(p));
    }

    /** Starts a fake (fake != null) or the real genid (genid args). */
    Helper(List<String> genidArgs, List<String> fakeArgs) throws IOException, InterruptedException {
        fake = genidArgs == null;
        script = fake ? "fake_server.py" : "run_genid.py";
        List<String> cmd = new ArrayList<>();
        cmd.add("python3");
        cmd.add(casesDir().resolve(script).toString());
        cmd.addAll(fake ? fakeArgs : genidArgs);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.redirectError(ProcessBuilder.Redirect.INHERIT);
        proc = pb.start();
        in = new OutputStreamWriter(proc.getOutputStream(), StandardCharsets.UTF_8);
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(
                    new InputStreamReader(proc.getInputStream(), StandardCharsets.UTF_8))) {
                for (String l; (l = r.readLine()) != null; ) {
                    lines.add(l);
                }
            } catch (IOException e) {
                // the process ended
            }
            lines.add(EOF);
        }, script + " output");
        reader.setDaemon(true);
        reader.start();
        String first;
        try {
            first = line(30);
        } catch (IOException e) {
            close();
            throw e;
        }
        if (!fake && first.startsWith("error:")) {
            in.close();
            boolean ended = proc.waitFor(10, TimeUnit.SECONDS);
            if (ended && proc.exitValue() == 77) {
                dead = true;
                Assumptions.abort("run_genid.py: " + first);
            }
            close();
            throw new IOException("run_genid.py: " + first);
        }
        try {
            port = Integer.parseInt(first.trim());
        } catch (NumberFormatException e) {
            close();
            throw new IOException(script + " printed \"" + first + "\", not a port");
        }
    }

    static Helper genid(String... args) throws IOException, InterruptedException {
        return new Helper(List.of(args), null);
    }

    static Helper fake(String... args) throws IOException, InterruptedException {
        return new Helper(null, List.of(args));
    }

    String addr() {
        return "127.0.0.1:" + port;
    }

    private String line(int seconds) throws IOException, InterruptedException {
        String l = lines.poll(seconds, TimeUnit.SECONDS);
        if (l == null) {
            throw new IOException(script + " said nothing within " + seconds + " s");
        }
        if (l.equals(EOF)) {
            lines.add(EOF);
            throw new IOException(script + " ended");
        }
        return l;
    }

    /** kill, start or restart (run_genid.py); a fake can only be killed. */
    void command(String cmd) throws IOException, InterruptedException {
        if (fake) {
            if (!cmd.equals("kill")) {
                throw new IllegalArgumentException("a fake server can only be killed, not " + cmd);
            }
            proc.destroyForcibly();
            proc.waitFor(10, TimeUnit.SECONDS);
            dead = true;
            return;
        }
        in.write(cmd + "\n");
        in.flush();
        String l = line(30);
        if (l.startsWith("error:")) {
            throw new IOException("run_genid.py " + cmd + ": " + l);
        }
    }

    /** Ends the helper: run_genid.py stops genid at the end of its input. */
    @Override
    public void close() {
        if (dead) {
            return;
        }
        dead = true;
        try {
            if (fake) {
                proc.destroyForcibly();
                proc.waitFor(10, TimeUnit.SECONDS);
                return;
            }
            try {
                in.close();
            } catch (IOException e) {
                // it ended already
            }
            if (!proc.waitFor(20, TimeUnit.SECONDS)) {
                proc.destroy(); // SIGTERM: run_genid.py stops genid then
                proc.waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError("run_genid.py did not end within 20 s of the end of its input");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            proc.destroy();
        }
    }
}
