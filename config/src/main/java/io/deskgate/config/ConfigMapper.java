package io.deskgate.config;

import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.deser.std.StdScalarDeserializer;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.introspect.BeanPropertyDefinition;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.time.Duration;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The one Jackson mapper that applies YAML onto config builders, and the rules it keeps:
 * <ul>
 *   <li>only builder methods annotated {@code @JsonProperty} are keys (no field, getter, setter or creator
 *       is detected by itself), so a method without the annotation, such as a secret's, can never be set
 *       from a file;</li>
 *   <li>a key is its method's name in kebab case ({@code maxSessions(int)} is {@code max-sessions});</li>
 *   <li>unknown and duplicate keys, nulls, and values of the wrong type (a string for a number, a
 *       fraction for a whole number, a number for an enum) are errors, never coerced;</li>
 *   <li>a {@link Duration} is written as {@link Durations} reads it.</li>
 * </ul>
 */
final class ConfigMapper {
    static final YAMLMapper MAPPER = YAMLMapper.builder()
            .disable(MapperFeature.AUTO_DETECT_FIELDS, MapperFeature.AUTO_DETECT_GETTERS, MapperFeature.AUTO_DETECT_IS_GETTERS,
                    MapperFeature.AUTO_DETECT_SETTERS, MapperFeature.AUTO_DETECT_CREATORS, MapperFeature.ALLOW_COERCION_OF_SCALARS,
                    MapperFeature.USE_GETTERS_AS_SETTERS)
            .propertyNamingStrategy(PropertyNamingStrategies.KEBAB_CASE)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES,
                    DeserializationFeature.FAIL_ON_NUMBERS_FOR_ENUMS)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .defaultSetterInfo(JsonSetter.Value.forValueNulls(Nulls.FAIL))
            .addModule(new SimpleModule("deskgate-durations").addDeserializer(Duration.class, new DurationDeserializer()))
            .build();

    private ConfigMapper() {}

    /** The keys a builder type accepts, by Jackson's own introspection of it. */
    static SortedSet<String> keys(Class<?> builderType) {
        BeanDescription description = MAPPER.getDeserializationConfig().introspect(MAPPER.constructType(builderType));
        SortedSet<String> keys = new TreeSet<>();
        for (BeanPropertyDefinition p : description.findProperties()) {
            if (p.hasSetter()) keys.add(p.getName());
        }
        return keys;
    }

    private static final class DurationDeserializer extends StdScalarDeserializer<Duration> {
        DurationDeserializer() {
            super(Duration.class);
        }

        @Override
        public Duration deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            if (!p.currentToken().isScalarValue()) return (Duration) ctxt.handleUnexpectedToken(Duration.class, p);
            String text = p.getText();
            try {
                return Durations.parse(text);
            } catch (IllegalArgumentException e) {
                throw InvalidFormatException.from(p, e.getMessage(), text, Duration.class);
            }
        }
    }
}
