// SPDX-License-Identifier: BSD-2-Clause
package io.github.genidproject.genid;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The example of README.md runs against the real genid. */
class ReadmeTest {
    @Test
    void example(@TempDir Path dir) throws Exception {
        String readme = Files.readString(Paths.get(System.getProperty("genid.readme", "README.md")));
        Matcher m = Pattern.compile("(?s)```java\n(.*?)```").matcher(readme);
        assertTrue(m.find(), "README.md has a Java example");
        String code = m.group(1);
        try (Helper h = Helper.genid("--machine", "5")) {
            // The example talks to 127.0.0.1:3778; here genid has a port of its own.
            Files.writeString(dir.resolve("Example.java"), code.replace("127.0.0.1:3778", h.addr()));
            String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
            Process p = new ProcessBuilder(java, "-cp", System.getProperty("genid.classes", System.getProperty("java.class.path")),
                    dir.resolve("Example.java").toString()).redirectErrorStream(true).start();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the example ends within 60 s");
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), "the example's exit status; it printed: " + out);
            assertTrue(Pattern.compile("^\\d+: zone 3 machine 5 at 20\\d\\d-\\d\\d-\\d\\dT\\S+Z, then 1000 more\n$")
                    .matcher(out).matches(), "the example printed: " + out);
        }
    }
}
