package org.murmur.bench.demo;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;
import org.murmur.bench.fl.CollusionRing;
import org.murmur.bench.fl.ProposerBehaviour;
import org.murmur.server.grpc.InvalidConfigException;

/**
 * What the demo's malicious proposers do ({@code --attack}), each at a fixed strength chosen so
 * that a single attacker among a round's proposers visibly harms a plain average.
 */
enum Attack {
    /** Trains on its data with every label y replaced by 9 - y. */
    LABEL_FLIP,
    /** Sends the honest update reversed and scaled by {@link #SIGN_FLIP_FACTOR}. */
    SIGN_FLIP,
    /** Sends the honest update scaled by {@link #SCALE_FACTOR}. */
    SCALE,
    /** Sends the global model plus Gaussian noise of standard deviation {@link #NOISE_SIGMA}. */
    NOISE,
    /** Every attacker of a round sends the one same sign-flipped update (defeats distance-based screening). */
    COLLUDE;

    static final float SIGN_FLIP_FACTOR = 4f;
    static final float SCALE_FACTOR = 10f;
    static final double NOISE_SIGMA = 0.3;

    /** The flag's spelling: label_flip, sign_flip, scale, noise, collude. */
    public String flag() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The attack spelled {@code flag}; an unknown one is refused naming {@code --attack} and the choices. */
    static Attack parse(String flag) {
        for (Attack attack : values()) {
            if (attack.flag().equals(flag)) {
                return attack;
            }
        }
        throw new InvalidConfigException("attack", "'" + flag + "' is not one of "
                + Arrays.stream(values()).map(Attack::flag).collect(Collectors.joining(", ")));
    }

    /** A fresh behaviour for one run's attackers to share (colluders share its ring). */
    ProposerBehaviour behaviour() {
        return switch (this) {
            case LABEL_FLIP -> new ProposerBehaviour.LabelFlip();
            case SIGN_FLIP -> new ProposerBehaviour.SignFlip(SIGN_FLIP_FACTOR);
            case SCALE -> new ProposerBehaviour.Scale(SCALE_FACTOR);
            case NOISE -> new ProposerBehaviour.GaussianNoise(NOISE_SIGMA);
            case COLLUDE -> new ProposerBehaviour.Collude(new ProposerBehaviour.SignFlip(SIGN_FLIP_FACTOR),
                    new CollusionRing());
        };
    }
}
