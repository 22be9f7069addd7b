package io.deskgate.stream;

import java.util.Arrays;
import java.util.Random;

/** Seeded random mutations for the decoders' fuzz-style tests. */
final class Mutator {
    private Mutator() {}

    static byte[] mutate(byte[] seed, Random random) {
        byte[] b = seed.clone();
        int edits = 1 + random.nextInt(4);
        for (int e = 0; e < edits; e++) {
            switch (random.nextInt(5)) {
                case 0 -> { if (b.length > 0) b[random.nextInt(b.length)] ^= (byte) (1 << random.nextInt(8)); }
                case 1 -> { if (b.length > 0) b[random.nextInt(b.length)] = (byte) random.nextInt(256); }
                case 2 -> b = Arrays.copyOf(b, random.nextInt(b.length + 1));
                case 3 -> {
                    byte[] extra = new byte[1 + random.nextInt(8)];
                    random.nextBytes(extra);
                    byte[] grown = Arrays.copyOf(b, b.length + extra.length);
                    System.arraycopy(extra, 0, grown, b.length, extra.length);
                    b = grown;
                }
                default -> { if (b.length > 1) { int i = random.nextInt(b.length), j = random.nextInt(b.length); byte t = b[i]; b[i] = b[j]; b[j] = t; } }
            }
        }
        return b;
    }
}
