/*
 * The live leaderboard's logic, apart from React so it is tested alone:
 * who is listed (entered riders and live states merged), in what order,
 * who is stale, the split deltas, the favourites kept per race, and the
 * elevation profile of the raced course.
 */

import { age, duration } from './format.js';
import { unroll } from './geo.js';

/* no fix for this long and the rider is shown as stale, as race-tracker
 * does: honest about old data even before the server says so */
export const STALE_MS = 60000;

const DONE = new Set(['finished', 'dnf', 'dsq']);

function num(v) {
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/*
 * The rows: every rider of the race document, with its live state when
 * there is one, and every live state of a rider the document does not
 * know (an ad-hoc race has no document).
 */
export function mergeRiders(entered, live) {
    const rows = new Map();
    for (const r of entered || []) {
        if (r && r.id != null) {
            rows.set(String(r.id), { rider: String(r.id), bib: r.bib,
                                     name: r.name, status: r.status });
        }
    }
    for (const [id, s] of live || []) {
        const old = rows.get(id);
        const row = { ...(old || {}), ...s };
        /* the document's name and bib when the state has none */
        row.bib = s.bib != null && s.bib !== '' ? s.bib : old && old.bib;
        row.name = s.name || (old && old.name);
        rows.set(id, row);
    }
    return Array.from(rows.values());
}

/* bibs compare as numbers when they are, else as text */
function byBib(a, b) {
    const x = String(a.bib ?? '');
    const y = String(b.bib ?? '');
    const nx = Number(x);
    const ny = Number(y);
    if (x !== '' && y !== '' && Number.isFinite(nx) && Number.isFinite(ny)) {
        return nx - ny;
    }
    return x.localeCompare(y);
}

/* by rank; riders without one after, the farthest first, then by bib */
export function sortRiders(rows) {
    return rows.slice().sort((a, b) => {
        const ra = num(a.rank);
        const rb = num(b.rank);
        if (ra != null && rb != null && ra !== rb) {
            return ra - rb;
        }
        if ((ra == null) !== (rb == null)) {
            return ra == null ? 1 : -1;
        }
        const da = num(a.dist_m) ?? -1;
        const db = num(b.dist_m) ?? -1;
        if (da !== db) {
            return db - da;
        }
        return byBib(a, b);
    });
}

/* how old the rider's last fix is at now, or null without one */
export function fixAge(r, now) {
    const t = num(r && r.t);
    return t == null ? null : Math.max(0, now - t);
}

/* a rider still racing whose position is old: said, and faded */
export function isStale(r, now) {
    if (!r || DONE.has(r.status)) {
        return false;
    }
    if (r.status === 'stale') {
        return true;
    }
    const a = fixAge(r, now);
    return a != null && a > STALE_MS;
}

export function staleText(r, now) {
    const a = fixAge(r, now);
    return a == null ? 'no fix yet' : 'no fix for ' + age(a);
}

const WORDS = {
    racing: 'Racing', finished: 'Finished', stale: 'No fix',
    off_course: 'Off course', dnf: 'DNF', dsq: 'DSQ',
    entered: 'Not started',
};

export function statusText(r) {
    return (r && WORDS[r.status]) || (r && r.status) || '–';
}

/*
 * The splits: for each checkpoint, the fastest time to it and each
 * rider's time and delta to that fastest.  A time not yet made is null.
 *   { fastest: [s|null...], rows: [{ rider, times: [{ s, delta }] }] }
 */
export function splitDeltas(checkpoints, rows) {
    const n = (checkpoints || []).length;
    const fastest = new Array(n).fill(null);
    const times = (rows || []).map(r => {
        const sp = Array.isArray(r.splits) ? r.splits : [];
        return Array.from({ length: n }, (_, i) => num(sp[i]));
    });
    for (const ts of times) {
        ts.forEach((s, i) => {
            if (s != null && (fastest[i] == null || s < fastest[i])) {
                fastest[i] = s;
            }
        });
    }
    return {
        fastest,
        rows: (rows || []).map((r, k) => ({
            rider: r.rider,
            times: times[k].map((s, i) => ({
                s, delta: s == null ? null : s - fastest[i] })),
        })),
    };
}

/* a split for people: "12:04 (+0:15)" or "12:04 (best)" */
export function splitText(cell) {
    if (!cell || cell.s == null) {
        return '–';
    }
    return duration(cell.s) + (cell.delta ? ' (+' + duration(cell.delta) + ')'
                                          : ' (best)');
}

/*
 * favourites: a set of rider ids, kept per race in localStorage.  With
 * storage blocked, merely reading localStorage throws (SecurityError),
 * so it is read inside the try, never as a default parameter.
 */
const FAV = 'race-favourites:';

export function loadFavourites(race, store) {
    try {
        const s = store || globalThis.localStorage;
        const v = JSON.parse(s.getItem(FAV + race) || '[]');
        return new Set(Array.isArray(v) ? v.filter(x => typeof x === 'string')
                                        : []);
    } catch {
        return new Set();
    }
}

export function saveFavourites(race, favs, store) {
    try {
        const s = store || globalThis.localStorage;
        s.setItem(FAV + race, JSON.stringify(Array.from(favs)));
    } catch {
        /* storage off or full: the stars last as long as the page */
    }
}

/*
 * The elevation profile of the raced course: the lap unrolled by the
 * laps, as [{ d, ele }] thinned to about max points (a profile a few
 * hundred pixels wide needs no more), or [] without elevations.
 */
export function profile(lap, laps = 1, max = 400) {
    const pts = (lap || []).filter(p => p && Number.isFinite(p.lat)
                                        && Number.isFinite(p.lon));
    if (pts.length < 2 || !pts.some(p => num(p.ele) != null)) {
        return [];
    }
    const all = unroll(pts, Math.max(1, Math.floor(laps) || 1));
    const step = Math.max(1, Math.ceil(all.length / max));
    const out = [];
    let last = null;
    for (let i = 0; i < all.length; i++) {
        if (num(all[i].ele) != null) {
            last = all[i].ele;
        }
        if (last != null && (i % step === 0 || i === all.length - 1)) {
            out.push({ d: all[i].dist, ele: last });
        }
    }
    return out;
}

/* the elevation at course distance d, interpolated */
export function eleAt(prof, d) {
    if (!prof.length || !Number.isFinite(d)) {
        return null;
    }
    if (d <= prof[0].d) {
        return prof[0].ele;
    }
    for (let i = 1; i < prof.length; i++) {
        if (d <= prof[i].d) {
            const a = prof[i - 1];
            const b = prof[i];
            const f = b.d > a.d ? (d - a.d) / (b.d - a.d) : 0;
            return a.ele + f * (b.ele - a.ele);
        }
    }
    return prof[prof.length - 1].ele;
}
