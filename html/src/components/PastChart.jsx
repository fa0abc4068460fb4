import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/*
 * A line chart of a past race (speed, elevation, race flow): uPlot, in
 * a chunk of its own that PastRace imports lazily, so the results table
 * shows before the chart library has loaded.  The chart is made again
 * when its data change and resized with its box, which is what sets its
 * width (360 px phones to desktops).
 *
 *   <PastChart name="speed" x={{label, fmt}} series={[{label, color}]}
 *              data={[xs, ys...]} y={{label, fmt}} height={200} />
 */

export const COLOURS = ['#0b5cad', '#c62828', '#1b7a35', '#8a5300',
                        '#6a1b9a', '#00838f', '#ad1457', '#37474f',
                        '#ef6c00', '#2e7d32', '#283593', '#5d4037'];

export default function PastChart({ name, data, series, x = {}, y = {},
                                    height = 220, legend = true,
                                    label }) {
    const box = useRef(null);
    const plot = useRef(null);

    useEffect(() => {
        const el = box.current;
        if (!el || !data || !data[0] || !data[0].length) {
            return undefined;
        }
        const opts = {
            width: Math.max(200, el.clientWidth),
            height,
            legend: { show: legend },
            cursor: { drag: { x: true, y: false } },
            scales: { x: { time: false } },
            axes: [
                { label: x.label, values: x.fmt
                    ? (u, vals) => vals.map(x.fmt) : undefined },
                { label: y.label, size: 56, values: y.fmt
                    ? (u, vals) => vals.map(y.fmt) : undefined },
            ],
            series: [
                { label: x.label, value: x.fmt
                    ? (u, v) => (v == null ? '–' : x.fmt(v)) : undefined },
                ...series.map((s, i) => ({
                    label: s.label,
                    stroke: s.color || COLOURS[i % COLOURS.length],
                    fill: s.fill,
                    width: s.width || 1.5,
                    spanGaps: false,
                    points: { show: false },
                    value: y.fmt
                        ? (u, v) => (v == null ? '–' : y.fmt(v)) : undefined,
                })),
            ],
        };
        const u = new uPlot(opts, data, el);
        plot.current = u;

        /* the chart follows its box: a phone turned, a window resized */
        const ro = new ResizeObserver(() => {
            const w = Math.max(200, el.clientWidth);
            if (Math.abs(w - u.width) > 2) {
                u.setSize({ width: w, height });
            }
        });
        ro.observe(el);

        return () => {
            ro.disconnect();
            u.destroy();
            plot.current = null;
        };
    }, [data, series, x, y, height, legend]);

    return (
        <figure className="past-chart" data-chart={name}
                data-series={series.length}>
            {label && <figcaption>{label}</figcaption>}
            <div ref={box} className="past-chart-box" />
        </figure>
    );
}
