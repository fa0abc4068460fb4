import { useMemo } from 'react';
import './OrgCoursePreview.css';

/*
 * A course drawn without a map: the points projected equirectangularly
 * (longitude scaled by the cosine of the middle latitude, so a loop is
 * not squashed) into the box, start and finish marked, and under it the
 * elevation profile over the distance.  An SVG of a few kilobytes: the
 * page that makes a race needs no map library.
 */

const W = 320;
const H = 220;
const PAD = 12;
const PW = 320;
const PH = 90;

/* the course's path in the box, and where its ends are */
export function coursePath(points, w = W, h = H, pad = PAD) {
    if (!points || points.length < 2) {
        return null;
    }
    let minX = Infinity;
    let maxX = -Infinity;
    let minY = Infinity;
    let maxY = -Infinity;
    let lat0 = 0;
    for (const p of points) {
        lat0 += p.lat / points.length;
    }
    const k = Math.cos(lat0 * Math.PI / 180);
    const xy = points.map(p => [p.lon * k, -p.lat]);
    for (const [x, y] of xy) {
        minX = Math.min(minX, x);
        maxX = Math.max(maxX, x);
        minY = Math.min(minY, y);
        maxY = Math.max(maxY, y);
    }
    const s = Math.min((w - 2 * pad) / ((maxX - minX) || 1e-9),
                       (h - 2 * pad) / ((maxY - minY) || 1e-9));
    /* centred in the box */
    const ox = (w - (maxX - minX) * s) / 2;
    const oy = (h - (maxY - minY) * s) / 2;
    const pts = xy.map(([x, y]) => [+(ox + (x - minX) * s).toFixed(1),
                                    +(oy + (y - minY) * s).toFixed(1)]);
    return {
        d: 'M' + pts.map(p => p.join(' ')).join('L'),
        start: pts[0],
        finish: pts[pts.length - 1],
    };
}

/* the elevation profile's line and area, or null without elevations */
export function profilePath(points, w = PW, h = PH) {
    const e = points.filter(p => p.ele != null && isFinite(p.ele)
                                 && isFinite(p.dist));
    if (e.length < 2) {
        return null;
    }
    const len = e[e.length - 1].dist || 1;
    let lo = Infinity;
    let hi = -Infinity;
    for (const p of e) {
        lo = Math.min(lo, p.ele);
        hi = Math.max(hi, p.ele);
    }
    /* at least 20 m of height, so a flat course looks flat */
    const span = Math.max(hi - lo, 20);
    const pts = e.map(p => [(p.dist / len * w).toFixed(1),
                            (h - 4 - (p.ele - lo) / span * (h - 8))
                                .toFixed(1)]);
    const line = 'M' + pts.map(p => p.join(' ')).join('L');
    return { line, area: line + `L${w} ${h}L0 ${h}Z`, lo, hi };
}

export default function OrgCoursePreview({ points, title }) {
    const path = useMemo(() => coursePath(points), [points]);
    const prof = useMemo(() => points ? profilePath(points) : null,
                         [points]);

    if (!path) {
        return null;
    }

    return (
        <div className="org-preview">
            <svg viewBox={`0 0 ${W} ${H}`} className="org-map" role="img"
                 aria-label={'The course' + (title ? ': ' + title : '')}>
                <path d={path.d} className="org-route-casing" />
                <path d={path.d} className="org-route" />
                <circle cx={path.finish[0]} cy={path.finish[1]} r="7"
                        className="org-finish" />
                <circle cx={path.start[0]} cy={path.start[1]} r="4.5"
                        className="org-start" />
            </svg>
            <p className="org-legend">
                <span className="org-key org-key-start" /> start
                <span className="org-key org-key-finish" /> finish
            </p>
            {prof && (
                <svg viewBox={`0 0 ${PW} ${PH}`} className="org-profile"
                     role="img" preserveAspectRatio="none"
                     aria-label={`Elevation profile, ${Math.round(prof.lo)}`
                                 + ` to ${Math.round(prof.hi)} m`}>
                    <path d={prof.area} className="org-profile-area" />
                    <path d={prof.line} className="org-profile-line" />
                </svg>
            )}
        </div>
    );
}
