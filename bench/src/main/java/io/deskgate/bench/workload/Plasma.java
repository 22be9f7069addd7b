package io.deskgate.bench.workload;

import java.util.SplittableRandom;

/**
 * A deterministic photograph-like image: a seeded fractal plasma (diamond-square midpoint displacement, one
 * height field per colour channel) with fine grain, so that it has the many colours and fine detail of a photo
 * and compresses like one. The same seed and size give the same pixels on every machine. Stateless.
 */
public final class Plasma {
    private Plasma() {}

    /** {@code 0x00RRGGBB} pixels, row-major, {@code width * height} of them. */
    public static int[] image(int width, int height, long seed) {
        if (width < 1 || height < 1) throw new IllegalArgumentException("plasma size must be positive: " + width + "x" + height);
        int size = 1;
        while (size + 1 < Math.max(width, height)) size <<= 1;
        SplittableRandom random = new SplittableRandom(seed);
        float[] r = field(size, random), g = field(size, random), b = field(size, random);
        int n = size + 1;
        int[] out = new int[width * height];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int i = y * n + x;
                int grain = random.nextInt(-6, 7);
                out[y * width + x] = channel(r[i], grain) << 16 | channel(g[i] * 0.8f + r[i] * 0.2f, grain) << 8 | channel(b[i] * 0.7f + g[i] * 0.3f, grain);
            }
        }
        return out;
    }

    private static int channel(float v, int grain) {
        return Math.clamp(Math.round(v * 255f) + grain, 0, 255);
    }

    /** A (size+1)^2 height field in 0..1. */
    private static float[] field(int size, SplittableRandom random) {
        int n = size + 1;
        float[] f = new float[n * n];
        f[0] = (float) random.nextDouble();
        f[size] = (float) random.nextDouble();
        f[size * n] = (float) random.nextDouble();
        f[size * n + size] = (float) random.nextDouble();
        float amplitude = 0.6f;
        for (int step = size; step > 1; step /= 2, amplitude *= 0.58f) {
            int half = step / 2;
            for (int y = half; y < n; y += step) {
                for (int x = half; x < n; x += step) {
                    float avg = (f[(y - half) * n + x - half] + f[(y - half) * n + x + half] + f[(y + half) * n + x - half] + f[(y + half) * n + x + half]) / 4;
                    f[y * n + x] = avg + (float) (random.nextDouble() - 0.5) * amplitude;
                }
            }
            for (int y = 0; y < n; y += half) {
                for (int x = (y / half) % 2 == 0 ? half : 0; x < n; x += step) {
                    float sum = 0;
                    int count = 0;
                    if (y >= half) { sum += f[(y - half) * n + x]; count++; }
                    if (y + half < n) { sum += f[(y + half) * n + x]; count++; }
                    if (x >= half) { sum += f[y * n + x - half]; count++; }
                    if (x + half < n) { sum += f[y * n + x + half]; count++; }
                    f[y * n + x] = sum / count + (float) (random.nextDouble() - 0.5) * amplitude;
                }
            }
        }
        float min = Float.MAX_VALUE, max = -Float.MAX_VALUE;
        for (float v : f) { min = Math.min(min, v); max = Math.max(max, v); }
        for (int i = 0; i < f.length; i++) f[i] = (f[i] - min) / (max - min);
        return f;
    }
}
