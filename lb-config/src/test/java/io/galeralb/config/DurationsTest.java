package io.galeralb.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationsTest {

    @Test
    void parsesEveryUnit() {
        assertThat(Durations.parse("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(Durations.parse("100us")).isEqualTo(Duration.ofNanos(100_000));
        assertThat(Durations.parse("5s")).isEqualTo(Duration.ofSeconds(5));
        assertThat(Durations.parse("1m")).isEqualTo(Duration.ofMinutes(1));
        assertThat(Durations.parse("8h")).isEqualTo(Duration.ofHours(8));
        assertThat(Durations.parse("2d")).isEqualTo(Duration.ofDays(2));
    }

    @Test
    void rejectsWhatIsNotADuration() {
        assertThatThrownBy(() -> Durations.parse("5")).hasMessageContaining("no unit");
        assertThatThrownBy(() -> Durations.parse("-5s")).hasMessageContaining("bad duration");
        assertThatThrownBy(() -> Durations.parse("1.5s")).hasMessageContaining("bad duration");
        assertThatThrownBy(() -> Durations.parse("5 sec")).hasMessageContaining("bad duration");
    }

    @Test
    void formatsTheShortestExactForm() {
        assertThat(Durations.format(Duration.ofMillis(1500))).isEqualTo("1500ms");
        assertThat(Durations.format(Duration.ofNanos(100_000))).isEqualTo("100us");
        assertThat(Durations.format(Duration.ofNanos(1_500_000))).isEqualTo("1500us");
        assertThat(Durations.format(Duration.ofSeconds(90))).isEqualTo("90s");
        assertThat(Durations.format(Duration.ofHours(8))).isEqualTo("8h");
        assertThat(Durations.format(Duration.ZERO)).isEqualTo("0s");
    }
}
