package io.deskgate.frontdoor;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import io.javalin.http.Context;
import java.io.IOException;
import java.util.Optional;

/** JSON in and out of the HTTP API, with Jackson. Thread-safe. */
final class Json {
    /** Largest request body the API reads. */
    static final int MAX_BODY_BYTES = 16 * 1024;

    static final ObjectMapper MAPPER = new ObjectMapper();

    private Json() {}

    /**
     * The request body as a JSON object; an empty body reads as {@code {}}.
     *
     * @throws DeskgateException {@link Status#BAD_REQUEST} for a body over {@link #MAX_BODY_BYTES} or one that
     *                           is not a JSON object
     */
    static ObjectNode body(Context ctx) {
        long declared = ctx.contentLength();
        if (declared > MAX_BODY_BYTES) throw tooLarge();
        byte[] bytes = ctx.bodyAsBytes();
        if (bytes.length > MAX_BODY_BYTES) throw tooLarge();
        if (bytes.length == 0) return MAPPER.createObjectNode();
        try {
            JsonNode node = MAPPER.readTree(bytes);
            if (node instanceof ObjectNode o) return o;
        } catch (IOException e) {
            // answered below, without echoing the parser's message (it may quote the body)
        }
        throw new DeskgateException(Status.BAD_REQUEST, "request body must be a JSON object");
    }

    /** A string field, or empty when absent or null; a field of another type is a bad request. */
    static Optional<String> optionalText(ObjectNode o, String field) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) return Optional.empty();
        if (!n.isTextual()) throw new DeskgateException(Status.BAD_REQUEST, "field " + field + " must be a string");
        return Optional.of(n.textValue());
    }

    static String requiredText(ObjectNode o, String field) {
        return optionalText(o, field)
                .orElseThrow(() -> new DeskgateException(Status.BAD_REQUEST, "field " + field + " is required"));
    }

    static ObjectNode object() { return MAPPER.createObjectNode(); }

    /** Answers {@code status} with a JSON body. */
    static void reply(Context ctx, int status, JsonNode body) {
        try {
            ctx.status(status).contentType("application/json").result(MAPPER.writeValueAsBytes(body));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise a JSON tree", e);
        }
    }

    /** Answers with {@code {"error": message, "status": name}} and the status's HTTP code. */
    static void error(Context ctx, Status status, String message) {
        ObjectNode o = object().put("error", message).put("status", status.name());
        reply(ctx, status.httpStatus(), o);
    }

    private static DeskgateException tooLarge() {
        return new DeskgateException(Status.BAD_REQUEST, "request body is larger than " + MAX_BODY_BYTES + " bytes");
    }
}
