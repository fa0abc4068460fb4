import { useEffect, useMemo, useRef, useState } from 'react';
import { at } from '../lib/past.js';
import { duration, km } from '../lib/format.js';

/*
 * The replay of a past race: a time slider from the start to the last
 * fix, play and pause at x1 to x300, every rider where it was at that
 * moment on a drawing of the course, and who led by distance then.
 *
 * riders: [{ id, bib, name, track (timed), flowed }]; course: the
 * unrolled, measured course; start, end: ms.
 */

const SPEEDS = [1, 10, 60, 300];
const W = 600;
const H = 360;
const PAD = 16;

/* lat/lon to the drawing's x/y: equirectangular at the course's
 * latitude, which is true enough over a race's few kilometres */
function projector(points) {
    let minX = Infinity;
    let minY = Infinity;
    let maxX = -Infinity;
    let maxY = -Infinity;
    const lat0 = points.length ? points[0].lat : 0;
    const k = Math.cos(lat0 * Math.PI / 180);
    for (const p of points) {
        minX = Math.min(minX, p.lon * k);
        maxX = Math.max(maxX, p.lon * k);
        minY = Math.min(minY, p.lat);
        maxY = Math.max(maxY, p.lat);
    }
    const s = Math.min((W - 2 * PAD) / Math.max(1e-9, maxX - minX),
                       (H - 2 * PAD) / Math.max(1e-9, maxY - minY));
    const ox = (W - s * (maxX - minX)) / 2;
    const oy = (H - s * (maxY - minY)) / 2;
    return p => [ox + (p.lon * k - minX) * s, H - oy - (p.lat - minY) * s];
}

function CourseSvg({ course, dots, selected, onSelect }) {
    const proj = useMemo(() => projector(course), [course]);
    const line = useMemo(() => course.map(p => proj(p).map(v => v.toFixed(1))
                                                      .join(',')).join(' '),
                         [course, proj]);
    return (
        <svg className="past-replay-map" viewBox={`0 0 ${W} ${H}`}
             role="img" aria-label="The course with the riders">
            <polyline points={line} fill="none" stroke="#8c959f"
                      strokeWidth="4" strokeLinejoin="round" />
            {course.length > 0 && (
                <circle cx={proj(course[0])[0]} cy={proj(course[0])[1]}
                        r="6" fill="#1b1f24" />
            )}
            {dots.map(d => {
                const [x, y] = proj(d.pos);
                const on = d.id === selected;
                return (
                    <g key={d.id} transform={`translate(${x.toFixed(1)},`
                                             + `${y.toFixed(1)})`}
                       className={on ? 'on' : ''}
                       onClick={() => onSelect && onSelect(d.id)}>
                        <circle r={on ? 11 : 8}
                                fill={d.pos.state === 'done' ? '#57606a'
                                      : on ? '#c62828' : '#0b5cad'}
                                stroke="#fff" strokeWidth="2" />
                        <text textAnchor="middle" dy="4" fill="#fff"
                              fontSize="9" fontWeight="700">
                            {String(d.bib ?? '').slice(0, 3)}
                        </text>
                    </g>
                );
            })}
        </svg>
    );
}

export default function PastReplay({ course, riders, start, end,
                                     selected, onSelect }) {
    const span = Math.max(1000, end - start);
    const [t, setT] = useState(0);
    const [playing, setPlaying] = useState(false);
    const [speed, setSpeed] = useState(60);
    const frame = useRef(0);

    /* play: time moves by the wall clock times the speed-up, one
     * animation frame at a time, and stops at the end */
    useEffect(() => {
        if (!playing) {
            return undefined;
        }
        let last = performance.now();
        const step = (now) => {
            const dt = (now - last) * speed;
            last = now;
            setT(v => {
                const n = Math.min(span, v + dt);
                if (n >= span) {
                    setPlaying(false);
                }
                return n;
            });
            frame.current = requestAnimationFrame(step);
        };
        frame.current = requestAnimationFrame(step);
        return () => cancelAnimationFrame(frame.current);
    }, [playing, speed, span]);

    const dots = useMemo(() => {
        const out = [];
        for (const r of riders) {
            const pos = at(r.track, start + t, r.flowed);
            if (pos) {
                out.push({ id: r.id, bib: r.bib, name: r.name, pos });
            }
        }
        return out;
    }, [riders, start, t]);

    const board = useMemo(() => [...dots].sort(
        (a, b) => (b.pos.dist ?? -1) - (a.pos.dist ?? -1)), [dots]);

    return (
        <div className="past-replay">
            <div className="toolbar">
                <button type="button" onClick={() => {
                    if (!playing && t >= span) {
                        setT(0);
                    }
                    setPlaying(!playing);
                }} aria-pressed={playing}>
                    {playing ? 'Pause' : 'Play'}
                </button>
                <label>
                    <span aria-hidden="true">Speed </span>
                    <select value={speed} aria-label="Replay speed"
                            onChange={e => setSpeed(Number(e.target.value))}>
                        {SPEEDS.map(s => <option key={s} value={s}>x{s}</option>)}
                    </select>
                </label>
                <output className="past-replay-time" aria-live="off">
                    {duration(t / 1000)} / {duration(span / 1000)}
                </output>
            </div>
            <label className="past-replay-slider">
                <span className="sr-only">Replay time</span>
                <input type="range" min="0" max={span} step="1000"
                       value={Math.round(t)}
                       aria-valuetext={duration(t / 1000)}
                       onChange={e => {
                           setPlaying(false);
                           setT(Number(e.target.value));
                       }} />
            </label>
            <div className="past-replay-body">
                <CourseSvg course={course} dots={dots} selected={selected}
                           onSelect={onSelect} />
                <ol className="past-board" aria-label="Leaders at this time">
                    {board.map(d => (
                        <li key={d.id} data-rider={d.id}
                            className={d.id === selected ? 'on' : ''}>
                            <span className="bib">{d.bib}</span>
                            <span className="name">{d.name}</span>
                            <span className="dist">{km(d.pos.dist, 2)}</span>
                        </li>
                    ))}
                </ol>
            </div>
        </div>
    );
}
