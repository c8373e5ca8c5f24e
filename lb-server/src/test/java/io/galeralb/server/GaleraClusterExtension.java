package io.galeralb.server;

import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/** Before every test: the real cluster runs with all three nodes Synced and no fault left (the reset between tests). */
final class GaleraClusterExtension implements BeforeEachCallback {

    @Override
    public void beforeEach(ExtensionContext context) {
        GaleraCluster.reset();
    }
}
