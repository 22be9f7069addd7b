package io.deskgate.bench.workload;

import java.awt.Canvas;
import java.awt.Dimension;
import java.awt.Frame;
import java.awt.Graphics;
import java.awt.Toolkit;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;

/**
 * Workload W4's program: video-like content, a 960x540 picture that changes everywhere 30 times a second. Each
 * frame blends two {@link Plasma} photographs panning in different directions with a travelling brightness wave,
 * so no frame is a copy of the last (as in real video). Deterministic per frame number. Run against an X display:
 * {@code DISPLAY=:170 java -cp bench/target/classes io.deskgate.bench.workload.MovingPicture [x y]}. Runs until killed.
 */
public final class MovingPicture {
    static final int W = 960;
    static final int H = 540;
    static final int FPS = 30;

    private MovingPicture() {}

    public static void main(String[] args) throws Exception {
        int px = args.length > 0 ? Integer.parseInt(args[0]) : 160;
        int py = args.length > 1 ? Integer.parseInt(args[1]) : 100;
        int sw = 2 * W, sh = 2 * H;
        int[] a = Plasma.image(sw, sh, 4);
        int[] b = Plasma.image(sw, sh, 5);
        BufferedImage frameImage = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        int[] out = ((DataBufferInt) frameImage.getRaster().getDataBuffer()).getData();
        Frame frame = new Frame("W4 moving picture");
        Canvas canvas = new Canvas() {
            @Override public void paint(Graphics g) { g.drawImage(frameImage, 0, 0, null); }
            @Override public void update(Graphics g) { paint(g); }
        };
        canvas.setPreferredSize(new Dimension(W, H));
        frame.add(canvas);
        frame.pack();
        frame.setLocation(px, py);
        frame.setVisible(true);
        long start = System.nanoTime();
        long period = 1_000_000_000L / FPS;
        for (long n = 0; ; n++) {
            render(a, b, sw, sh, n, out);
            Graphics g = canvas.getGraphics();
            if (g != null) {
                g.drawImage(frameImage, 0, 0, null);
                g.dispose();
            }
            Toolkit.getDefaultToolkit().sync();
            long wait = start + (n + 1) * period - System.nanoTime();
            if (wait > 0) Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
        }
    }

    /** Frame {@code n} into {@code out} (W*H pixels). */
    static void render(int[] a, int[] b, int sw, int sh, long n, int[] out) {
        int ax = (int) (n * 4 % (sw - W)), ay = (int) (n * 2 % (sh - H));
        int bx = (int) ((sw - W - 1) - n * 3 % (sw - W)), by = (int) ((sh - H - 1) - n * 5 % (sh - H));
        for (int y = 0; y < H; y++) {
            int ra = (y + ay) * sw + ax, rb = (y + by) * sw + bx;
            for (int x = 0; x < W; x++) {
                int pa = a[ra + x], pb = b[rb + x];
                int wave = 96 + ((x + y * 2 + (int) n * 12) & 127); // 96..223: a moving brightness ramp
                int r = (((pa >> 16 & 255) + (pb >> 16 & 255)) * wave) >> 9;
                int g = (((pa >> 8 & 255) + (pb >> 8 & 255)) * wave) >> 9;
                int bl = (((pa & 255) + (pb & 255)) * wave) >> 9;
                out[y * W + x] = Math.min(255, r) << 16 | Math.min(255, g) << 8 | Math.min(255, bl);
            }
        }
    }
}
