import { useEffect, useMemo, useRef, useState } from 'react';
import { at } from '../lib/past.js';
import { duration, km } from '../lib/format.js';
import RaceMap from './RaceMap.jsx';

/*
 * The replay of a past race: a time slider from the start to the last
 * fix, play and pause at x1 to x300, every rider where it was at that
 * moment on the map of the course, and who led by distance then.
 *
 * riders: [{ id, bib, name, track (timed), flowed }]; course: the
 * unrolled, measured course; start, end: ms.
 */

const SPEEDS = [1, 10, 60, 300];
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

    const markers = useMemo(() => dots.map(d => ({
        id: d.id, bib: d.bib, name: d.name, lat: d.pos.lat, lon: d.pos.lon,
        stale: false, highlight: d.id === selected,
    })), [dots, selected]);

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
                        {SPEEDS.map(s => (
                            <option key={s} value={s}>x{s}</option>
                        ))}
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
                <RaceMap course={course} riders={markers} follow={null}
                         onSelect={onSelect} height={360}
                         label="Map of the replay" />
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
