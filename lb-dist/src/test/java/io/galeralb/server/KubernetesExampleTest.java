package io.galeralb.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.galeralb.config.ConfigLoader;
import io.galeralb.config.GaleraLbConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

/** examples/kubernetes.yaml stays true: its configuration loads, and its probes and args match what galera-lb serves. */
class KubernetesExampleTest {

    @Test
    @SuppressWarnings("unchecked")
    void theManifestsConfigurationLoadsAndItsProbesAskTheAdminApi() throws Exception {
        List<Map<String, Object>> docs = new ArrayList<>();
        for (Object d : new Yaml(new LoaderOptions()).loadAll(Files.readString(Path.of("../examples/kubernetes.yaml")))) {
            docs.add((Map<String, Object>) d);
        }
        Map<String, Object> configMap = kind(docs, "ConfigMap");
        String yaml = (String) ((Map<String, Object>) configMap.get("data")).get("galera-lb.yaml");
        Map<String, Object> secret = (Map<String, Object>) kind(docs, "Secret").get("stringData");

        Map<String, Object> pod = (Map<String, Object>) ((Map<String, Object>) ((Map<String, Object>) kind(docs, "Deployment")
                .get("spec")).get("template")).get("spec");
        Map<String, Object> container = ((List<Map<String, Object>>) pod.get("containers")).get(0);
        Map<String, String> env = new java.util.HashMap<>();
        for (Map<String, Object> e : (List<Map<String, Object>>) container.get("env")) {
            Map<String, Object> ref = (Map<String, Object>) ((Map<String, Object>) e.get("valueFrom")).get("secretKeyRef");
            env.put((String) e.get("name"), (String) secret.get(ref.get("key")));
        }
        GaleraLbConfig config = ConfigLoader.parse("kubernetes.yaml", yaml, env);
        assertThat(config.adminToken()).isPresent();

        assertThat((List<String>) container.get("args")).startsWith("run", "--watch-config");
        Map<String, Integer> ports = new java.util.HashMap<>();
        for (Map<String, Object> p : (List<Map<String, Object>>) container.get("ports")) {
            ports.put((String) p.get("name"), (Integer) p.get("containerPort"));
        }
        assertThat(ports.get("admin")).isEqualTo(config.adminBind().port());
        assertThat(ports.get("mysql")).isEqualTo(config.listeners().get("app").bind().port());
        assertThat(((Map<String, Object>) ((Map<String, Object>) container.get("livenessProbe")).get("httpGet")))
                .containsEntry("path", "/live").containsEntry("port", "admin");
        assertThat(((Map<String, Object>) ((Map<String, Object>) container.get("readinessProbe")).get("httpGet")))
                .containsEntry("path", "/ready").containsEntry("port", "admin");
        assertThat((Integer) pod.get("terminationGracePeriodSeconds")).as("longer than shutdown-grace")
                .isGreaterThan((int) config.shutdownGrace().toSeconds());
        assertThat(((Map<String, Object>) pod.get("securityContext")).get("runAsUser")).as("the image's user").isEqualTo(65532);
    }

    private static Map<String, Object> kind(List<Map<String, Object>> docs, String kind) {
        return docs.stream().filter(d -> kind.equals(d.get("kind"))).findFirst()
                .orElseThrow(() -> new AssertionError("no " + kind + " in examples/kubernetes.yaml"));
    }
}
