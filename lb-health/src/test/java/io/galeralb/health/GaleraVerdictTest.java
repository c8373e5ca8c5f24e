package io.galeralb.health;

import static org.assertj.core.api.Assertions.assertThat;

import io.galeralb.config.DonorPolicy;
import io.galeralb.config.HealthCheckType;
import io.galeralb.config.HealthConfig;
import io.galeralb.config.Secret;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The Galera verdict over status values as real nodes report them. */
class GaleraVerdictTest {

    /** SHOW GLOBAL STATUS/VARIABLES of a Synced node of a healthy 3-node cluster (MariaDB 10.11, galera-4). */
    private static Map<String, String> synced() {
        Map<String, String> v = new HashMap<>();
        v.put("wsrep_on", "ON");
        v.put("wsrep_ready", "ON");
        v.put("wsrep_connected", "ON");
        v.put("wsrep_cluster_status", "Primary");
        v.put("wsrep_local_state", "4");
        v.put("wsrep_local_state_comment", "Synced");
        v.put("wsrep_local_recv_queue", "0");
        v.put("wsrep_cluster_size", "3");
        v.put("wsrep_desync", "OFF");
        v.put("wsrep_reject_queries", "NONE");
        v.put("wsrep_sst_donor_rejects_queries", "OFF");
        v.put("read_only", "OFF");
        return v;
    }

    private static HealthConfig config(DonorPolicy donor, boolean readOnly, OptionalInt maxRecvQueue) {
        return new HealthConfig(HealthCheckType.GALERA, Optional.of("clustercheck"), Secret.NONE, Duration.ofSeconds(2),
                Duration.ofSeconds(2), Duration.ofSeconds(1), 2, 3, donor, readOnly, maxRecvQueue);
    }

    private static final HealthConfig DEFAULT = config(DonorPolicy.LAST_NODE, false, OptionalInt.empty());

    private static CheckResult verdict(Map<String, String> v) {
        return GaleraVerdict.evaluate(v, DEFAULT);
    }

    @Test
    void eachRuleNamesItsCauseFromTheFixedSet() {
        Map<String, Map.Entry<String, String>> cases = new java.util.LinkedHashMap<>();
        cases.put("desynced", Map.entry("wsrep_desync", "ON"));
        cases.put("non_primary", Map.entry("wsrep_cluster_status", "non-Primary"));
        cases.put("not_ready", Map.entry("wsrep_ready", "OFF"));
        cases.put("read_only", Map.entry("read_only", "ON"));
        cases.put("rejecting_queries", Map.entry("wsrep_reject_queries", "ALL"));
        cases.put("not_synced", Map.entry("wsrep_local_state", "1"));
        cases.put("not_galera", Map.entry("wsrep_on", "OFF"));
        cases.forEach((cause, change) -> {
            Map<String, String> v = synced();
            v.put(change.getKey(), change.getValue());
            assertThat(verdict(v).cause().label()).as(change.toString()).isEqualTo(cause);
        });
        assertThat(verdict(synced()).cause()).isEqualTo(CheckResult.Cause.SYNCED);
    }

    @Test
    void aSyncedPrimaryNodePasses() {
        CheckResult r = verdict(synced());
        assertThat(r.kind()).isEqualTo(CheckResult.Kind.PASS);
        assertThat(r.reason()).isEqualTo("wsrep_local_state=4 (Synced), cluster Primary, size 3");
    }

    @Test
    void aDonorWhoseSstMethodBlocksIsADonor() {
        Map<String, String> v = synced();
        v.put("wsrep_local_state", "2");
        for (String method : List.of("rsync", "rsync_wan", "mysqldump")) {
            v.put("wsrep_sst_method", method);
            CheckResult r = verdict(v);
            assertThat(r.kind()).as(method).isEqualTo(CheckResult.Kind.DONOR);
            assertThat(r.definite()).as("the node said so: out of new sessions at once").isTrue();
            assertThat(r.reason()).isEqualTo("wsrep_local_state=2 (Donor/Desynced), wsrep_sst_method=" + method
                    + " (an SST by it blocks the donor's commits; an IST does not)");
        }
        v.put("wsrep_sst_donor_rejects_queries", "ON");
        assertThat(verdict(v).kind()).isEqualTo(CheckResult.Kind.FAIL);
    }

    @Test
    void aDonorByAMethodThatKeepsItServingPasses() {
        Map<String, String> v = synced();
        v.put("wsrep_local_state", "2");
        v.put("wsrep_sst_method", "mariabackup");
        CheckResult r = verdict(v);
        assertThat(r.kind()).isEqualTo(CheckResult.Kind.PASS);
        assertThat(r.reason()).isEqualTo("wsrep_local_state=2 (Donor/Desynced), donating with "
                + "wsrep_sst_method=mariabackup, which keeps it serving");
    }

    @Test
    void aManuallyDesyncedNodeNeverServes() {
        Map<String, String> v = synced();
        v.put("wsrep_local_state", "2");
        v.put("wsrep_desync", "ON");
        CheckResult r = verdict(v);
        assertThat(r.kind()).isEqualTo(CheckResult.Kind.FAIL);
        assertThat(r.definite()).isTrue();
        assertThat(r.reason()).contains("wsrep_desync=ON").contains("Donor/Desynced");
        for (DonorPolicy p : DonorPolicy.values()) {
            assertThat(GaleraVerdict.serves(r, p, false)).as(p.name()).isFalse();
        }
    }

    @Test
    void joiningAndJoinedNodesFail() {
        for (String[] s : new String[][] {{"1", "Joining"}, {"3", "Joined"}, {"0", "Undefined"}}) {
            Map<String, String> v = synced();
            v.put("wsrep_local_state", s[0]);
            CheckResult r = verdict(v);
            assertThat(r.kind()).isEqualTo(CheckResult.Kind.FAIL);
            assertThat(r.reason()).isEqualTo("wsrep_local_state=" + s[0] + " (" + s[1] + ")");
        }
    }

    @Test
    void aNonPrimaryNodeFailsNamingTheClusterStatus() {
        // An isolated node (gmcast.isolate=1) reports all of these at once.
        Map<String, String> v = synced();
        v.put("wsrep_cluster_status", "non-Primary");
        v.put("wsrep_ready", "OFF");
        v.put("wsrep_connected", "OFF");
        v.put("wsrep_local_state", "0");
        v.put("wsrep_cluster_size", "1");
        assertThat(verdict(v).reason()).isEqualTo("wsrep_cluster_status=non-Primary (not in the Primary component)");
    }

    @Test
    void notReadyOrNotConnectedFails() {
        Map<String, String> v = synced();
        v.put("wsrep_ready", "OFF");
        assertThat(verdict(v).reason()).startsWith("wsrep_ready=OFF");
        v = synced();
        v.put("wsrep_connected", "OFF");
        assertThat(verdict(v).reason()).startsWith("wsrep_connected=OFF");
    }

    @Test
    void rejectQueriesFails() {
        Map<String, String> v = synced();
        v.put("wsrep_reject_queries", "ALL");
        assertThat(verdict(v).reason()).isEqualTo("wsrep_reject_queries=ALL");
    }

    @Test
    void readOnlyFailsUnlessAllowed() {
        Map<String, String> v = synced();
        v.put("read_only", "ON");
        assertThat(verdict(v).kind()).isEqualTo(CheckResult.Kind.FAIL);
        assertThat(verdict(v).reason()).startsWith("read_only=ON");
        assertThat(GaleraVerdict.evaluate(v, config(DonorPolicy.LAST_NODE, true, OptionalInt.empty())).kind())
                .isEqualTo(CheckResult.Kind.PASS);
    }

    @Test
    void recvQueueOverTheLimitFails() {
        Map<String, String> v = synced();
        v.put("wsrep_local_recv_queue", "120");
        assertThat(verdict(v).kind()).as("no limit set").isEqualTo(CheckResult.Kind.PASS);
        CheckResult r = GaleraVerdict.evaluate(v, config(DonorPolicy.LAST_NODE, false, OptionalInt.of(100)));
        assertThat(r.reason()).isEqualTo("wsrep_local_recv_queue=120 over max-recv-queue 100");
    }

    @Test
    void aNodeWithoutWsrepVariablesIsNotAGaleraNode() {
        Map<String, String> v = new HashMap<>();
        v.put("read_only", "OFF");
        CheckResult r = verdict(v);
        assertThat(r.kind()).isEqualTo(CheckResult.Kind.FAIL);
        assertThat(r.reason()).startsWith("not a Galera node");
        Map<String, String> off = synced();
        off.put("wsrep_on", "OFF");
        assertThat(verdict(off).reason()).startsWith("wsrep_on=OFF");
    }

    @ParameterizedTest
    @EnumSource(DonorPolicy.class)
    void donorPolicyDecidesWhetherADonorServes(DonorPolicy policy) {
        Map<String, String> v = synced();
        v.put("wsrep_local_state", "2");
        CheckResult donor = verdict(v);
        boolean whileOthersSynced = GaleraVerdict.serves(donor, policy, true);
        boolean asLastNode = GaleraVerdict.serves(donor, policy, false);
        switch (policy) {
            case NEVER -> assertThat(new boolean[] {whileOthersSynced, asLastNode}).containsExactly(false, false);
            case LAST_NODE -> assertThat(new boolean[] {whileOthersSynced, asLastNode}).containsExactly(false, true);
            case ALWAYS -> assertThat(new boolean[] {whileOthersSynced, asLastNode}).containsExactly(true, true);
        }
        assertThat(GaleraVerdict.serves(verdict(synced()), policy, true)).isTrue();
    }
}
