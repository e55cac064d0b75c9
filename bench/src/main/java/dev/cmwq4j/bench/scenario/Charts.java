package dev.cmwq4j.bench.scenario;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;

/**
 * PNG charts with XChart: one bar chart per scenario (executors on the x axis), laid out in a grid
 * in one file. Pairs that did not finish get a zero bar and their status in the label.
 */
final class Charts {
    private Charts() {}

    static void write(Path wallPng, Path threadsPng, String mode, List<Scenario> scenarios, List<Peer> peers,
            Map<String, Result> results) throws IOException {
        grid(wallPng, mode, "wall time (s)", "0.###", scenarios, peers, results, r -> r.num("wallNanos") / 1e9);
        grid(threadsPng, mode, "peak threads", "0", scenarios, peers, results,
                r -> Math.max(0, r.num("peakThreads")));
    }

    private static void grid(Path png, String mode, String yTitle, String pattern, List<Scenario> scenarios,
            List<Peer> peers,
            Map<String, Result> results, ToDoubleFunction<Result> value) throws IOException {
        List<CategoryChart> charts = new ArrayList<>();
        for (Scenario s : scenarios) {
            List<String> xs = new ArrayList<>();
            List<Double> ys = new ArrayList<>();
            for (Peer p : peers) {
                Result r = results.get(Report.key(s, p));
                if (r == null) {
                    continue;
                }
                boolean ok = r.ok();
                xs.add(ok ? p.id : p.id + " (" + r.status() + ")");
                ys.add(ok ? value.applyAsDouble(r) : 0.0);
            }
            if (xs.isEmpty()) {
                continue;
            }
            CategoryChart chart = new CategoryChartBuilder().width(520).height(380)
                    .title(s.id() + " (" + mode + ")").yAxisTitle(yTitle).build();
            chart.getStyler().setLegendVisible(false);
            chart.getStyler().setXAxisLabelRotation(45);
            chart.getStyler().setLabelsVisible(true);
            chart.getStyler().setYAxisMin(0.0);
            chart.getStyler().setDecimalPattern(pattern);
            chart.getStyler().setYAxisDecimalPattern(pattern);
            chart.addSeries(yTitle, xs, ys);
            charts.add(chart);
        }
        if (charts.isEmpty()) {
            return;
        }
        // Laid out by hand: XChart's own grid (saveBitmap(charts, rows, cols, ...)) needs
        // rows * cols == charts, which a prime number of scenarios cannot give.
        int cols = Math.min(3, charts.size());
        int rows = (charts.size() + cols - 1) / cols;
        int w = charts.get(0).getWidth();
        int h = charts.get(0).getHeight();
        BufferedImage grid = new BufferedImage(cols * w, rows * h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = grid.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, grid.getWidth(), grid.getHeight());
            for (int i = 0; i < charts.size(); i++) {
                g.drawImage(BitmapEncoder.getBufferedImage(charts.get(i)), (i % cols) * w, (i / cols) * h, null);
            }
        } finally {
            g.dispose();
        }
        if (!ImageIO.write(grid, "png", png.toFile())) {
            throw new IOException("no PNG writer");
        }
    }
}
