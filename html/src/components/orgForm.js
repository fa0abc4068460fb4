/*
 * What the organizer's forms turn into API bodies: a datetime-local
 * value and Unix ms both ways, checkpoint rows in km into metres, a
 * course file read into points (for the preview) and into what
 * POST /api/races takes (GPX as its text, GeoJSON as the object).
 * Pure functions, so the conversions are tested without a browser.
 */

import { distance, measure, parseGeoJson, parseGpx } from '../lib/geo.js';

/* a course whose ends are this close may be raced in laps: the
 * server's RACE_COURSE_CLOSED_M */
export const CLOSED_M = 100;

/* the server's race_api_course_max_size default */
export const COURSE_MAX_BYTES = 4 * 1024 * 1024;

const pad = n => String(n).padStart(2, '0');

/* Unix ms -> "2026-05-01T09:30" in the browser's time zone, '' if none */
export function toLocalInput(ms) {
    if (ms == null || !isFinite(ms)) {
        return '';
    }
    const d = new Date(ms);
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-'
           + pad(d.getDate()) + 'T' + pad(d.getHours()) + ':'
           + pad(d.getMinutes());
}

/* "2026-05-01T09:30" (seconds allowed) in local time -> Unix ms, or
 * null for an empty or malformed value; parsed by hand, since
 * Date.parse of such a string differs between engines */
export function fromLocalInput(s) {
    const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/
        .exec(s || '');
    if (!m) {
        return null;
    }
    const d = new Date(+m[1], m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0));
    /* 2026-02-31 rolls over into March: refuse it */
    if (d.getMonth() !== m[2] - 1 || d.getDate() !== +m[3]) {
        return null;
    }
    return d.getTime();
}

/* the next full hour, one hour from now: a form's first start time */
export function defaultStart(now = Date.now()) {
    const d = new Date(now + 3600 * 1000);
    d.setMinutes(0, 0, 0);
    return d.getTime();
}

/*
 * Checkpoint rows {name, km} (as typed) -> [{name, dist_m}] sorted by
 * distance.  Blank rows are dropped; a row with a name but no valid
 * distance, or one past the course's end, throws an Error naming it.
 */
export function checkpointsBody(rows, lengthM) {
    const out = [];
    (rows || []).forEach((r, i) => {
        const name = String(r.name || '').trim();
        const kmText = String(r.km == null ? '' : r.km).trim()
            .replace(',', '.');
        if (!name && !kmText) {
            return;
        }
        const label = 'Checkpoint ' + (i + 1);
        if (!name) {
            throw new Error(label + ' has no name.');
        }
        const km = Number(kmText);
        if (!kmText || !isFinite(km) || km <= 0) {
            throw new Error(label + ' (' + name + ') needs a distance '
                            + 'in km above 0.');
        }
        const dist = Math.round(km * 1000);
        if (lengthM && dist >= lengthM) {
            throw new Error(label + ' (' + name + ') is past the finish ('
                            + (lengthM / 1000).toFixed(2) + ' km).');
        }
        out.push({ name, dist_m: dist });
    });
    return out.sort((a, b) => a.dist_m - b.dist_m);
}

/* rows for a checkpoint at the end of every lap but the last */
export function lapCheckpoints(lapM, laps) {
    const rows = [];
    for (let k = 1; k < laps; k++) {
        rows.push({ name: 'Lap ' + k, km: (k * lapM / 1000).toFixed(3) });
    }
    return rows;
}

/*
 * A course file's text -> {kind, points, body, lapM, closed, gain,
 * ele}.  GPX when the name says so or the text starts with '<',
 * GeoJSON otherwise.  Throws an Error saying what is wrong.
 */
export function readCourse(text, fileName = '') {
    if (typeof text !== 'string' || !text.trim()) {
        throw new Error('The file is empty.');
    }
    const gpx = /\.gpx$/i.test(fileName) || /^\s*</.test(text);
    let points;
    let body;

    if (gpx) {
        points = parseGpx(text);
        body = text;
    } else {
        try {
            body = JSON.parse(text);
        } catch {
            throw new Error('This file is neither GPX nor JSON.');
        }
        points = parseGeoJson(body);
        for (const p of points) {
            if (!isFinite(p.lat) || !isFinite(p.lon)
                || Math.abs(p.lat) > 90 || Math.abs(p.lon) > 180) {
                throw new Error('A point has no valid lat and lon.');
            }
        }
    }

    if (points.length < 2) {
        throw new Error('A course needs at least two points.');
    }

    const lapM = measure(points);
    let gain = 0;
    let lo = Infinity;
    let hi = -Infinity;
    let prev = null;
    for (const p of points) {
        if (p.ele == null || !isFinite(p.ele)) {
            continue;
        }
        if (prev != null && p.ele > prev) {
            gain += p.ele - prev;
        }
        prev = p.ele;
        lo = Math.min(lo, p.ele);
        hi = Math.max(hi, p.ele);
    }

    return {
        kind: gpx ? 'gpx' : 'geojson',
        points,
        body,
        lapM,
        closed: distance(points[0], points[points.length - 1]) <= CLOSED_M,
        gain,
        ele: lo <= hi ? [lo, hi] : null,
    };
}

/*
 * The form's values -> the body of POST /api/races, or an Error that
 * says which field is wrong.  f: {name, start, isPublic, laps,
 * checkpoints, close}; course: what readCourse returned.
 */
export function raceBody(f, course) {
    const name = String(f.name || '').trim();
    if (!name) {
        throw new Error('The race needs a name.');
    }
    const start = fromLocalInput(f.start);
    if (start == null) {
        throw new Error('The start needs a date and a time.');
    }
    if (!course) {
        throw new Error('Choose a course file (GPX or GeoJSON).');
    }
    const laps = Number(f.laps || 1);
    if (!Number.isInteger(laps) || laps < 1) {
        throw new Error('Laps must be a whole number from 1.');
    }
    if (laps > 1 && !course.closed) {
        throw new Error('Only a loop (start and finish within '
                        + CLOSED_M + ' m) can be raced in laps.');
    }
    const body = {
        name,
        start_at: start,
        public: !!f.isPublic,
        course: course.body,
        laps,
        checkpoints: checkpointsBody(f.checkpoints, course.lapM * laps),
    };
    if (f.close) {
        const close = fromLocalInput(f.close);
        if (close == null) {
            throw new Error('The closing time is not a date and a time.');
        }
        if (close <= start) {
            throw new Error('The race must close after its start.');
        }
        body.close_at = close;
    }
    return body;
}
