package org.murmur.bench.fl;

import java.util.Objects;

/**
 * What a proposer sends for a round, honest or one of the poisoning attacks. Every attack is a
 * pure function of the {@link Proposal} (the collusion ring aside, which only shares a result), so
 * a run is reproducible from its seeds.
 */
public sealed interface ProposerBehaviour {
    /** The honest proposer. */
    ProposerBehaviour HONEST = new Honest();

    /** The model to upload. */
    Mlp propose(Proposal proposal);

    /** Trains honestly and sends the result. */
    record Honest() implements ProposerBehaviour {
        @Override
        public Mlp propose(Proposal proposal) {
            return proposal.trainHonestly();
        }
    }

    /** Trains on its data with every label y replaced by {@code classes - 1 - y} (9 - y for Fashion-MNIST). */
    record LabelFlip() implements ProposerBehaviour {
        @Override
        public Mlp propose(Proposal proposal) {
            int top = proposal.global().classes() - 1;
            return proposal.sgd().train(proposal.global(), proposal.train().relabelled(y -> top - y), proposal.seed());
        }
    }

    /** Trains honestly, then sends {@code global - k * (local - global)}: the update reversed and scaled by k. */
    record SignFlip(float k) implements ProposerBehaviour {
        public SignFlip {
            requireFinite("k", k);
        }

        @Override
        public Mlp propose(Proposal proposal) {
            return Mlp.along(proposal.global(), proposal.trainHonestly(), -k);
        }
    }

    /** Trains honestly, then sends {@code global + factor * (local - global)}: the update scaled. */
    record Scale(float factor) implements ProposerBehaviour {
        public Scale {
            requireFinite("factor", factor);
        }

        @Override
        public Mlp propose(Proposal proposal) {
            return Mlp.along(proposal.global(), proposal.trainHonestly(), factor);
        }
    }

    /** Does not train: sends the global model plus independent N(0, sigma²) noise on every parameter. */
    record GaussianNoise(double sigma) implements ProposerBehaviour {
        public GaussianNoise {
            if (!(sigma >= 0) || Double.isInfinite(sigma)) {
                throw new IllegalArgumentException("sigma must be non-negative and finite, was " + sigma);
            }
        }

        @Override
        public Mlp propose(Proposal proposal) {
            return proposal.global().plusNoise(sigma, proposal.seed());
        }
    }

    /**
     * Colludes: in each round the first colluder of the ring to propose runs {@code attack} on its
     * own proposal, and every colluder sends that same model.
     */
    record Collude(ProposerBehaviour attack, CollusionRing ring) implements ProposerBehaviour {
        public Collude {
            Objects.requireNonNull(attack, "attack");
            Objects.requireNonNull(ring, "ring");
        }

        @Override
        public Mlp propose(Proposal proposal) {
            return ring.shared(proposal.round(), () -> attack.propose(proposal));
        }
    }

    private static void requireFinite(String name, float value) {
        if (!Float.isFinite(value)) {
            throw new IllegalArgumentException(name + " must be finite, was " + value);
        }
    }
}
