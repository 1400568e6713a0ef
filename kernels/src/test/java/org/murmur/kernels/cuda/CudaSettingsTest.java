package org.murmur.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Settings are checked once, each refusal naming the setting at fault. */
class CudaSettingsTest {

    private static void assertRefused(String setting, Runnable construction) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, construction::run);
        assertTrue(e.getMessage().startsWith(setting), e::getMessage);
    }

    @Test
    void theDefaultsAreValid() {
        CudaSettings settings = CudaSettings.defaults();
        assertTrue(settings.ringBytes() <= settings.deviceBudgetBytes());
        assertTrue(TileStager.widthFor(1000, settings.slotBytes()) > 0, "a default slot holds a tile of 1000 updates");
    }

    @Test
    void eachBadSettingIsNamed() {
        assertRefused("tileCoords", () -> new CudaSettings(0, 1 << 20, 2, 1L << 30));
        assertRefused("tileCoords", () -> new CudaSettings(CudaSettings.MAXIMUM_TILE_COORDS + 1, 1 << 20, 2, 8L << 30));
        assertRefused("slotBytes", () -> new CudaSettings(64, 16, 2, 1L << 30));
        assertRefused("slots", () -> new CudaSettings(64, 1 << 20, 1, 1L << 30));
        assertRefused("deviceBudgetBytes", () -> new CudaSettings(64, 1 << 20, 4, 4L << 20));
    }
}
