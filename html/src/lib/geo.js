/*
 * Geometry the pages share: distances on the sphere (the same radius as
 * core/race_course.c), a course's cumulative distance, GPX and GeoJSON
 * read into points, and where along a course a point lies.
 *
 * A point is { lat, lon, ele?, t? }; a course is an array of them with
 * dist (metres from the start) filled by measure().
 */

const R = 6371008.8;
const RAD = Math.PI / 180;

export function distance(a, b) {
    const dlat = (b.lat - a.lat) * RAD;
    const dlon = (b.lon - a.lon) * RAD;
    const s = Math.sin(dlat / 2) ** 2 + Math.cos(a.lat * RAD)
              * Math.cos(b.lat * RAD) * Math.sin(dlon / 2) ** 2;
    return 2 * R * Math.asin(Math.min(1, Math.sqrt(s)));
}

/* fills p.dist along the points; returns the length */
export function measure(points) {
    let d = 0;
    for (let i = 0; i < points.length; i++) {
        if (i > 0) {
            d += distance(points[i - 1], points[i]);
        }
        points[i].dist = d;
    }
    return d;
}

/* [minLon, minLat, maxLon, maxLat] */
export function bbox(points) {
    let b = [Infinity, Infinity, -Infinity, -Infinity];
    for (const p of points) {
        b = [Math.min(b[0], p.lon), Math.min(b[1], p.lat),
             Math.max(b[2], p.lon), Math.max(b[3], p.lat)];
    }
    return b;
}

/* elements by local name, with or without a namespace prefix */
function byName(node, name) {
    const list = node.getElementsByTagName(name);
    if (list.length) {
        return Array.from(list);
    }
    return Array.from(node.getElementsByTagName('*'))
        .filter(e => e.localName === name);
}

function num(v) {
    const n = parseFloat(v);
    return isFinite(n) ? n : undefined;
}

/*
 * The points of a GPX document (tracks, else routes), in order, with
 * ele and t where the file has them.  Throws an Error that says what is
 * wrong (not XML, not GPX, no points).  The browser's own XML parser
 * reads it: it loads no DTD and expands no external entity.
 */
export function parseGpx(text) {
    /* what is not even markup is told without the parser, whose error
     * document carries inline styles that a strict CSP reports */
    if (!/^\uFEFF?\s*</.test(text)) {
        throw new Error('This file is not XML.');
    }
    const doc = new DOMParser().parseFromString(text, 'application/xml');
    if (doc.getElementsByTagName('parsererror').length) {
        throw new Error('This file is not XML.');
    }
    if (doc.documentElement.localName !== 'gpx') {
        throw new Error('This file is not GPX.');
    }
    let nodes = byName(doc, 'trkpt');
    if (!nodes.length) {
        nodes = byName(doc, 'rtept');
    }
    const points = [];
    for (const n of nodes) {
        const lat = num(n.getAttribute('lat'));
        const lon = num(n.getAttribute('lon'));
        if (lat === undefined || lon === undefined || Math.abs(lat) > 90
            || Math.abs(lon) > 180) {
            throw new Error('A point has no valid lat and lon.');
        }
        const p = { lat, lon };
        const ele = byName(n, 'ele')[0];
        const time = byName(n, 'time')[0];
        if (ele) {
            p.ele = num(ele.textContent);
        }
        if (time) {
            const t = Date.parse(time.textContent);
            if (isFinite(t)) {
                p.t = t;
            }
        }
        points.push(p);
    }
    if (!points.length) {
        throw new Error('This GPX file has no track or route points.');
    }
    return points;
}

/* a GeoJSON LineString, a Feature of one, or a FeatureCollection's
 * first: [lon, lat, ele?] */
export function parseGeoJson(obj) {
    let g = typeof obj === 'string' ? JSON.parse(obj) : obj;
    if (g && g.type === 'FeatureCollection') {
        g = (g.features || []).find(f => f && f.geometry
                                      && f.geometry.type === 'LineString');
    }
    if (g && g.type === 'Feature') {
        g = g.geometry;
    }
    if (!g || g.type !== 'LineString' || !Array.isArray(g.coordinates)) {
        throw new Error('This GeoJSON has no LineString.');
    }
    return g.coordinates.map(c => ({ lon: c[0], lat: c[1],
                                     ele: c.length > 2 ? c[2] : undefined }));
}

/*
 * Where along a measured course the point p is: { dist, off } with the
 * course distance of the nearest point of the nearest segment and how
 * far p is from it.  from and to (metres) bound the search, so a loop
 * raced again is matched forward, not to its first lap.
 */
export function locate(course, p, from = 0, to = Infinity) {
    const cos = Math.cos(p.lat * RAD);
    let best = { dist: 0, off: Infinity };
    for (let i = 1; i < course.length; i++) {
        const a = course[i - 1];
        const b = course[i];
        if (b.dist < from || a.dist > to) {
            continue;
        }
        const ax = (a.lon - p.lon) * cos;
        const ay = a.lat - p.lat;
        const bx = (b.lon - p.lon) * cos;
        const by = b.lat - p.lat;
        const dx = bx - ax;
        const dy = by - ay;
        const len2 = dx * dx + dy * dy;
        const f = len2 ? Math.max(0, Math.min(1, -(ax * dx + ay * dy)
                                                / len2)) : 0;
        const x = ax + f * dx;
        const y = ay + f * dy;
        const off = Math.sqrt(x * x + y * y) * RAD * R;
        if (off < best.off) {
            best = { dist: a.dist + f * (b.dist - a.dist), off };
        }
    }
    return best;
}

/* a lap repeated laps times, measured: the raced course */
export function unroll(lap, laps = 1) {
    const out = [];
    for (let k = 0; k < laps; k++) {
        for (let i = k ? 1 : 0; i < lap.length; i++) {
            out.push({ ...lap[i] });
        }
    }
    measure(out);
    return out;
}
