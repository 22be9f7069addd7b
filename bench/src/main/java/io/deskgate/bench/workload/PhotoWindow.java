package io.deskgate.bench.workload;

import java.awt.Canvas;
import java.awt.Dimension;
import java.awt.Frame;
import java.awt.Graphics;
import java.awt.Toolkit;
import java.awt.image.BufferedImage;

/**
 * Workload W3's program: a window showing a {@link Plasma} photograph (480x360, seed 3) that moves itself across
 * the desktop at 60 Hz along a Lissajous path, as if dragged. Run against an X display:
 * {@code DISPLAY=:170 java -cp bench/target/classes io.deskgate.bench.workload.PhotoWindow [desktopW desktopH]}.
 * Runs until killed.
 */
public final class PhotoWindow {
    static final int W = 480;
    static final int H = 360;

    private PhotoWindow() {}

    public static void main(String[] args) throws Exception {
        int desktopW = args.length > 0 ? Integer.parseInt(args[0]) : 1280;
        int desktopH = args.length > 1 ? Integer.parseInt(args[1]) : 800;
        BufferedImage photo = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        photo.setRGB(0, 0, W, H, Plasma.image(W, H, 3), 0, W);
        Frame frame = new Frame("W3 photo");
        Canvas canvas = new Canvas() {
            @Override public void paint(Graphics g) { g.drawImage(photo, 0, 0, null); }
            @Override public void update(Graphics g) { paint(g); }
        };
        canvas.setPreferredSize(new Dimension(W, H));
        frame.add(canvas);
        frame.pack();
        frame.setLocation(40, 40);
        frame.setVisible(true);
        int rangeX = Math.max(1, desktopW - frame.getWidth() - 20), rangeY = Math.max(1, desktopH - frame.getHeight() - 20);
        long start = System.nanoTime();
        long period = 1_000_000_000L / 60;
        for (long tick = 1; ; tick++) {
            double t = tick / 60.0;
            int x = 10 + (int) Math.round(rangeX * (0.5 + 0.5 * Math.sin(t * 0.9)));
            int y = 10 + (int) Math.round(rangeY * (0.5 + 0.5 * Math.sin(t * 1.3 + 0.7)));
            frame.setLocation(x, y);
            Toolkit.getDefaultToolkit().sync();
            long wait = start + tick * period - System.nanoTime();
            if (wait > 0) Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
        }
    }
}
