package io.galeralb.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The OCI image tar that Jib builds: its configuration read from the manifest, then its layers
 * unpacked into a root file system and its entrypoint run there as its user, with /dev and /proc
 * mounted as a container runtime would (there is no container engine here), against the cluster.
 */
@ExtendWith(GaleraClusterExtension.class)
class ImageIT {

    @TempDir
    Path dir;

    private Map<String, Object> blob(Path oci, Object digest) throws IOException {
        return JSON.std.mapFrom(Files.readString(blobPath(oci, digest)));
    }

    private static Path blobPath(Path oci, Object digest) {
        String[] d = String.valueOf(digest).split(":", 2);
        return oci.resolve("blobs").resolve(d[0]).resolve(d[1]);
    }

    @Test
    @SuppressWarnings("unchecked")
    void itsManifestNamesUserEntrypointAndPortsAndItsRootRunsGaleraLbAsThatUser() throws Exception {
        Command.requireRoot();
        Path oci = Files.createDirectory(dir.resolve("oci"));
        Command.ok("tar", "-xf", Command.builtArtifact("galera-lb-image.tar").toString(), "-C", oci.toString());
        Map<String, Object> index = JSON.std.mapFrom(Files.readString(oci.resolve("index.json")));
        Map<String, Object> ref = ((List<Map<String, Object>>) index.get("manifests")).get(0);
        assertThat(((Map<String, Object>) ref.get("annotations")).get("org.opencontainers.image.ref.name"))
                .asString().startsWith("galera-lb:");
        Map<String, Object> manifest = blob(oci, ref.get("digest"));
        Map<String, Object> image = blob(oci, ((Map<String, Object>) manifest.get("config")).get("digest"));
        Map<String, Object> config = (Map<String, Object>) image.get("config");

        assertThat(image.get("os")).isEqualTo("linux");
        assertThat(config.get("User")).as("not root").isEqualTo("65532:65532");
        assertThat((List<String>) config.get("Entrypoint"))
                .containsExactly("/opt/java/bin/java", "-cp", "@/app/jib-classpath-file", "io.galeralb.server.Main");
        assertThat((List<String>) config.get("Cmd")).containsExactly("run");
        assertThat(((Map<String, Object>) config.get("ExposedPorts")).keySet()).containsExactlyInAnyOrder("3307/tcp", "9307/tcp");
        List<String> env = (List<String>) config.get("Env");
        assertThat(env).contains("GALERA_LB_CONFIG=/etc/galera-lb/galera-lb.yaml");

        Path root = Files.createDirectory(dir.resolve("root"));
        for (Map<String, Object> layer : (List<Map<String, Object>>) manifest.get("layers")) {
            assertThat(layer.get("mediaType")).isEqualTo("application/vnd.oci.image.layer.v1.tar+gzip");
            Command.ok("tar", "--warning=no-unknown-keyword", "-xzf", blobPath(oci, layer.get("digest")).toString(),
                    "-C", root.toString());
        }
        assertThat(Files.readString(root.resolve("etc/passwd"))).contains("galera-lb:x:65532:65532:");
        assertThat(root.resolve("etc/galera-lb/galera-lb.yaml")).as("the reference configuration").isRegularFile();
        assertThat(root.resolve("tmp")).isDirectory();

        // What a ConfigMap mounted on /etc/galera-lb would hold.
        int port = TestConfigs.freePort();
        Files.writeString(root.resolve("etc/galera-lb/galera-lb.yaml"),
                PackagedConfig.yaml(TestConfigs.freePort(), port, ""));
        Files.createDirectories(root.resolve("dev"));
        Files.createDirectories(root.resolve("proc"));
        // The image's environment and nothing else, as a container starts with; the tools that
        // set up the root run by absolute path before chroot replaces them with the entrypoint.
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/unshare", "--mount", "--", "/bin/sh", "-c",
                "/bin/mount --rbind /dev \"$0/dev\" && /bin/mount -t proc proc \"$0/proc\" && exec /usr/sbin/chroot "
                        + "--userspec=" + config.get("User") + " \"$0\" \"$@\"", root.toString()));
        cmd.addAll((List<String>) config.get("Entrypoint"));
        cmd.addAll((List<String>) config.get("Cmd"));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().clear();
        for (String e : env) {
            String[] kv = e.split("=", 2);
            pb.environment().put(kv[0], kv[1]);
        }
        pb.environment().put("GALERA_LB_CHECK_PASSWORD", "clustercheck");
        pb.environment().put("JAVA_TOOL_OPTIONS", "-Dio.netty.leakDetection.level=paranoid");
        Path log = dir.resolve("run.log");
        Process lb = pb.redirectOutput(log.toFile()).start();
        try {
            PackagedConfig.awaitSession(port);
            assertThat(Command.ok("ps", "-o", "uid=", "-p", Long.toString(lb.pid())).output().strip()).isEqualTo("65532");
        } finally {
            Command.ok("kill", "-TERM", Long.toString(lb.pid()));
            assertThat(lb.waitFor(1, TimeUnit.MINUTES)).as("stops on SIGTERM").isTrue();
        }
        String out = Files.readString(log);
        assertThat(lb.exitValue()).as(out).isZero();
        assertThat(out).contains("galera-lb started").contains("shutting down").doesNotContain("LEAK: ");
    }
}
