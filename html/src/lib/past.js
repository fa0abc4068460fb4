/*
 * The arithmetic of a past race's page, kept apart from React so that it
 * is tested on its own: a rider's speed along its track, where along the
 * course each fix lies (the race-flow chart), where a rider was at any
 * moment (the replay), and the splits against the best at each
 * checkpoint.
 *
 * A track is what geo.parseGpx() reads: points { lat, lon, ele?, t? }
 * by time; points without a time are of no use here and are dropped.
 */

import { distance, locate } from './geo.js';

/* the points with a time, in time order, each with .path: metres ridden */
export function timed(points) {
    const out = [];
    for (const p of points || []) {
        if (p && isFinite(p.t) && isFinite(p.lat) && isFinite(p.lon)) {
            out.push({ ...p });
        }
    }
    out.sort((a, b) => a.t - b.t);
    let d = 0;
    for (let i = 0; i < out.length; i++) {
        if (i > 0) {
            d += distance(out[i - 1], out[i]);
        }
        out[i].path = d;
    }
    return out;
}

/*
 * The speed (m/s) at each fix of a timed track: the distance ridden over
 * a window of windowS seconds centred on the fix, over the time the
 * window spans.  A ratio over a window, not an average of fix-to-fix
 * speeds, so one noisy fix a metre off does not make a spike, and two
 * fixes of the same second divide by nothing.
 */
export function speeds(track, windowS = 10) {
    const n = track.length;
    const half = windowS * 500;
    const out = new Array(n);
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < n; i++) {
        const t = track[i].t;
        while (track[lo].t < t - half) {
            lo++;
        }
        if (hi < i) {
            hi = i;
        }
        while (hi + 1 < n && track[hi + 1].t <= t + half) {
            hi++;
        }
        const dt = (track[hi].t - track[lo].t) / 1000;
        out[i] = dt > 0 ? (track[hi].path - track[lo].path) / dt : null;
    }
    return out;
}

/* the index of the first course point whose dist > d */
function firstAfter(course, d) {
    let lo = 0;
    let hi = course.length;
    while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (course[mid].dist > d) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return lo;
}

/*
 * The course distance of each fix of a timed track on a measured,
 * unrolled course: [{ t, dist }].  Each fix is looked for forward from
 * the previous one's distance, within what a rider could ride since (a
 * loop raced again matches its next lap, not the first), and never goes
 * back; a fix farther than maxOff from the course keeps the distance.
 */
export function flow(course, track, { maxSpeed = 30, slack = 150,
                                      maxOff = 200 } = {}) {
    const out = [];
    if (!course || course.length < 2) {
        return out;
    }
    let last = 0;
    let lastT = null;
    for (const p of track) {
        const dt = lastT === null ? 0 : Math.max(0, (p.t - lastT) / 1000);
        const to = last + slack + maxSpeed * dt;
        const from = Math.max(0, last - slack);
        /* locate() on the window only: a long course is searched in
         * the few hundred metres a fix can be in, not from its start */
        const i0 = Math.max(0, firstAfter(course, from) - 1);
        const i1 = Math.min(course.length, firstAfter(course, to) + 1);
        const at = locate(course.slice(i0, i1), p, from, to);
        if (at.off <= maxOff && at.dist > last) {
            last = at.dist;
        }
        lastT = p.t;
        out.push({ t: p.t, dist: last });
    }
    return out;
}

/* the index of the last sample whose t <= t, -1 before the first */
function before(samples, t) {
    let lo = 0;
    let hi = samples.length - 1;
    let best = -1;
    while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (samples[mid].t <= t) {
            best = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return best;
}

function lerp(a, b, f) {
    return a + (b - a) * f;
}

/*
 * Where a rider was at time t (ms): { lat, lon, dist, state } with state
 * "waiting" before its first fix (it is shown at that fix), "riding", or
 * "done" after its last; null for an empty track.  track is timed();
 * flowed, when given, is flow() of the same track and gives dist.
 */
export function at(track, t, flowed) {
    if (!track || !track.length) {
        return null;
    }
    const i = before(track, t);
    const pick = (k, state) => ({
        lat: track[k].lat, lon: track[k].lon,
        dist: flowed && flowed[k] ? flowed[k].dist : null, state,
    });
    if (i < 0) {
        return pick(0, 'waiting');
    }
    if (i === track.length - 1) {
        return pick(i, t > track[i].t ? 'done' : 'riding');
    }
    const a = track[i];
    const b = track[i + 1];
    const f = b.t > a.t ? (t - a.t) / (b.t - a.t) : 0;
    return {
        lat: lerp(a.lat, b.lat, f), lon: lerp(a.lon, b.lon, f),
        dist: flowed && flowed[i] && flowed[i + 1]
            ? lerp(flowed[i].dist, flowed[i + 1].dist, f) : null,
        state: 'riding',
    };
}

/*
 * The flow of every rider on one time axis, for one uPlot chart: xs in
 * seconds since start, every step s, and per rider its course distance
 * (km) at each, null before its first fix and after its last (so a line
 * stops where the rider's data does, not at a guess).
 */
export function flowGrid(flows, start, end, maxPoints = 600) {
    const span = Math.max(1, (end - start) / 1000);
    const step = Math.max(1, Math.ceil(span / maxPoints));
    const xs = [];
    for (let s = 0; s <= span + step - 1; s += step) {
        xs.push(s);
    }
    const ys = flows.map(f => xs.map(s => {
        const t = start + s * 1000;
        if (!f.length || t < f[0].t || t > f[f.length - 1].t) {
            return null;
        }
        const i = before(f, t);
        if (i === f.length - 1) {
            return f[i].dist / 1000;
        }
        const a = f[i];
        const b = f[i + 1];
        const k = b.t > a.t ? (t - a.t) / (b.t - a.t) : 0;
        return lerp(a.dist, b.dist, k) / 1000;
    }));
    return { xs, ys };
}

/*
 * The splits of every rider against the best at each checkpoint:
 * best[k] the least time there, and per rider [{ s, delta, leg }] with
 * its time, its time behind the best and the time since the checkpoint
 * before (the leg), null where a time is missing.
 */
export function splitDeltas(riders, ncheckpoints) {
    const best = [];
    for (let k = 0; k < ncheckpoints; k++) {
        let b = null;
        for (const r of riders || []) {
            const s = r && Array.isArray(r.splits) ? r.splits[k] : null;
            if (s != null && isFinite(s) && (b === null || s < b)) {
                b = s;
            }
        }
        best.push(b);
    }
    const rows = new Map();
    for (const r of riders || []) {
        const sp = r && Array.isArray(r.splits) ? r.splits : [];
        rows.set(r.rider, best.map((b, k) => {
            const s = sp[k] != null && isFinite(sp[k]) ? sp[k] : null;
            const prev = k === 0 ? 0 : sp[k - 1];
            return {
                s,
                delta: s != null && b != null ? s - b : null,
                leg: s != null && prev != null && isFinite(prev)
                    ? s - prev : null,
            };
        }));
    }
    return { best, rows };
}

/*
 * The results' rows sorted by a column: numbers ascending (descending
 * when desc), missing values last either way; rank breaks ties.
 */
export function sortRows(rows, key, desc = false) {
    const val = r => {
        const v = r[key];
        if (v == null || v === '') {
            return null;
        }
        if (key === 'bib' && /^\d+$/.test(String(v))) {
            return Number(v);
        }
        return v;
    };
    return [...rows].sort((a, b) => {
        const x = val(a);
        const y = val(b);
        if (x === null || y === null) {
            return x === y ? (a.rank || 0) - (b.rank || 0)
                           : x === null ? 1 : -1;
        }
        let c = typeof x === 'number' && typeof y === 'number'
            ? x - y : String(x).localeCompare(String(y));
        if (desc) {
            c = -c;
        }
        return c || (a.rank || 0) - (b.rank || 0);
    });
}

/* runs task(item) for each item, at most limit at once; onDone(n) after
 * each; resolves when all are done (a failure is the task's to keep) */
export async function pool(items, limit, task, onDone) {
    let next = 0;
    let done = 0;
    const worker = async () => {
        while (next < items.length) {
            const item = items[next++];
            try {
                await task(item);
            } catch {
                /* the task keeps its own failure: the others go on */
            }
            done++;
            if (onDone) {
                onDone(done);
            }
        }
    };
    const n = Math.max(1, Math.min(limit, items.length));
    await Promise.all(Array.from({ length: n }, worker));
}
