package io.galeralb.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/** A MySQL ERR packet as read by a test client. */
record MysqlErr(int code, String message) {

    static MysqlErr read(InputStream in) throws IOException {
        DataInputStream d = new DataInputStream(in);
        int len = d.readUnsignedByte() | d.readUnsignedByte() << 8 | d.readUnsignedByte() << 16;
        int seq = d.readUnsignedByte();
        byte[] payload = d.readNBytes(len);
        assertThat(seq).as("sequence id").isZero();
        assertThat(payload.length).isEqualTo(len);
        assertThat(payload[0] & 0xFF).as("ERR marker").isEqualTo(0xFF);
        int code = (payload[1] & 0xFF) | (payload[2] & 0xFF) << 8;
        assertThat(in.read()).as("the connection ends after the error").isEqualTo(-1);
        return new MysqlErr(code, new String(payload, 3, len - 3, StandardCharsets.UTF_8));
    }
}
