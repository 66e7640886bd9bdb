package org.viewos.umdevtap;

import org.osgi.service.component.annotations.Component;
import org.viewos.core.api.ViewModule;

/** The module face of the umdevtap bundle: what um_ls_service lists; the driver is {@link TapDriver}. */
@Component(service = ViewModule.class, property = {ViewModule.NAME_PROPERTY + "=umdevtap"})
public final class TapModule implements ViewModule {
    @Override
    public String name() {
        return "umdevtap";
    }

    @Override
    public String description() {
        return "TAP interfaces on a VDE switch: viewmount -t umdevtap URL /dev/net/tun (a umdev driver)";
    }
}
