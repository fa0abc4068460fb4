import { useEffect, useMemo, useRef, useState } from 'react';
import { eleAt } from '../lib/standings.js';
import { km } from '../lib/format.js';

/*
 * The course's elevation against distance, an SVG drawn here (no chart
 * library for one line), with the checkpoints as ticks and each rider a
 * dot at its course distance.  The text alternative says the climb and
 * where the leader is.
 *
 *   <Elevation profile={[{d, ele}]} checkpoints={[{name, dist_m}]}
 *              riders={[{rider, bib, name, dist_m}]} follow={id} />
 */

const H = 150;
const PAD = { l: 40, r: 8, t: 10, b: 22 };

export default function Elevation({ profile, checkpoints, riders, follow }) {
    const box = useRef(null);
    const W = useWidth(box);
    const geo = useMemo(() => {
        if (!profile || profile.length < 2) {
            return null;
        }
        const len = profile[profile.length - 1].d || 1;
        let lo = Infinity;
        let hi = -Infinity;
        let climb = 0;
        profile.forEach((p, i) => {
            lo = Math.min(lo, p.ele);
            hi = Math.max(hi, p.ele);
            if (i && p.ele > profile[i - 1].ele) {
                climb += p.ele - profile[i - 1].ele;
            }
        });
        /* a flat course still gets a band, not a division by zero */
        const span = Math.max(hi - lo, 10);
        const x = d => PAD.l + (d / len) * (W - PAD.l - PAD.r);
        const y = e => H - PAD.b - ((e - lo) / span) * (H - PAD.t - PAD.b);
        const line = profile.map(p => x(p.d).toFixed(1) + ','
                                      + y(p.ele).toFixed(1)).join(' ');
        const area = `${x(0)},${H - PAD.b} ${line} ${x(len)},${H - PAD.b}`;
        return { len, lo, hi, climb, x, y, area, line };
    }, [profile, W]);

    if (!geo) {
        return <div ref={box} />;
    }
    /* (one box, measured, whichever is drawn in it) */

    const on = (riders || []).filter(r => Number.isFinite(r.dist_m));
    const lead = on.reduce((a, r) => (!a || r.dist_m > a.dist_m ? r : a),
                           null);
    const text = `Elevation from ${Math.round(geo.lo)} m to `
        + `${Math.round(geo.hi)} m, ${Math.round(geo.climb)} m of climbing `
        + `over ${km(geo.len)}.`
        + (lead ? ` The leader, bib ${lead.bib ?? '?'}, is at `
                  + `${km(lead.dist_m)}.` : '');

    return (
        <div ref={box}>
            <figure className="elevation">
                {/* the caption is the text alternative: read once */}
                <svg viewBox={`0 0 ${W} ${H}`} width={W} height={H}
                     aria-hidden="true">
                    <polygon points={geo.area} className="ele-area" />
                    <polyline points={geo.line} className="ele-line" />
                    <text x={PAD.l - 4} y={geo.y(geo.hi) + 4}
                          className="ele-axis" textAnchor="end">
                        {Math.round(geo.hi)}
                    </text>
                    <text x={PAD.l - 4} y={H - PAD.b}
                          className="ele-axis" textAnchor="end">
                        {Math.round(geo.lo)}
                    </text>
                    {(checkpoints || []).map((c, i) => Number.isFinite(c.dist_m)
                        && c.dist_m <= geo.len && (
                        <g key={i}>
                            <line x1={geo.x(c.dist_m)} x2={geo.x(c.dist_m)}
                                  y1={PAD.t} y2={H - PAD.b}
                                  className="ele-cp" />
                            <text x={geo.x(c.dist_m)} y={H - 6}
                                  className="ele-axis" textAnchor="middle">
                                {c.name}
                            </text>
                        </g>
                    ))}
                    {on.map(r => {
                        const d = Math.min(r.dist_m, geo.len);
                        const e = eleAt(profile, d);
                        return (
                            <circle key={r.rider} cx={geo.x(d)} cy={geo.y(e)}
                                    r={r.rider === follow ? 7 : 5}
                                    className={'ele-rider'
                                        + (r.rider === follow
                                           ? ' follow' : '')}>
                                <title>{`Bib ${r.bib ?? '?'}`
                                        + (r.name ? ', ' + r.name : '')
                                        + ` at ${km(r.dist_m)}`}</title>
                            </circle>
                        );
                    })}
                </svg>
                <figcaption>{text}</figcaption>
            </figure>
        </div>
    );
}

/* the drawing is made at the box's width in pixels, so that dots stay
 * round and labels unstretched at any width */
function useWidth(ref) {
    const [w, setW] = useState(800);
    useEffect(() => {
        const el = ref.current;
        if (!el || typeof ResizeObserver === 'undefined') {
            return undefined;
        }
        const ro = new ResizeObserver(() => {
            const v = Math.round(el.clientWidth);
            if (v > 0) {
                setW(v);
            }
        });
        ro.observe(el);
        return () => ro.disconnect();
    }, [ref]);
    return w;
}
