/*
 * The map's tiles are an operator's choice: an optional /race-web.json
 * in the web root, {"tiles": ["https://.../{z}/{x}/{y}.png"],
 * "attribution": "..."}.  Without it the map is a plain background with
 * the course, which works offline.  Read once per page load.
 */

let settings = null;

export function mapSettings() {
    if (!settings) {
        settings = fetch('/race-web.json', { credentials: 'same-origin' })
            .then(async (res) => {
                /* the app's fallback answers index.html for a missing file */
                if (!res.ok || !/json/.test(res.headers.get('content-type')
                                            || '')) {
                    return {};
                }
                const s = await res.json();
                return s && typeof s === 'object' ? s : {};
            })
            .catch(() => ({}));
    }
    return settings;
}

/* the style: the background, the operator's tiles if any, the course */
export function mapStyle(s, course) {
    const tiles = Array.isArray(s.tiles)
        ? s.tiles.filter(u => typeof u === 'string') : [];
    const style = {
        version: 8,
        sources: {
            course: { type: 'geojson', data: courseData(course) },
        },
        layers: [
            { id: 'bg', type: 'background',
              paint: { 'background-color': '#e8ede6' } },
        ],
    };
    if (tiles.length) {
        style.sources.tiles = {
            type: 'raster', tiles, tileSize: Number(s.tileSize) || 256,
            maxzoom: Number(s.maxzoom) || 19,
            attribution: typeof s.attribution === 'string'
                ? s.attribution : '',
        };
        style.layers.push({ id: 'tiles', type: 'raster', source: 'tiles' });
    }
    style.layers.push(
        { id: 'course-casing', type: 'line', source: 'course',
          layout: { 'line-join': 'round', 'line-cap': 'round' },
          paint: { 'line-color': '#ffffff', 'line-width': 8 } },
        { id: 'course', type: 'line', source: 'course',
          layout: { 'line-join': 'round', 'line-cap': 'round' },
          paint: { 'line-color': '#0b5cad', 'line-width': 4 } });
    return style;
}

export function courseData(course) {
    const pts = (course || []).filter(okPoint);
    return {
        type: 'Feature', properties: {},
        geometry: { type: 'LineString',
                    coordinates: pts.map(p => [p.lon, p.lat]) },
    };
}

export function okPoint(p) {
    return p && Number.isFinite(p.lat) && Number.isFinite(p.lon)
           && Math.abs(p.lat) <= 90 && Math.abs(p.lon) <= 180;
}

/* [[w, s], [e, n]] of the points, or null */
export function bounds(points) {
    let b = null;
    for (const p of points || []) {
        if (!okPoint(p)) {
            continue;
        }
        if (!b) {
            b = [[p.lon, p.lat], [p.lon, p.lat]];
        } else {
            b = [[Math.min(b[0][0], p.lon), Math.min(b[0][1], p.lat)],
                 [Math.max(b[1][0], p.lon), Math.max(b[1][1], p.lat)]];
        }
    }
    return b;
}
