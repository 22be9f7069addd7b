package io.deskgate.concentrator;

import io.deskgate.control.DesktopState;

/**
 * A desktop in the answer to a FindAvailable: what the broker needs to choose it and to ask for it
 * with a compare-and-set ({@code version}).
 *
 * @param user the user it is held by or dedicated to, empty if none
 */
public record DesktopView(String desktopId, String agentId, DesktopState state, int tenant, String pool, String user,
                          long version) {}
