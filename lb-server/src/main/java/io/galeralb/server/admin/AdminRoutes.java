package io.galeralb.server.admin;

import static io.galeralb.server.admin.AdminServer.LIVE_TIMEOUT;
import static io.galeralb.server.admin.AdminServer.OPENMETRICS;
import static io.galeralb.server.admin.AdminServer.OPENMETRICS_CONTENT_TYPE;
import static io.galeralb.server.admin.AdminServer.PAGE_POLICY;
import static io.galeralb.server.admin.AdminServer.PROMETHEUS_CONTENT_TYPE;
import static io.galeralb.server.admin.AdminServer.REQUEST_TIMEOUT;

import com.fasterxml.jackson.jr.ob.JSON;
import io.galeralb.config.Durations;
import io.galeralb.config.HostPort;
import io.galeralb.core.AdminState;
import io.galeralb.core.LogLimit;
import io.galeralb.server.GaleraLb;
import io.galeralb.server.process.Instance;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One admin connection's request: the table of routes, the status page's files, and the answers.
 * Runs on the admin event loop; anything that may block (status waits for a reload, reloads and
 * state changes take GaleraLb's lock) goes to {@link AdminServer}'s workers.
 */
final class AdminRoutes extends SimpleChannelInboundHandler<FullHttpRequest> {

    private static final Logger log = LoggerFactory.getLogger(AdminRoutes.class);

    /** The status page: static files, served as they are (everything it needs; no external assets). */
    private static final Map<String, StaticFile> PAGE = Map.of(
            "/", StaticFile.load("ui/index.html", "text/html; charset=utf-8"),
            "/ui/status.js", StaticFile.load("ui/status.js", "text/javascript; charset=utf-8"),
            "/ui/status.css", StaticFile.load("ui/status.css", "text/css; charset=utf-8"));

    /** A file of the status page, read once from the jar. */
    private record StaticFile(byte[] bytes, String contentType) {
        static StaticFile load(String resource, String contentType) {
            try (var in = AdminRoutes.class.getResourceAsStream(resource)) {
                if (in == null) {
                    throw new IllegalStateException("missing resource " + resource);
                }
                return new StaticFile(in.readAllBytes(), contentType);
            } catch (IOException e) {
                throw new IllegalStateException("cannot read resource " + resource, e);
            }
        }
    }

    /**
     * Whether a {@code Host} header names a loopback address ({@code localhost}, 127.0.0.0/8,
     * {@code [::1]}), with or without a port. None at all (HTTP/1.0 tools) passes: a browser
     * always sends one.
     */
    static boolean loopbackHost(String host) {
        if (host == null) {
            return true;
        }
        String h = host.trim();
        if (h.startsWith("[")) {
            int close = h.indexOf(']');
            return close > 0 && HostPort.isLoopback(h.substring(1, close));
        }
        int colon = h.indexOf(':');
        return HostPort.isLoopback(colon >= 0 ? h.substring(0, colon) : h);
    }

    private final Instance instance;
    private final ExecutorService reads;
    private final ExecutorService changes;
    private final LogLimit unauthorized;
    private final boolean loopbackOnly;
    /** The one request this connection serves; anything after it is not read. */
    private boolean answered;
    private ScheduledFuture<?> deadline;

    AdminRoutes(Instance instance, ExecutorService reads, ExecutorService changes, LogLimit unauthorized,
           boolean loopbackOnly) {
        this.instance = instance;
        this.reads = reads;
        this.changes = changes;
        this.unauthorized = unauthorized;
        this.loopbackOnly = loopbackOnly;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        deadline = ctx.executor().schedule(() -> {
            if (!answered) {
                answered = true;
                reply(ctx, HttpResponseStatus.REQUEST_TIMEOUT, error("no complete request within "
                        + Durations.format(REQUEST_TIMEOUT)));
            }
        }, REQUEST_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (deadline != null) {
            deadline.cancel(false);
        }
        ctx.fireChannelInactive();
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        if (answered) {
            return; // pipelined after the one request: the connection closes after its answer
        }
        answered = true;
        deadline.cancel(false);
        ctx.channel().config().setAutoRead(false);
        if (!req.decoderResult().isSuccess()) {
            reply(ctx, HttpResponseStatus.BAD_REQUEST, error("malformed HTTP request"));
            return;
        }
        String path;
        try {
            path = new QueryStringDecoder(req.uri()).path();
        } catch (IllegalArgumentException e) {
            reply(ctx, HttpResponseStatus.BAD_REQUEST, error("malformed request URI: " + e.getMessage()));
            return;
        }
        if (loopbackOnly && !loopbackHost(req.headers().get(HttpHeaderNames.HOST))) {
            reply(ctx, HttpResponseStatus.MISDIRECTED_REQUEST, error("the admin API on a loopback address "
                    + "answers requests for localhost or a loopback address only (Host header)"));
            return;
        }
        try {
            route(ctx, req, path);
        } catch (RejectedExecutionException e) {
            reply(ctx, HttpResponseStatus.SERVICE_UNAVAILABLE, error("the admin API is busy: too many requests "
                    + "are waiting; try again"));
        }
    }

    /**
     * What answers one endpoint, with the path's parameters (the capitalised segments of its
     * shape). Runs on the event loop; the request is released when it returns, so whatever
     * work it hands to a worker takes what it needs of the request first.
     */
    @FunctionalInterface
    private interface Handler {
        void handle(AdminRoutes routes, ChannelHandlerContext ctx, FullHttpRequest req, String path, List<String> params);
    }

    /**
     * One endpoint: the methods it answers, its path (a segment in capitals is a parameter),
     * whether it needs the token; {@code shown} is false for the page's own files.
     */
    private record Route(List<HttpMethod> methods, String shape, Pattern pattern, boolean needsToken, boolean shown,
                         Handler handler) {

        static Route of(String shape, boolean needsToken, Handler handler, HttpMethod... methods) {
            return new Route(List.of(methods), shape,
                    Pattern.compile(shape.replaceAll("/[A-Z]+", "/([^/]*)")), needsToken, true, handler);
        }

        Route hidden() {
            return new Route(methods, shape, pattern, needsToken, false, handler);
        }

        String allowed() {
            return String.join(", ", methods.stream().map(HttpMethod::name).toList());
        }
    }

    private static final List<Route> ROUTES = routes();

    /** The admin API: matched in this order; the 404 answer lists it. */
    private static List<Route> routes() {
        List<Route> r = new ArrayList<>();
        PAGE.keySet().stream().sorted().forEach(file -> {
            Route page = Route.of(file, false, (routes, ctx, req, path, params) -> replyPage(ctx, PAGE.get(path),
                    req.method().equals(HttpMethod.HEAD)), HttpMethod.GET, HttpMethod.HEAD);
            r.add(file.equals("/") ? page : page.hidden());
        });
        r.add(Route.of("/status", false, AdminRoutes::status, HttpMethod.GET));
        r.add(Route.of("/stats", false, AdminRoutes::statsOrMetrics, HttpMethod.GET, HttpMethod.HEAD));
        r.add(Route.of("/metrics", false, AdminRoutes::statsOrMetrics, HttpMethod.GET, HttpMethod.HEAD));
        r.add(Route.of("/live", false, (routes, ctx, req, path, params) -> live(ctx, routes.instance.lb()),
                HttpMethod.GET));
        r.add(Route.of("/ready", false, AdminRoutes::ready, HttpMethod.GET));
        r.add(Route.of("/health/LISTENER/SERVER", false, AdminRoutes::health, HttpMethod.GET, HttpMethod.HEAD));
        r.add(Route.of("/reload", true, AdminRoutes::reload, HttpMethod.POST));
        r.add(Route.of("/servers/LISTENER/SERVER/state", true, (routes, ctx, req, path, params) -> {
            String body = body(req); // now: the request is released when this handler returns
            routes.change(() -> routes.setState(ctx, params.get(0), params.get(1), body));
        }, HttpMethod.POST));
        r.add(Route.of("/listeners/LISTENER/switchover", true, (routes, ctx, req, path, params) -> {
            String body = body(req);
            routes.change(() -> routes.switchover(ctx, params.get(0), body));
        }, HttpMethod.POST));
        return List.copyOf(r);
    }

    /** "GET /, /status, ...; POST /reload, ...": what a 404 answer offers. */
    private static final String LISTING = ROUTES.stream().filter(Route::shown)
            .collect(Collectors.groupingBy(rt -> rt.methods().get(0).name(), LinkedHashMap::new,
                    Collectors.mapping(Route::shape, Collectors.joining(", "))))
            .entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining("; "));

    private void route(ChannelHandlerContext ctx, FullHttpRequest req, String path) {
        for (Route r : ROUTES) {
            Matcher m = r.pattern().matcher(path);
            if (!m.matches()) {
                continue;
            }
            if (!r.methods().contains(req.method())) {
                notAllowed(ctx, r.allowed());
            } else if (!r.needsToken() || authorized(ctx, req, path)) {
                List<String> params = new ArrayList<>(m.groupCount());
                for (int g = 1; g <= m.groupCount(); g++) {
                    params.add(m.group(g));
                }
                r.handler().handle(this, ctx, req, path, params);
            }
            return;
        }
        reply(ctx, HttpResponseStatus.NOT_FOUND, error("no such endpoint: " + path + " (" + LISTING + ")"));
    }

    /** Whether the request carries the token; answers 401 (and logs, rate-limited) when not. */
    private boolean authorized(ChannelHandlerContext ctx, FullHttpRequest req, String path) {
        if (instance.token().authorizes(req.headers().get(HttpHeaderNames.AUTHORIZATION))) {
            return true;
        }
        long n = unauthorized.count();
        if (n > 0) {
            log.warn("admin API: {} call(s) refused without a valid token (latest: {} {} from {})", n,
                    req.method(), path.replaceAll("\\p{Cntrl}", "?"), ctx.channel().remoteAddress());
        }
        reply(ctx, HttpResponseStatus.UNAUTHORIZED, error("this call needs 'Authorization: Bearer TOKEN' "
                + "(the token of admin.token-file or admin.token-env, or the one in the lock file)"));
        return false;
    }

    private static String body(FullHttpRequest req) {
        return req.content().toString(StandardCharsets.UTF_8);
    }

    /** Off the event loop: changes take GaleraLb's lock, which a reload may hold for seconds. */
    private void change(Runnable work) {
        changes.execute(work);
    }

    private void status(ChannelHandlerContext ctx, FullHttpRequest req, String path, List<String> params) {
        // status() waits for a reload in progress: never on the event loop.
        CompletableFuture.supplyAsync(instance::status, reads)
                .whenComplete((status, failure) -> reply(ctx, failure == null ? HttpResponseStatus.OK
                        : HttpResponseStatus.INTERNAL_SERVER_ERROR, failure == null ? status
                        : error("status failed: " + failure)));
    }

    private void ready(ChannelHandlerContext ctx, FullHttpRequest req, String path, List<String> params) {
        CompletableFuture.supplyAsync(instance.lb()::notReady, reads).whenComplete((why, failure) -> {
            if (failure != null) {
                reply(ctx, HttpResponseStatus.INTERNAL_SERVER_ERROR, error("ready failed: " + failure));
            } else if (why.isEmpty()) {
                reply(ctx, HttpResponseStatus.OK, Map.of("ok", true, "message", "every listener can serve"));
            } else {
                reply(ctx, HttpResponseStatus.SERVICE_UNAVAILABLE, error(String.join("; ", why)));
            }
        });
    }

    /** clustercheck's answer: 200 while the server may take sessions, 503 with the reason, 404 naming the servers. */
    private void health(ChannelHandlerContext ctx, FullHttpRequest req, String path, List<String> params) {
        boolean head = req.method().equals(HttpMethod.HEAD);
        CompletableFuture.supplyAsync(() -> instance.lb().availability(params.get(0), params.get(1)), reads)
                .whenComplete((a, failure) -> {
                    if (failure == null) {
                        replyText(ctx, a.available() ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE,
                                a.reason() + "\n", "text/plain; charset=utf-8", head);
                    } else if (failure.getCause() instanceof IllegalArgumentException e) {
                        replyText(ctx, HttpResponseStatus.NOT_FOUND, e.getMessage() + "\n",
                                "text/plain; charset=utf-8", head);
                    } else {
                        replyText(ctx, HttpResponseStatus.INTERNAL_SERVER_ERROR, "health failed: " + failure
                                + "\n", "text/plain; charset=utf-8", head);
                    }
                });
    }

    private void statsOrMetrics(ChannelHandlerContext ctx, FullHttpRequest req, String path, List<String> params) {
        boolean head = req.method().equals(HttpMethod.HEAD);
        boolean csv = path.equals("/stats");
        String accept = req.headers().get(HttpHeaderNames.ACCEPT, "");
        String contentType = csv ? "text/csv; charset=utf-8"
                : accept.contains(OPENMETRICS) ? OPENMETRICS_CONTENT_TYPE : PROMETHEUS_CONTENT_TYPE;
        CompletableFuture.supplyAsync(() -> csv ? StatsCsv.of(instance.status()) : instance.scrape(contentType), reads)
                .whenComplete((text, failure) -> {
                    if (failure != null) {
                        reply(ctx, HttpResponseStatus.INTERNAL_SERVER_ERROR, error(path + " failed: " + failure));
                    } else {
                        replyText(ctx, HttpResponseStatus.OK, text, contentType, head);
                    }
                });
    }

    private void reload(ChannelHandlerContext ctx, FullHttpRequest req, String path, List<String> params) {
        boolean force = new QueryStringDecoder(req.uri()).parameters().getOrDefault("force", List.of())
                .contains("true");
        CompletableFuture.supplyAsync(() -> instance.reload(force), changes).whenComplete((outcome, failure) -> {
            if (failure != null) {
                log.error("reload failed", failure);
                reply(ctx, HttpResponseStatus.INTERNAL_SERVER_ERROR, error("reload failed: " + failure));
            } else {
                Map<String, Object> body = new LinkedHashMap<>();
                body.put("ok", outcome.ok());
                body.put("generation", outcome.generation());
                body.put("message", outcome.message());
                if (outcome.invalidConfig()) {
                    body.put("invalid-config", true);
                }
                reply(ctx, outcome.ok() ? HttpResponseStatus.OK : HttpResponseStatus.UNPROCESSABLE_ENTITY, body);
            }
        });
    }

    /**
     * {@code GET /live}: 200 once every I/O thread has run an empty task, 503 when one has not
     * within {@link AdminServer#LIVE_TIMEOUT} (a thread stuck: a restart is what helps). Nothing blocks
     * the admin thread meanwhile.
     */
    private static void live(ChannelHandlerContext ctx, GaleraLb lb) {
        ScheduledFuture<?> late = ctx.executor().schedule(() -> reply(ctx, HttpResponseStatus.SERVICE_UNAVAILABLE,
                error("an I/O thread did not run a task within " + Durations.format(LIVE_TIMEOUT))),
                LIVE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        lb.ioThreadsTurning().thenRun(() -> ctx.executor().execute(() -> {
            if (late.cancel(false)) {
                reply(ctx, HttpResponseStatus.OK, Map.of("ok", true, "message", "every I/O thread answers"));
            }
        }));
    }

    /**
     * {@code {"to": "SERVER", "timeout": "30s"}}. Refusals known at once are JSON with a 4xx
     * status; once the switchover runs, its steps are streamed as lines of text (chunked), the
     * last one starting with "done:" or "failed:".
     */
    private void switchover(ChannelHandlerContext ctx, String listener, String body) {
        Map<String, Object> request;
        Duration timeout;
        try {
            request = JSON.std.mapFrom(body);
            timeout = Durations.parse(String.valueOf(request.getOrDefault("timeout", "30s")));
        } catch (IOException | RuntimeException e) {
            reply(ctx, HttpResponseStatus.BAD_REQUEST, error("the body must be JSON such as "
                    + "{\"to\": \"node2\", \"timeout\": \"30s\"}: " + e.getMessage()));
            return;
        }
        if (!(request.get("to") instanceof String to)) {
            reply(ctx, HttpResponseStatus.BAD_REQUEST, error("name the new writer: {\"to\": \"SERVER\"}"));
            return;
        }
        CompletableFuture<Boolean> done;
        List<String> early = new ArrayList<>();
        Object lock = new Object();
        boolean[] streaming = {false};
        Consumer<String> report = step -> {
            synchronized (lock) {
                if (streaming[0]) {
                    ctx.writeAndFlush(line(step));
                } else {
                    early.add(step);
                }
            }
        };
        try {
            done = instance.lb().switchover(listener, to, timeout, report);
        } catch (IllegalArgumentException e) {
            reply(ctx, HttpResponseStatus.NOT_FOUND, error(e.getMessage()));
            return;
        } catch (IllegalStateException e) {
            reply(ctx, HttpResponseStatus.CONFLICT, error(e.getMessage()));
            return;
        }
        HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        head.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        HttpUtil.setTransferEncodingChunked(head, true);
        synchronized (lock) {
            ctx.write(head);
            early.forEach(step -> ctx.write(line(step)));
            ctx.flush();
            streaming[0] = true;
        }
        done.whenComplete((ok, failure) -> {
            String last = failure != null ? "failed: " + failure
                    : Boolean.TRUE.equals(ok) ? "done: the writer of " + listener + " is " + to
                    : "failed: the writer of " + listener + " was not moved to " + to;
            synchronized (lock) {
                ctx.write(line(last));
                ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(ChannelFutureListener.CLOSE);
            }
        });
    }

    /** One line of a streamed answer. */
    private static DefaultHttpContent line(String text) {
        return new DefaultHttpContent(Unpooled.copiedBuffer(text + "\n", StandardCharsets.UTF_8));
    }

    /**
     * {@code {"state": "ready|drain|maint"}}, for drain optionally {@code "close-idle": true}
     * (its sessions close at their transaction boundaries), for maint {@code "keep-sessions":
     * true} or {@code "grace": "30s"} (sessions inside a transaction have that long to end it).
     */
    private void setState(ChannelHandlerContext ctx, String listener, String server, String body) {
        Map<String, Object> request;
        try {
            request = JSON.std.mapFrom(body);
        } catch (IOException | RuntimeException e) {
            reply(ctx, HttpResponseStatus.BAD_REQUEST, error("the body must be JSON such as {\"state\": \"drain\"}"));
            return;
        }
        AdminState state;
        try {
            state = AdminState.valueOf(String.valueOf(request.get("state")).toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            reply(ctx, HttpResponseStatus.BAD_REQUEST, error("state must be ready, drain or maint, not "
                    + request.get("state")));
            return;
        }
        boolean keep = Boolean.TRUE.equals(request.get("keep-sessions"));
        boolean closeIdle = Boolean.TRUE.equals(request.get("close-idle"));
        Duration grace;
        try {
            grace = request.containsKey("grace") ? Durations.parse(String.valueOf(request.get("grace")))
                    : Duration.ZERO;
        } catch (IllegalArgumentException e) {
            reply(ctx, HttpResponseStatus.BAD_REQUEST, error("grace: " + e.getMessage()));
            return;
        }
        if (closeIdle && state != AdminState.DRAIN || request.containsKey("grace") && state != AdminState.MAINT
                || keep && state != AdminState.MAINT) {
            reply(ctx, HttpResponseStatus.BAD_REQUEST, error("close-idle goes with drain; grace and keep-sessions "
                    + "with maint"));
            return;
        }
        try {
            String sessions = instance.lb().adminState(listener, server, state,
                    new GaleraLb.OpenSessions(keep, closeIdle, grace));
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("ok", true);
            out.put("message", listener + "/" + server + " is " + state + (sessions.isEmpty() ? "" : "; " + sessions));
            reply(ctx, HttpResponseStatus.OK, out);
        } catch (IllegalArgumentException e) {
            reply(ctx, HttpResponseStatus.NOT_FOUND, error(e.getMessage()));
        }
    }

    static Map<String, Object> error(String message) {
        return Map.of("ok", false, "message", message);
    }

    private static void notAllowed(ChannelHandlerContext ctx, String allowed) {
        FullHttpResponse r = response(HttpResponseStatus.METHOD_NOT_ALLOWED, error("use " + allowed));
        r.headers().set(HttpHeaderNames.ALLOW, allowed);
        ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
    }

    /** {@code text} with {@code status}; to a HEAD request, its headers only. */
    private static void replyText(ChannelHandlerContext ctx, HttpResponseStatus status, String text,
                                  String contentType, boolean head) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(bytes));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
        r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
    }

    /** A file of the status page, with headers that keep it to its own origin and uncached. */
    private static void replyPage(ChannelHandlerContext ctx, StaticFile page, boolean head) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(page.bytes()));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, page.contentType());
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, page.bytes().length);
        r.headers().set(HttpHeaderNames.CONTENT_SECURITY_POLICY, PAGE_POLICY);
        r.headers().set("X-Content-Type-Options", "nosniff");
        r.headers().set(HttpHeaderNames.X_FRAME_OPTIONS, "DENY");
        r.headers().set("Referrer-Policy", "no-referrer");
        r.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
    }

    /** Answers with {@code body} as JSON: a map, or a record of the API ({@link StatusReport}). */
    static void reply(ChannelHandlerContext ctx, HttpResponseStatus status, Object body) {
        ctx.writeAndFlush(response(status, body)).addListener(ChannelFutureListener.CLOSE);
    }

    private static FullHttpResponse response(HttpResponseStatus status, Object body) {
        byte[] json;
        try {
            json = (AdminJson.writePretty(body) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(json));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json; charset=utf-8");
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, json.length);
        r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        return r;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("admin connection: {}", cause.toString());
        if (!answered && ctx.channel().isActive() && !(cause instanceof IOException)) {
            answered = true;
            reply(ctx, HttpResponseStatus.BAD_REQUEST, error("bad request: " + cause.getMessage()));
        } else {
            ctx.close();
        }
    }
}
