package io.galeralb.server.writer;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.galeralb.config.ConfigException;
import io.galeralb.config.ConfigLoader;
import io.galeralb.config.ListenerConfig;
import io.galeralb.core.AdminState;
import io.galeralb.core.Server;
import io.galeralb.core.ServerPool;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The election against a lease table in memory: the races between instances that the cluster
 * tests can only meet now and then, made to happen every time.
 */
class WriterElectionTest {

    private final InMemoryLeaseStore table = new InMemoryLeaseStore();
    private final List<WriterElection> elections = new ArrayList<>();
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    private final Logger log = (Logger) LoggerFactory.getLogger(WriterElection.class);

    @BeforeEach
    void captureLogs() {
        logs.start();
        log.addAppender(logs);
    }

    @AfterEach
    void closeElections() {
        log.detachAppender(logs);
        elections.forEach(WriterElection::close);
    }

    @Test
    void aChangeThatLosesTwiceStillEndsFollowingTheWinnerItCanUse() throws Exception {
        // The first insert is aborted as a deadlock while no row is visible yet; before the second,
        // another instance's row goes in, so that one loses too.
        table.beforeWrite(n -> {
            if (n == 2) {
                table.write("rw", 0, "node2", "other", "written by another instance");
            }
            return n != 1;
        });
        Instance i = instance("this", 1, 2, 3, "");
        ServerPool pool = i.pool();
        WriterElection e = i.election();
        e.stepNow();

        assertThat(pool.writer()).map(Server::name).contains("node2");
        assertThat(e.state().lease().orElseThrow().holder()).isEqualTo("other");
        assertThat(e.state().changes()).isEqualTo(1);
        assertThat(lines()).filteredOn(l -> l.contains("another instance changed the writer lease first")).hasSize(2);
        assertThat(lines()).noneMatch(l -> l.contains("no writer"));
    }

    @Test
    void whenEveryChangeLosesToARecordOfAServerThatCannotTakeSessionsThereIsNoWriter() throws Exception {
        table.beforeWrite(n -> {
            long epoch = table.row("rw").map(LeaseStore.Lease::epoch).orElse(0L);
            table.write("rw", epoch, "node3", "other", "node3 is UP there");
            return true;
        });
        Instance i = instance("this", 1, 2, 3, "");
        ServerPool pool = i.pool();
        pool.find("node3").orElseThrow().markDown("desynced");
        WriterElection e = i.election();
        e.stepNow();

        assertThat(pool.writer()).isEmpty();
        assertThat(pool.noWriterReason()).isEqualTo("the writer lease names node3, which cannot take sessions here");
        assertThat(table.row("rw").orElseThrow().writer()).as("this instance recorded nothing").isEqualTo("node3");
    }

    @Test
    void twoInstancesOfOppositePreferencesFollowOneRecord() throws Exception {
        Instance ia = instance("a", 1, 2, 3, "");
        Instance ib = instance("b", 3, 2, 1, "");
        ServerPool a = ia.pool();
        ServerPool b = ib.pool();
        WriterElection ea = ia.election();
        WriterElection eb = ib.election();
        // b records first: a follows it although it prefers node1.
        eb.stepNow();
        ea.stepNow();

        assertThat(b.writer()).map(Server::name).contains("node3");
        assertThat(a.writer()).map(Server::name).contains("node3");
        assertThat(table.row("rw").orElseThrow().epoch()).isEqualTo(1);

        // node3 cannot take sessions at a: a records its best, and b follows that.
        a.find("node3").orElseThrow().adminState(AdminState.MAINT);
        ea.stepNow();
        eb.stepNow();
        assertThat(a.writer()).map(Server::name).contains("node1");
        assertThat(b.writer()).map(Server::name).contains("node1");
        assertThat(table.row("rw").orElseThrow().epoch()).isEqualTo(2);
        assertThat(table.row("rw").orElseThrow().reason()).isEqualTo("node3 is MAINT (set by an operator) here");
    }

    @Test
    void failbackTakesTheBetterServerBackButNotFromASwitchover() throws Exception {
        Instance i = instance("this", 1, 2, 3, "    failback: true\n");
        ServerPool pool = i.pool();
        WriterElection e = i.election();
        table.write("rw", 0, "node2", "other", "first choice among UP servers by priority");
        e.stepNow();
        assertThat(pool.writer()).map(Server::name).contains("node1");
        assertThat(table.row("rw").orElseThrow().reason()).isEqualTo("failback: node1 has priority 1");

        table.write("rw", 2, "node3", "other", WriterElection.SWITCHOVER + " from node1 by other");
        e.stepNow();
        assertThat(pool.writer()).map(Server::name).contains("node3");
        assertThat(table.row("rw").orElseThrow().epoch()).isEqualTo(3);
    }

    @Test
    void anUnreadableLeaseLeavesNoWriterForNewSessionsAndSaysWhy() throws Exception {
        Instance i = instance("this", 1, 2, 3, "");
        ServerPool pool = i.pool();
        WriterElection e = i.election();
        e.stepNow();
        assertThat(pool.writer()).map(Server::name).contains("node1");

        table.unreadable("writer lease unreadable (node1: Access denied)");
        e.stepNow();
        assertThat(pool.writer()).isEmpty();
        assertThat(pool.noWriterReason()).isEqualTo("writer lease unreadable (node1: Access denied)");
        assertThat(e.state().leaseError()).contains("writer lease unreadable (node1: Access denied)");
        assertThat(lines()).anyMatch(l -> l.contains("no writer for new sessions; the 0 session(s) open on node1 go on"));

        table.unreadable(null);
        e.stepNow();
        assertThat(pool.writer()).map(Server::name).contains("node1");
        assertThat(e.state().leaseError()).isEmpty();
        assertThat(table.row("rw").orElseThrow().epoch()).as("nothing changed in the lease").isEqualTo(1);
    }

    /** One galera-lb instance's listener rw: its pool (node1..node3 UP) and its election. */
    private record Instance(ServerPool pool, WriterElection election) {
    }

    /** A {@code balance: first} listener rw with a writer lease, node1..node3 of the given priorities. */
    private Instance instance(String holder, int p1, int p2, int p3, String extra) throws ConfigException {
        String yaml = """
                listeners:
                  rw:
                    bind: 127.0.0.1:3307
                    balance: first
                    writer-lease: true
                %s    health: { type: galera, user: clustercheck, password-env: CHECK_PASSWORD }
                    servers:
                      node1: { address: 127.0.0.1:23306, priority: %d }
                      node2: { address: 127.0.0.1:23307, priority: %d }
                      node3: { address: 127.0.0.1:23308, priority: %d }
                """.formatted(extra, p1, p2, p3);
        ListenerConfig config = ConfigLoader.parse("test.yaml", yaml, Map.of("CHECK_PASSWORD", "secret")).listeners().get("rw");
        ServerPool pool = ServerPool.of(config);
        pool.servers().forEach(Server::markUp);
        WriterElection e = new WriterElection("rw", () -> config, () -> pool, holder, table::open);
        elections.add(e);
        return new Instance(pool, e);
    }

    private List<String> lines() {
        synchronized (logs) {
            return logs.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        }
    }
}
