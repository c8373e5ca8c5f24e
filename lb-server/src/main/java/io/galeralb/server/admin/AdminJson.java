package io.galeralb.server.admin;

import com.fasterxml.jackson.jr.ob.JSON;
import com.fasterxml.jackson.jr.ob.JacksonJrExtension;
import com.fasterxml.jackson.jr.ob.api.ExtensionContext;
import com.fasterxml.jackson.jr.ob.api.ReaderWriterModifier;
import com.fasterxml.jackson.jr.ob.impl.BeanPropertyIntrospector;
import com.fasterxml.jackson.jr.ob.impl.JSONReader;
import com.fasterxml.jackson.jr.ob.impl.JSONWriter;
import com.fasterxml.jackson.jr.ob.impl.POJODefinition;
import java.io.IOException;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The admin API's JSON: records of this program written and read by jackson-jr, a component
 * {@code maxConnections} as the key {@code max-connections} (the API's style, as in the YAML),
 * in the record's order, every key present ({@code null} when it does not apply). A key the
 * reader does not know is skipped: an instance of a newer version may add some.
 */
public final class AdminJson {

    private static final Pattern WORD_START = Pattern.compile("([a-z0-9])([A-Z])");

    private static final JSON JSON_ = JSON.builder()
            .register(new JacksonJrExtension() {
                @Override
                protected void register(ExtensionContext context) {
                    context.insertModifier(new KebabCaseRecords());
                }
            })
            .build()
            .with(JSON.Feature.WRITE_NULL_PROPERTIES)
            .without(JSON.Feature.FAIL_ON_UNKNOWN_BEAN_PROPERTY);

    private AdminJson() {
    }

    static String write(Object value) throws IOException {
        return JSON_.asString(value);
    }

    public static String writePretty(Object value) throws IOException {
        return JSON_.with(JSON.Feature.PRETTY_PRINT_OUTPUT).asString(value);
    }

    public static <T> T read(Class<T> type, String json) throws IOException {
        return JSON_.beanFrom(type, json);
    }

    static String kebab(String component) {
        return WORD_START.matcher(component).replaceAll("$1-$2").toLowerCase(Locale.ROOT);
    }

    /** Renames the properties of records to kebab case and keeps their declared order. */
    private static final class KebabCaseRecords extends ReaderWriterModifier {

        @Override
        public POJODefinition pojoDefinitionForSerialization(JSONWriter writer, Class<?> type) {
            return rename(type, BeanPropertyIntrospector.instance().pojoDefinitionForSerialization(writer, type));
        }

        @Override
        public POJODefinition pojoDefinitionForDeserialization(JSONReader reader, Class<?> type) {
            return rename(type, BeanPropertyIntrospector.instance().pojoDefinitionForDeserialization(reader, type));
        }

        private static POJODefinition rename(Class<?> type, POJODefinition definition) {
            if (!type.isRecord()) {
                return definition;
            }
            List<String> order = Arrays.stream(type.getRecordComponents()).map(c -> c.getName()).toList();
            return definition.withProperties(definition.getProperties().stream()
                    .sorted(Comparator.comparingInt(p -> order.indexOf(p.originalName())))
                    .map(p -> new POJODefinition.Prop(kebab(p.name), p.originalName(), p.field, p.setter, p.getter,
                            p.isGetter, null))
                    .toList());
        }
    }
}
