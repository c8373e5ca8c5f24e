package io.galeralb.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.galeralb.server.process.Instance;
import java.io.File;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.NoAlertPresentException;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import picocli.CommandLine;

/**
 * The status page in a real browser: Debian's headless Chromium, driven by its chromedriver,
 * against an instance in front of the real cluster.
 */
@ExtendWith(GaleraClusterExtension.class)
class StatusPageBrowserTest {

    private static final String TOKEN = "status-page-token-0123456789";
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final Duration DETECTION = TestConfigs.INTERVAL.plus(TestConfigs.TIMEOUT)
            .multipliedBy(TestConfigs.FALL).plusSeconds(10);

    private static ChromeDriver browser;

    @TempDir
    Path dir;
    private int port;
    private int adminPort;
    private Path file;
    private Instance instance;
    private String page;
    private String url;

    @BeforeAll
    static void startBrowser() {
        assertThat(CHROMIUM).as("Debian's chromium (scripts/install-deps installs it)").isExecutable();
        assertThat(CHROMEDRIVER).as("Debian's chromium-driver (scripts/install-deps installs it)").isExecutable();
        ChromeOptions options = new ChromeOptions().setBinary(CHROMIUM.toFile())
                // --no-sandbox: the suite runs as root, where Chromium's sandbox cannot start.
                .addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900",
                        "--disable-gpu", "--no-first-run");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(CHROMEDRIVER.toString())).usingAnyFreePort().build();
        browser = new ChromeDriver(service, options);
    }

    @AfterAll
    static void stopBrowser() {
        if (browser != null) {
            browser.quit();
        }
    }

    @BeforeEach
    void start() throws Exception {
        port = TestConfigs.freePort();
        adminPort = TestConfigs.freePort();
    }

    /** Starts an instance on {@code yaml} and opens its page in a fresh tab state (no token kept). */
    private void open(String yaml) throws Exception {
        file = dir.resolve("lb.yaml");
        Files.writeString(file, yaml);
        instance = Instance.start(file);
        page = "http://127.0.0.1:" + adminPort + "/";
        url = TestConfigs.appUrl(port);
        browser.get(page);
        browser.executeScript("sessionStorage.clear()");
        browser.navigate().refresh();
    }

    private void openOnTheCluster() throws Exception {
        open(TestConfigs.instanceYaml(port, adminPort, dir.resolve("lb.lock"), dir, TOKEN));
    }

    @AfterEach
    void stop() {
        if (instance != null) {
            instance.shutdown();
        }
    }

    private WebElement row(String server) {
        return browser.findElement(By.cssSelector("section[data-listener='app-cluster'] tr[data-server='" + server + "']"));
    }

    private String state(String server) {
        List<WebElement> rows = browser.findElements(
                By.cssSelector("section[data-listener='app-cluster'] tr[data-server='" + server + "'] .state"));
        return rows.isEmpty() ? "" : rows.get(0).getText();
    }

    private WebElement message() {
        return browser.findElement(By.id("message"));
    }

    /** Clicks a server's button, and enters {@code token} in the dialog the page opens for it. */
    private void clickWithToken(String server, String action, String token) {
        row(server).findElement(By.cssSelector("button[data-action='" + action + "']")).click();
        WebElement dialog = browser.findElement(By.id("token-dialog"));
        await().atMost(Duration.ofSeconds(10)).until(dialog::isDisplayed);
        WebElement input = browser.findElement(By.id("token-input"));
        input.sendKeys(token, Keys.ENTER);
        await().atMost(Duration.ofSeconds(10)).until(() -> !dialog.isDisplayed());
    }

    private String cliStatus() {
        StringWriter out = new StringWriter();
        CommandLine cmd = Main.commandLine();
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(new StringWriter(), true));
        assertThat(cmd.execute("status", "--config", file.toString())).isZero();
        return out.toString();
    }

    @Test
    void thePageFollowsTheClusterLiveAndItsButtonsChangeStatesWithTheTokenOnly() throws Exception {
        openOnTheCluster();
        try (Connection session = DriverManager.getConnection(url)) {
            GaleraCluster.nodeOf(session);
            await().atMost(Duration.ofSeconds(30)).until(() -> List.of("node1", "node2", "node3").stream()
                    .allMatch(s -> state(s).equals("UP")));
            await().atMost(Duration.ofSeconds(10)).until(() -> browser.findElement(
                    By.cssSelector("section[data-listener='app-cluster'] .listener-meta")).getText().contains("1 session(s)"));
            assertThat(browser.findElement(By.id("process")).getText()).contains("galera-lb", "generation 1",
                    "PID " + ProcessHandle.current().pid());
            // Anything the page keeps in its window survives: the updates below come without a reload.
            browser.executeScript("window.loadedOnce = 'yes'");

            GaleraCluster.execute(2, "SET GLOBAL wsrep_desync=ON");
            await().atMost(DETECTION).until(() -> state("node2").equals("DOWN"));
            assertThat(row("node2").findElement(By.cssSelector(".reason")).getText()).containsIgnoringCase("desync");
            assertThat(row("node2").findElement(By.cssSelector(".state")).getCssValue("background-color"))
                    .as("DOWN in red").isEqualTo("rgba(179, 38, 30, 1)");

            clickWithToken("node1", "drain", "not-the-token");
            await().atMost(Duration.ofSeconds(10)).until(() -> message().getText().contains("admin token was refused"));
            assertThat(message().getAttribute("class")).contains("error");
            assertThat(instance.lb().listeners().get(0).pool().servers().get(0).state()).as("nothing changed")
                    .isEqualTo("UP");
            assertThat(state("node1")).isEqualTo("UP");

            clickWithToken("node1", "drain", TOKEN);
            await().atMost(Duration.ofSeconds(10)).until(() -> state("node1").equals("DRAIN"));
            assertThat(message().getText()).contains("app-cluster/node1 is DRAIN");
            assertThat(cliStatus()).containsPattern("node1\\s+\\S+\\s+DRAIN").containsPattern("node2\\s+\\S+\\s+DOWN");
            assertThat(browser.executeScript("return window.loadedOnce")).isEqualTo("yes");

            Path shot = ((ChromeDriver) browser).getScreenshotAs(OutputType.FILE).toPath();
            Files.createDirectories(Path.of("target"));
            Files.copy(shot, Path.of("target", "status-page.png"), StandardCopyOption.REPLACE_EXISTING);

            // The token is kept for the tab: the next change asks for nothing.
            row("node1").findElement(By.cssSelector("button[data-action='ready']")).click();
            await().atMost(Duration.ofSeconds(10)).until(() -> state("node1").equals("UP"));
            assertThat(browser.findElement(By.id("token-dialog")).isDisplayed()).isFalse();
        }
    }

    @Test
    void aKeyboardUserKeepsTheFocusOnAButtonWhileThePageUpdates() throws Exception {
        openOnTheCluster();
        await().atMost(Duration.ofSeconds(30)).until(() -> state("node3").equals("UP"));
        WebElement drain = row("node3").findElement(By.cssSelector("button[data-action='drain']"));
        assertThat(drain.getAttribute("aria-label")).isEqualTo("Drain node3 of app-cluster");
        ((JavascriptExecutor) browser).executeScript("arguments[0].focus()", drain);
        String updated = browser.findElement(By.id("freshness")).getText();
        await().atMost(Duration.ofSeconds(10)).until(() -> !browser.findElement(By.id("freshness")).getText()
                .equals(updated));
        assertThat(browser.switchTo().activeElement()).as("focus kept across an update").isEqualTo(drain);

        drain.sendKeys(Keys.ENTER);
        WebElement input = browser.findElement(By.id("token-input"));
        await().atMost(Duration.ofSeconds(10)).until(input::isDisplayed);
        assertThat(browser.switchTo().activeElement()).as("the dialog takes the focus").isEqualTo(input);
        input.sendKeys(Keys.ESCAPE);
        await().atMost(Duration.ofSeconds(10)).until(() -> message().getText().contains("cancelled, nothing changed"));
        assertThat(state("node3")).isEqualTo("UP");
    }

    @Test
    void aSingleWriterListenerShowsItsWriterAndSwitchesOverFromThePage() throws Exception {
        open(TestConfigs.withAdminToken(TestConfigs.writerYaml(port, adminPort, new int[] {1, 2, 3}, ""), adminPort,
                dir, TOKEN) + "lock-file: " + dir.resolve("lb.lock") + "\n");
        WebElement writer = browser.findElement(By.cssSelector("section[data-listener='rw'] .writer"));
        await().atMost(Duration.ofSeconds(30)).until(() -> writer.getText().startsWith("Writer: node1 since"));

        browser.findElement(By.cssSelector("#switchover-rw option[value='node2']")).click();
        browser.findElement(By.cssSelector("section[data-listener='rw'] button[data-action='switchover']")).click();
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            try {
                browser.switchTo().alert().accept(); // "Move the writer of rw to node2?"
                return true;
            } catch (NoAlertPresentException e) {
                return false;
            }
        });
        browser.findElement(By.id("token-input")).sendKeys(TOKEN, Keys.ENTER);
        await().atMost(Duration.ofSeconds(60)).until(() -> message().getText().contains("done: the writer of rw is node2"));
        await().atMost(Duration.ofSeconds(10)).until(() -> writer.getText().startsWith("Writer: node2 since"));
        assertThat(instance.lb().writerState("rw").orElseThrow().writer()).hasValue("node2");
    }
}
