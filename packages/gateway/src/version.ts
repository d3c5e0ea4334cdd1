/** Version printed by --version and reported as serverInfo and as the traces' service.version. */
export const GATEWAY_VERSION = '0.1.0';
