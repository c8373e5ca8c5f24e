package io.galeralb.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** docs/configuration.md is the reference of every key: it names each key the loader accepts, and no other. */
class ConfigurationReferenceTest {

    private static final Path REFERENCE = Path.of("../docs/configuration.md");
    /** A row of the reference's table: its first cell is the key, in backquotes. */
    private static final Pattern ROW = Pattern.compile("(?m)^\\| `([^`]+)` \\|");

    @Test
    void theReferenceNamesEveryKeyTheLoaderAcceptsAndNoOther() throws Exception {
        Set<String> documented = new TreeSet<>();
        Matcher m = ROW.matcher(Files.readString(REFERENCE));
        while (m.find()) {
            documented.add(m.group(1));
        }
        assertThat(documented).as("keys in " + REFERENCE).isNotEmpty();
        assertThat(ConfigLoader.keys()).as("keys the loader accepts, missing from " + REFERENCE)
                .isSubsetOf(documented);
        assertThat(documented).as("keys in " + REFERENCE + " the loader does not know")
                .isSubsetOf(ConfigLoader.keys());
    }
}
