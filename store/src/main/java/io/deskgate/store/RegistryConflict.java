package io.deskgate.store;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;

/**
 * A registration refused because another instance of the same role holds the id and still heartbeats: two
 * processes were given one id. Not retried by the store; {@link RegistryHeartbeat} keeps trying, since the
 * other instance may be the previous start of this one that has not yet timed out.
 */
public final class RegistryConflict extends DeskgateException {
    RegistryConflict(String message) {
        super(Status.INTERNAL_ERROR, message);
    }
}
