package org.murmur.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every setting is validated once, and a bad one is named. */
class ServerConfigTest {
    @TempDir
    Path dir;

    @Test
    void defaultsAreValid() {
        ServerConfig config = ServerConfig.defaults(dir);
        assertEquals(ServerConfig.DEFAULT_PORT, config.port());
        assertEquals(ServerConfig.DEFAULT_FLOW_CONTROL_WINDOW_BYTES, config.flowControlWindowBytes());
        assertTrue(config.tls().isEmpty());
        assertEquals(config, config.toBuilder().build());
    }

    private void assertNamed(String setting, UnaryOperator<ServerConfig.Builder> change) {
        InvalidConfigException e = assertThrows(InvalidConfigException.class,
                () -> change.apply(ServerConfig.builder(dir)).build());
        assertEquals(setting, e.setting());
        assertTrue(e.getMessage().startsWith(setting + ": "), e.getMessage());
    }

    @Test
    void eachBadSettingIsNamed() throws Exception {
        assertNamed(ServerConfig.PORT, b -> b.port(70_000));
        assertNamed(ServerConfig.PORT, b -> b.port(-1));
        assertNamed(ServerConfig.MAX_STREAMS_PER_NODE, b -> b.maxStreamsPerNode(0));
        assertNamed(ServerConfig.IDLE_TIMEOUT, b -> b.idleTimeout(Duration.ZERO));
        assertNamed(ServerConfig.IDLE_TIMEOUT, b -> b.idleTimeout(null));
        assertNamed(ServerConfig.MAX_UPDATE_BYTES, b -> b.maxUpdateBytes(0));
        assertNamed(ServerConfig.MAX_HEADER_BYTES, b -> b.maxHeaderBytes(ServerConfig.HEADER_BYTES_LIMIT + 1));
        assertNamed(ServerConfig.SYNC_INTERVAL_BYTES, b -> b.syncIntervalBytes(4096));
        assertNamed(ServerConfig.FLOW_CONTROL_WINDOW_BYTES, b -> b.flowControlWindowBytes(1024));
        assertNamed(ServerConfig.NONCE_TTL, b -> b.nonceTtl(Duration.ofSeconds(-1)));
        assertNamed(ServerConfig.NONCES_PER_NODE, b -> b.noncesPerNode(0));
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        InvalidConfigException notDir = assertThrows(InvalidConfigException.class,
                () -> ServerConfig.builder(file).build());
        assertEquals(ServerConfig.DATA_DIR, notDir.setting());
        assertEquals(ServerConfig.DATA_DIR, assertThrows(InvalidConfigException.class,
                () -> ServerConfig.builder(null).build()).setting());
    }

    @Test
    void tlsFilesMustBeReadable() throws Exception {
        Path cert = Files.writeString(dir.resolve("server.crt"), "-");
        Path key = Files.writeString(dir.resolve("server.key"), "-");
        assertEquals(ServerConfig.TLS_KEY, assertThrows(InvalidConfigException.class,
                () -> new ServerConfig.Tls(cert, dir.resolve("missing.key"), Optional.empty())).setting());
        assertEquals(ServerConfig.TLS_CERT, assertThrows(InvalidConfigException.class,
                () -> new ServerConfig.Tls(null, key, Optional.empty())).setting());
        assertEquals(ServerConfig.TLS_CLIENT_CA, assertThrows(InvalidConfigException.class,
                () -> new ServerConfig.Tls(cert, key, Optional.of(dir))).setting());
        assertTrue(ServerConfig.builder(dir).tls(new ServerConfig.Tls(cert, key, Optional.empty())).build()
                .tls().isPresent());
    }
}
