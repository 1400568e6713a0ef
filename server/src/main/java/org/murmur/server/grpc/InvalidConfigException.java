package org.murmur.server.grpc;

/** A server setting with an unusable value; the message starts with the setting's name. */
public final class InvalidConfigException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    private final String setting;

    public InvalidConfigException(String setting, String problem) {
        super(setting + ": " + problem);
        this.setting = setting;
    }

    /** The setting at fault, as {@link ServerConfig}'s constants name it (e.g. "idle-timeout"). */
    public String setting() {
        return setting;
    }
}
