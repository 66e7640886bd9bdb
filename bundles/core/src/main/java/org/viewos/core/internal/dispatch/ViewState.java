package org.viewos.core.internal.dispatch;

import org.viewos.core.internal.vfs.MountTable;

/** What the dispatcher reads of the view on every stop: a cheap, thread-safe snapshot. */
public interface ViewState {
    MountTable mounts();
}
