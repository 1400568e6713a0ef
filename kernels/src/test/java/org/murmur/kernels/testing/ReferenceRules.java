package org.murmur.kernels.testing;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.murmur.kernels.api.RuleSpec;

/**
 * The aggregation rules of spec/aggregation-rules.md in plain float64, written to be obviously
 * right rather than fast: sort-based medians, an O(n^2 d) distance matrix computed once per pair,
 * Bulyan and Weiszfeld step by step as the spec words them. Inputs are {@code double[n][d]} (the
 * decoded float32 values), outputs {@code double[d]}; a backend's float32 output is compared with
 * the cast of these. Also the near-tie checks that random generators use to stay away from inputs
 * where a rule's <em>choice</em> is not decided by the tolerances.
 */
public final class ReferenceRules {
    /** Two Krum scores closer than this (relative) are a near tie: draw again. */
    public static final double NEAR_TIE = 1e-6;

    private ReferenceRules() {
    }

    /** What a rule returns: the aggregate and, where the rule has them, its report fields. */
    public record Expected(double[] value, int[] selected, double[] krumScores, int iterations,
                           double[] stopRatios) {
    }

    /** Applies {@code rule}; {@code center} is centered_clip's explicit center or null. */
    public static Expected apply(RuleSpec rule, double[][] x, double[] center) {
        int[] none = new int[0];
        double[] noScores = new double[0];
        if (rule instanceof RuleSpec.FedAvg r) {
            return new Expected(fedavg(x, r.weights()), none, noScores, 0, noScores);
        } else if (rule instanceof RuleSpec.Median) {
            return new Expected(median(x), none, noScores, 0, noScores);
        } else if (rule instanceof RuleSpec.TrimmedMean r) {
            return new Expected(trimmedMean(x, r.k()), none, noScores, 0, noScores);
        } else if (rule instanceof RuleSpec.Krum r) {
            int winner = krum(x, r.f());
            return new Expected(x[winner].clone(), new int[] {winner}, krumScores(x, r.f()), 0, noScores);
        } else if (rule instanceof RuleSpec.MultiKrum r) {
            int[] selected = multikrumSelection(x, r.f(), r.m());
            return new Expected(meanOf(x, selected), selected, krumScores(x, r.f()), 0, noScores);
        } else if (rule instanceof RuleSpec.Bulyan r) {
            return new Expected(bulyan(x, r.f()), bulyanSelection(x, r.f()), krumScores(x, r.f()), 0, noScores);
        } else if (rule instanceof RuleSpec.GeoMedian r) {
            Weiszfeld w = geomedian(x, r.maxIter(), r.eps(), r.tol());
            return new Expected(w.z(), none, noScores, w.iterations(), w.stopRatios());
        } else if (rule instanceof RuleSpec.CenteredClip r) {
            return new Expected(centeredClip(x, r.tau(), r.iters(), center), none, noScores, r.iters(), noScores);
        } else if (rule instanceof RuleSpec.NormClipMean r) {
            return new Expected(normClipMean(x, r.c()), none, noScores, 0, noScores);
        }
        throw new IllegalArgumentException("no reference for " + rule);
    }

    // ---------------------------------------------------------------- coordinate-wise rules

    /** {@code sum(w_i x_i) / sum(w_i)}; null weights mean all 1. */
    public static double[] fedavg(double[][] x, double[] weights) {
        int n = x.length;
        int d = x[0].length;
        double[] w = weights == null ? filled(n, 1.0) : weights;
        double wsum = 0;
        for (double wi : w) {
            wsum += wi;
        }
        double[] out = new double[d];
        for (int j = 0; j < d; j++) {
            double s = 0;
            for (int i = 0; i < n; i++) {
                s += w[i] * x[i][j];
            }
            out[j] = s / wsum;
        }
        return out;
    }

    public static double[] mean(double[][] x) {
        return fedavg(x, null);
    }

    /** The coordinate-wise median; the mean of the two middle values for even n. */
    public static double[] median(double[][] x) {
        int d = x[0].length;
        double[] out = new double[d];
        for (int j = 0; j < d; j++) {
            out[j] = medianOf(column(x, j));
        }
        return out;
    }

    /** Drops the k largest and k smallest of each coordinate, averages the rest. */
    public static double[] trimmedMean(double[][] x, int k) {
        int n = x.length;
        if (n <= 2 * k) {
            throw new IllegalArgumentException("trimmed_mean needs n > 2k");
        }
        int d = x[0].length;
        double[] out = new double[d];
        for (int j = 0; j < d; j++) {
            double[] c = column(x, j);
            Arrays.sort(c);
            double s = 0;
            for (int i = k; i < n - k; i++) {
                s += c[i];
            }
            out[j] = s / (n - 2 * k);
        }
        return out;
    }

    // ---------------------------------------------------------------- the Krum family

    /** {@code D[i][j] = ||x_i - x_j||^2}, computed once per pair so that D[i][j] == D[j][i]. */
    public static double[][] squaredDistances(double[][] x) {
        int n = x.length;
        double[][] dist = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                double s = 0;
                for (int c = 0; c < x[i].length; c++) {
                    double t = x[i][c] - x[j][c];
                    s += t * t;
                }
                dist[i][j] = s;
                dist[j][i] = s;
            }
        }
        return dist;
    }

    /** Every update's Krum score on the full set: the sum of its n-f-2 smallest squared distances. */
    public static double[] krumScores(double[][] x, int f) {
        int[] all = range(x.length);
        return scoresOn(squaredDistances(x), all, neighbours(all.length, f));
    }

    /** The Krum winner: the smallest score, the lowest index on a tie. */
    public static int krum(double[][] x, int f) {
        requireKrum(x.length, f);
        double[] scores = krumScores(x, f);
        int best = 0;
        for (int i = 1; i < scores.length; i++) {
            if (scores[i] < scores[best]) {
                best = i;
            }
        }
        return best;
    }

    /** The m indices with the lowest full-set scores, by ascending score, lower index first on a tie. */
    public static int[] multikrumSelection(double[][] x, int f, int m) {
        requireKrum(x.length, f);
        double[] scores = krumScores(x, f);
        return byScoreThenIndex(scores).stream().limit(m).mapToInt(Integer::intValue).toArray();
    }

    public static double[] multikrum(double[][] x, int f, int m) {
        return meanOf(x, multikrumSelection(x, f, m));
    }

    /**
     * Bulyan's selection of theta = n-2f updates, in selection order: Krum(f) on the remaining set,
     * scores over the max(0, r-f-2) nearest remaining neighbours, lowest original index on a tie.
     */
    public static int[] bulyanSelection(double[][] x, int f) {
        int n = x.length;
        if (n < 4 * f + 3) {
            throw new IllegalArgumentException("bulyan needs n >= 4f+3");
        }
        double[][] dist = squaredDistances(x);
        List<Integer> remaining = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            remaining.add(i);
        }
        int theta = n - 2 * f;
        int[] selection = new int[theta];
        for (int s = 0; s < theta; s++) {
            int[] rem = remaining.stream().mapToInt(Integer::intValue).toArray();
            double[] scores = scoresOn(dist, rem, neighbours(rem.length, f));
            int best = 0; // rem is in ascending original order, so strict < keeps the lowest index
            for (int i = 1; i < rem.length; i++) {
                if (scores[i] < scores[best]) {
                    best = i;
                }
            }
            selection[s] = rem[best];
            remaining.remove(best);
        }
        return selection;
    }

    /**
     * Bulyan: per coordinate, the mean of the beta = theta-2f selected values closest to the
     * selection's median (ties by selection order).
     */
    public static double[] bulyan(double[][] x, int f) {
        int[] selection = bulyanSelection(x, f);
        int theta = selection.length;
        int beta = theta - 2 * f;
        int d = x[0].length;
        double[] out = new double[d];
        for (int j = 0; j < d; j++) {
            double[] values = new double[theta];
            for (int s = 0; s < theta; s++) {
                values[s] = x[selection[s]][j];
            }
            double med = medianOf(values);
            Integer[] order = closestFirst(values, med);
            double sum = 0;
            for (int b = 0; b < beta; b++) {
                sum += values[order[b]];
            }
            out[j] = sum / beta;
        }
        return out;
    }

    // ---------------------------------------------------------------- whole-vector rules

    /** The result of Weiszfeld: z, the z-updates done, and ||z_new - z|| / ||z_old|| after each. */
    public record Weiszfeld(double[] z, int iterations, double[] stopRatios) {
    }

    /**
     * Weiszfeld from the mean: at most maxiter z-updates; after each, stop when
     * {@code ||z_new - z|| <= tol * ||z||} with z the value before the update; return the last z.
     */
    public static Weiszfeld geomedian(double[][] x, int maxIter, double eps, double tol) {
        int n = x.length;
        int d = x[0].length;
        double[] z = mean(x);
        double[] ratios = new double[maxIter];
        int iterations = 0;
        while (iterations < maxIter) {
            double[] w = new double[n];
            double wsum = 0;
            for (int i = 0; i < n; i++) {
                w[i] = 1.0 / Math.max(eps, norm(minus(x[i], z)));
                wsum += w[i];
            }
            double[] next = new double[d];
            for (int j = 0; j < d; j++) {
                double s = 0;
                for (int i = 0; i < n; i++) {
                    s += w[i] * x[i][j];
                }
                next[j] = s / wsum;
            }
            double step = norm(minus(next, z));
            double old = norm(z);
            ratios[iterations] = step / old;
            iterations++;
            z = next;
            if (step <= tol * old) {
                break;
            }
        }
        return new Weiszfeld(z, iterations, Arrays.copyOf(ratios, iterations));
    }

    /**
     * Centered clipping: from {@code center} (the mean when null), {@code iters} times
     * {@code v <- v + mean_i((x_i - v) * min(1, tau / ||x_i - v||))}, factor 1 at distance 0.
     */
    public static double[] centeredClip(double[][] x, double tau, int iters, double[] center) {
        int n = x.length;
        int d = x[0].length;
        double[] v = center == null ? mean(x) : center.clone();
        for (int t = 0; t < iters; t++) {
            double[] acc = new double[d];
            for (int i = 0; i < n; i++) {
                double[] diff = minus(x[i], v);
                double dn = norm(diff);
                double factor = dn == 0 ? 1.0 : Math.min(1.0, tau / dn);
                for (int j = 0; j < d; j++) {
                    acc[j] += diff[j] * factor;
                }
            }
            for (int j = 0; j < d; j++) {
                v[j] += acc[j] / n;
            }
        }
        return v;
    }

    /** The unweighted mean of the updates, each scaled by min(1, c / ||x_i||) (1 for a zero update). */
    public static double[] normClipMean(double[][] x, double c) {
        int n = x.length;
        int d = x[0].length;
        double[] out = new double[d];
        for (int i = 0; i < n; i++) {
            double xn = norm(x[i]);
            double factor = xn == 0 ? 1.0 : Math.min(1.0, c / xn);
            for (int j = 0; j < d; j++) {
                out[j] += x[i][j] * factor;
            }
        }
        for (int j = 0; j < d; j++) {
            out[j] /= n;
        }
        return out;
    }

    // ---------------------------------------------------------------- near-tie checks for generators

    /**
     * Why {@code x} is a bad random input for {@code rule} (a choice that float32 rounding could
     * flip), or null when it is fine. Krum: the winner against every other score; multikrum: every
     * adjacent pair of the sorted scores up to the m-th (the selection order and the cut); bulyan:
     * every selection step, and per coordinate the beta-th/(beta+1)-th closest to the median. The
     * ties the spec intends (one neighbour: the closest pair; zero neighbours: all scores 0) are
     * allowed, provided each point of that pair has a clear nearest neighbour.
     */
    public static String nearTie(RuleSpec rule, double[][] x) {
        if (rule instanceof RuleSpec.Krum r) {
            int[] all = range(x.length);
            return winnerNearTie(squaredDistances(x), all, r.f(), "krum");
        } else if (rule instanceof RuleSpec.MultiKrum r) {
            return multikrumNearTie(x, r.f(), r.m());
        } else if (rule instanceof RuleSpec.Bulyan r) {
            String steps = bulyanStepNearTie(x, r.f());
            if (steps != null) {
                return steps;
            }
            int[] tied = bulyanTiedCoordinates(x, r.f());
            return tied.length == 0 ? null : "bulyan: " + tied.length + " coordinates tie at the beta cut, first " + tied[0];
        }
        return null;
    }

    /** Near ties in the sorted full-set scores up to position m (order of the selection and its cut). */
    public static String multikrumNearTie(double[][] x, int f, int m) {
        double[][] dist = squaredDistances(x);
        int[] all = range(x.length);
        int count = neighbours(all.length, f);
        double[] scores = scoresOn(dist, all, count);
        List<Integer> order = byScoreThenIndex(scores);
        for (int p = 0; p + 1 < order.size() && p < m; p++) {
            int a = order.get(p);
            int b = order.get(p + 1);
            if (near(scores[a], scores[b]) && !intendedTie(dist, all, count, a, b)) {
                return "multikrum: scores of " + a + " and " + b + " nearly tie: " + scores[a] + " vs " + scores[b];
            }
        }
        return null;
    }

    /** Near ties in any Bulyan selection step, null when every step has a clear winner. */
    public static String bulyanStepNearTie(double[][] x, int f) {
        double[][] dist = squaredDistances(x);
        int[] selection = bulyanSelection(x, f);
        List<Integer> remaining = new ArrayList<>();
        for (int i = 0; i < x.length; i++) {
            remaining.add(i);
        }
        for (int s = 0; s < selection.length; s++) {
            int[] rem = remaining.stream().mapToInt(Integer::intValue).toArray();
            String why = winnerNearTie(dist, rem, f, "bulyan step " + s);
            if (why != null) {
                return why;
            }
            remaining.remove(Integer.valueOf(selection[s]));
        }
        return null;
    }

    /**
     * The coordinates where Bulyan's beta-th and (beta+1)-th closest values to the median are at
     * nearly the same distance and the values that far away are not all equal (the choice the
     * spec leaves unexercised).
     */
    public static int[] bulyanTiedCoordinates(double[][] x, int f) {
        int[] selection = bulyanSelection(x, f);
        int theta = selection.length;
        int beta = theta - 2 * f;
        List<Integer> tied = new ArrayList<>();
        if (beta >= theta) {
            return new int[0];
        }
        for (int j = 0; j < x[0].length; j++) {
            double[] values = new double[theta];
            for (int s = 0; s < theta; s++) {
                values[s] = x[selection[s]][j];
            }
            double med = medianOf(values);
            Integer[] order = closestFirst(values, med);
            double dIn = Math.abs(values[order[beta - 1]] - med);
            double dOut = Math.abs(values[order[beta]] - med);
            double near = NEAR_TIE * (Math.abs(med) + dOut);
            if (dOut - dIn > near) {
                continue;
            }
            // Every value about as far from the median as the cut: harmless only if all are equal.
            double first = Double.NaN;
            for (double v : values) {
                double dv = Math.abs(v - med);
                if (Math.abs(dv - dIn) <= near || Math.abs(dv - dOut) <= near) {
                    if (Double.isNaN(first)) {
                        first = v;
                    } else if (v != first) {
                        tied.add(j);
                        break;
                    }
                }
            }
        }
        return tied.stream().mapToInt(Integer::intValue).toArray();
    }

    // ---------------------------------------------------------------- helpers

    /** The neighbour count of a Krum score on r points: max(0, r-f-2). */
    public static int neighbours(int r, int f) {
        return Math.max(0, r - f - 2);
    }

    /** Scores of the points {@code subset} (original indices) against the others of the subset. */
    public static double[] scoresOn(double[][] dist, int[] subset, int count) {
        double[] scores = new double[subset.length];
        for (int a = 0; a < subset.length; a++) {
            double[] others = new double[subset.length - 1];
            int o = 0;
            for (int b = 0; b < subset.length; b++) {
                if (b != a) {
                    others[o++] = dist[subset[a]][subset[b]];
                }
            }
            Arrays.sort(others);
            double s = 0;
            for (int c = 0; c < count; c++) {
                s += others[c];
            }
            scores[a] = s;
        }
        return scores;
    }

    public static double medianOf(double[] values) {
        double[] c = values.clone();
        Arrays.sort(c);
        int n = c.length;
        return n % 2 == 1 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
    }

    public static double norm(double[] v) {
        double s = 0;
        for (double t : v) {
            s += t * t;
        }
        return Math.sqrt(s);
    }

    public static double[] meanOf(double[][] x, int[] rows) {
        double[][] chosen = new double[rows.length][];
        for (int r = 0; r < rows.length; r++) {
            chosen[r] = x[rows[r]];
        }
        return mean(chosen);
    }

    private static String winnerNearTie(double[][] dist, int[] subset, int f, String what) {
        int count = neighbours(subset.length, f);
        if (count == 0) {
            return null; // every score is 0: the lowest index wins, by definition
        }
        double[] scores = scoresOn(dist, subset, count);
        int best = 0;
        for (int i = 1; i < subset.length; i++) {
            if (scores[i] < scores[best]) {
                best = i;
            }
        }
        for (int i = 0; i < subset.length; i++) {
            if (i != best && near(scores[best], scores[i]) && !intendedTie(dist, subset, count, subset[best], subset[i])) {
                return what + ": scores of " + subset[best] + " and " + subset[i] + " nearly tie: "
                        + scores[best] + " vs " + scores[i];
            }
        }
        return null;
    }

    /** The spec's intended exact tie: one neighbour, a and b each other's clear nearest neighbour. */
    private static boolean intendedTie(double[][] dist, int[] subset, int count, int a, int b) {
        return count == 1 && clearNearest(dist, subset, a) == b && clearNearest(dist, subset, b) == a;
    }

    /** The nearest other point of the subset, or -1 when the second nearest is nearly as near. */
    private static int clearNearest(double[][] dist, int[] subset, int a) {
        int first = -1;
        int second = -1;
        for (int p : subset) {
            if (p == a) {
                continue;
            }
            if (first < 0 || dist[a][p] < dist[a][first]) {
                second = first;
                first = p;
            } else if (second < 0 || dist[a][p] < dist[a][second]) {
                second = p;
            }
        }
        if (second >= 0 && near(dist[a][first], dist[a][second])) {
            return -1;
        }
        return first;
    }

    private static boolean near(double a, double b) {
        double scale = Math.max(Math.abs(a), Math.abs(b));
        return Math.abs(a - b) <= NEAR_TIE * scale;
    }

    private static List<Integer> byScoreThenIndex(double[] scores) {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < scores.length; i++) {
            order.add(i);
        }
        order.sort(Comparator.<Integer>comparingDouble(i -> scores[i]).thenComparingInt(i -> i));
        return order;
    }

    private static Integer[] closestFirst(double[] values, double med) {
        Integer[] order = new Integer[values.length];
        for (int s = 0; s < values.length; s++) {
            order[s] = s;
        }
        // Arrays.sort on objects is stable: equal distances keep selection order.
        Arrays.sort(order, Comparator.comparingDouble(s -> Math.abs(values[s] - med)));
        return order;
    }

    private static void requireKrum(int n, int f) {
        if (n < 2 * f + 3) {
            throw new IllegalArgumentException("krum needs n >= 2f+3");
        }
    }

    private static double[] column(double[][] x, int j) {
        double[] c = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            c[i] = x[i][j];
        }
        return c;
    }

    private static double[] minus(double[] a, double[] b) {
        double[] r = new double[a.length];
        for (int j = 0; j < a.length; j++) {
            r[j] = a[j] - b[j];
        }
        return r;
    }

    private static double[] filled(int n, double value) {
        double[] a = new double[n];
        Arrays.fill(a, value);
        return a;
    }

    private static int[] range(int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) {
            r[i] = i;
        }
        return r;
    }
}
