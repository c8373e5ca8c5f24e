package io.galeralb.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * Typed, located reading of one YAML mapping. Every problem is recorded in the shared
 * {@link Problems} and reading goes on, so that one pass reports all errors of a file.
 */
final class YamlMapping {

    private final Problems problems;
    private final String path;
    private final Node node;
    private final Map<String, NodeTuple> entries = new LinkedHashMap<>();

    private YamlMapping(Problems problems, String path, MappingNode node) {
        this.problems = problems;
        this.path = path;
        this.node = node;
        for (NodeTuple t : node.getValue()) {
            Node k = t.getKeyNode();
            if (!(k instanceof ScalarNode sk)) {
                problems.add(k, path, "keys must be plain words, not " + describe(k));
                continue;
            }
            NodeTuple first = entries.putIfAbsent(sk.getValue(), t);
            if (first != null) {
                problems.add(k, child(sk.getValue()), "duplicate key (first at line " + line(first.getKeyNode()) + ")");
            }
        }
    }

    /** Reads {@code node} as a mapping, or records that it is not one and returns empty. */
    static Optional<YamlMapping> of(Problems problems, String path, Node node) {
        if (node instanceof MappingNode m) {
            return Optional.of(new YamlMapping(problems, path, m));
        }
        problems.add(node, path, "expected a mapping of keys to values, got " + describe(node));
        return Optional.empty();
    }

    static int line(Node n) {
        return n.getStartMark() == null ? 0 : n.getStartMark().getLine() + 1;
    }

    String path() {
        return path;
    }

    Node node() {
        return node;
    }

    Set<String> keys() {
        return entries.keySet();
    }

    String child(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    /** Records every key not in {@code allowed}, with the nearest allowed key as a suggestion. */
    void rejectUnknownKeys(Set<String> allowed) {
        for (Map.Entry<String, NodeTuple> e : entries.entrySet()) {
            if (!allowed.contains(e.getKey())) {
                String hint = Suggestions.nearest(e.getKey(), allowed)
                        .map(s -> "; did you mean '" + s + "'?")
                        .orElse("; known keys: " + String.join(", ", new TreeSet<>(allowed)));
                problems.add(e.getValue().getKeyNode(), child(e.getKey()), "unknown key" + hint);
            }
        }
    }

    Optional<Node> value(String key) {
        NodeTuple t = entries.get(key);
        return t == null ? Optional.empty() : Optional.of(t.getValueNode());
    }

    /** The key's own node, for errors about the key as a whole. */
    Optional<Node> keyNode(String key) {
        NodeTuple t = entries.get(key);
        return t == null ? Optional.empty() : Optional.of(t.getKeyNode());
    }

    List<Map.Entry<String, Node>> entries() {
        List<Map.Entry<String, Node>> out = new ArrayList<>();
        entries.forEach((k, t) -> out.add(Map.entry(k, t.getValueNode())));
        return out;
    }

    Optional<YamlMapping> mapping(String key) {
        return value(key).flatMap(v -> of(problems, child(key), v));
    }

    /** A required scalar; records a problem when it is missing. */
    Optional<String> requiredString(String key) {
        if (!entries.containsKey(key)) {
            problems.add(node, child(key), "required key is missing");
            return Optional.empty();
        }
        return string(key);
    }

    Optional<String> string(String key) {
        Optional<Node> v = value(key);
        if (v.isEmpty()) {
            return Optional.empty();
        }
        Node n = v.get();
        if (!(n instanceof ScalarNode s) || Tag.NULL.equals(n.getTag())) {
            problems.add(n, child(key), "expected a value, got " + describe(n));
            return Optional.empty();
        }
        return Optional.of(s.getValue());
    }

    /** Reads a scalar and converts it; a converter's IllegalArgumentException becomes a located problem. */
    <T> Optional<T> convert(String key, Function<String, T> converter) {
        return string(key).flatMap(text -> {
            try {
                return Optional.of(converter.apply(text));
            } catch (IllegalArgumentException e) {
                problems.add(value(key).orElseThrow(), child(key), e.getMessage());
                return Optional.empty();
            }
        });
    }

    /**
     * A list of scalars ({@code [a, b]} or one per line), each converted; a converter's
     * IllegalArgumentException becomes a problem located at that element. Absent: an empty list.
     */
    <T> List<T> list(String key, Function<String, T> converter) {
        Optional<Node> v = value(key);
        if (v.isEmpty()) {
            return List.of();
        }
        if (!(v.get() instanceof SequenceNode seq)) {
            problems.add(v.get(), child(key), "expected a list such as [a, b], got " + describe(v.get()));
            return List.of();
        }
        List<T> out = new ArrayList<>();
        List<Node> items = seq.getValue();
        for (int i = 0; i < items.size(); i++) {
            Node n = items.get(i);
            String at = child(key) + "[" + i + "]";
            if (!(n instanceof ScalarNode s) || Tag.NULL.equals(n.getTag())) {
                problems.add(n, at, "expected a value, got " + describe(n));
                continue;
            }
            try {
                out.add(converter.apply(s.getValue()));
            } catch (IllegalArgumentException e) {
                problems.add(n, at, e.getMessage());
            }
        }
        return out;
    }

    /** A duration from {@code min} to {@code max}: every duration has a range, so none overflows where it is used. */
    Duration duration(String key, Duration defaultValue, Duration min, Duration max) {
        return convert(key, text -> {
            Duration d = Durations.parse(text);
            if (d.compareTo(min) < 0) {
                throw new IllegalArgumentException("must be at least " + Durations.format(min) + ", got " + text);
            }
            if (d.compareTo(max) > 0) {
                throw new IllegalArgumentException("must be at most " + Durations.format(max) + ", got " + text);
            }
            return d;
        }).orElse(defaultValue);
    }

    int integer(String key, int defaultValue, int min, int max) {
        return convert(key, text -> {
            Node n = value(key).orElseThrow();
            if (!Tag.INT.equals(n.getTag())) {
                throw new IllegalArgumentException("expected a whole number, got \"" + text + "\"");
            }
            long v;
            try {
                v = Long.decode(text.replace("_", ""));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("expected a whole number, got \"" + text + "\"");
            }
            if (v < min || v > max) {
                throw new IllegalArgumentException(v + " out of range " + min + "-" + max);
            }
            return (int) v;
        }).orElse(defaultValue);
    }

    boolean bool(String key, boolean defaultValue) {
        return convert(key, text -> {
            if (!Tag.BOOL.equals(value(key).orElseThrow().getTag())) {
                throw new IllegalArgumentException("expected true or false, got \"" + text + "\"");
            }
            return Set.of("true", "yes", "on").contains(text.toLowerCase(Locale.ROOT));
        }).orElse(defaultValue);
    }

    /** One of a fixed set of words, each mapped to a value. */
    <T> T word(String key, Map<String, T> choices, T defaultValue) {
        return convert(key, text -> {
            T v = choices.get(text);
            if (v == null) {
                String hint = Suggestions.nearest(text, choices.keySet()).map(s -> "; did you mean '" + s + "'?").orElse("");
                throw new IllegalArgumentException("\"" + text + "\" is not one of " + String.join(" | ", choices.keySet()) + hint);
            }
            return v;
        }).orElse(defaultValue);
    }

    static String describe(Node n) {
        if (n instanceof MappingNode) {
            return "a mapping";
        }
        if (n instanceof ScalarNode s) {
            return Tag.NULL.equals(s.getTag()) ? "nothing" : "\"" + s.getValue() + "\"";
        }
        return "a list";
    }

    /** Collects problems with their file and line. */
    static final class Problems {
        private final String file;
        private final List<ConfigError> errors = new ArrayList<>();

        Problems(String file) {
            this.file = file;
        }

        void add(Node at, String key, String message) {
            errors.add(new ConfigError(file, at == null ? 0 : line(at), key, message));
        }

        void add(int line, String key, String message) {
            errors.add(new ConfigError(file, line, key, message));
        }

        List<ConfigError> errors() {
            return errors;
        }
    }
}
