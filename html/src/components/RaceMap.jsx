import { useEffect, useRef, useState } from 'react';
import { bounds, courseData, mapSettings, mapStyle,
         okPoint } from './mapSettings.js';
import './RaceMap.css';

/*
 * A race on a map: the course as a line, each rider a marker showing
 * the bib.  maplibre is imported when the first map mounts, so a page
 * is usable (its tables, its text) before the map's chunk arrives.
 *
 *   <RaceMap course={[{lat, lon}]}
 *            riders={[{id, bib, name, lat, lon, stale, highlight}]}
 *            follow={riderId | null} onSelect={id => ...}
 *            height="45vh" label="Map of the race" />
 *
 * Markers are HTML buttons, not map symbols: no glyphs are needed, so
 * the map works without any server of fonts or tiles, and each rider
 * is reachable with the keyboard ("Bib 12, Ann").  Follow keeps that
 * rider in the centre as it moves.
 */

export default function RaceMap({ course, riders, follow = null, onSelect,
                                  height = 400, label = 'Map of the race' }) {
    const box = useRef(null);
    const map = useRef(null);
    const lib = useRef(null);
    const markers = useRef(new Map());
    const select = useRef(onSelect);
    const fitted = useRef(false);
    const [ready, setReady] = useState(false);
    const [error, setError] = useState(null);
    const [tileNote, setTileNote] = useState(null);

    select.current = onSelect;

    /* the map, once */
    useEffect(() => {
        let gone = false;
        Promise.all([import('./maplibre.js'), mapSettings()])
            .then(([mod, s]) => {
                if (gone || !box.current) {
                    return;
                }
                const maplibregl = mod.default;
                const tiles = Array.isArray(s.tiles) && s.tiles.length;
                let m;
                try {
                    m = new maplibregl.Map({
                        container: box.current,
                        style: mapStyle(s, course),
                        center: [0, 0], zoom: 1,
                        /* tiles as images (img-src of the CSP), not
                         * fetched into blobs that connect-src refuses */
                        refreshExpiredTiles: false,
                        attributionControl: tiles ? { compact: true } : false,
                        /* on a phone one finger scrolls the page */
                        cooperativeGestures: matchMedia('(pointer: coarse)')
                            .matches,
                    });
                } catch (e) {
                    setError('The map cannot be drawn in this browser ('
                             + (e.message || e) + ').');
                    return;
                }
                m.addControl(new maplibregl.NavigationControl(
                    { showCompass: false }), 'top-right');
                let tileSaid = false;
                m.on('error', (e) => {
                    /* the operator's tiles failing (a CSP, a server
                     * away) is said once, as a note: the course and
                     * riders still draw */
                    if (e && e.sourceId === 'tiles') {
                        if (!tileSaid) {
                            tileSaid = true;
                            setTileNote('The map\'s tiles could not be '
                                        + 'loaded'
                                        + (e.error && e.error.message
                                           ? ' (' + e.error.message + ')'
                                           : '')
                                        + '; the course and riders are '
                                        + 'still shown.');
                        }
                        return;
                    }
                    setError(e && e.error ? e.error.message
                             : 'The map had an error.');
                });
                lib.current = maplibregl;
                map.current = m;
                fit(m, course, riders);
                fitted.current = !!bounds(course);
                m.once('load', () => !gone && setReady(true));
            })
            .catch((e) => {
                if (!gone) {
                    setError('The map could not be loaded ('
                             + (e.message || e) + ').');
                }
            });
        return () => {
            gone = true;
            for (const { marker } of markers.current.values()) {
                marker.remove();
            }
            markers.current.clear();
            if (map.current) {
                map.current.remove();
                map.current = null;
            }
        };
        /* eslint-disable-next-line react-hooks/exhaustive-deps */
    }, []);

    /* a new course: its line and its bounds */
    useEffect(() => {
        const m = map.current;
        if (!m || !ready) {
            return;
        }
        const src = m.getSource('course');
        if (src) {
            src.setData(courseData(course));
        }
        if (bounds(course)) {
            fit(m, course, riders);
            fitted.current = true;
        }
        /* eslint-disable-next-line react-hooks/exhaustive-deps */
    }, [course, ready]);

    /* the riders: one marker each, moved, not made again */
    useEffect(() => {
        const m = map.current;
        const maplibregl = lib.current;
        if (!m || !maplibregl) {
            return;
        }
        const seen = new Set();
        for (const r of riders || []) {
            if (!r || r.id == null || !okPoint(r)) {
                continue;
            }
            seen.add(r.id);
            let mk = markers.current.get(r.id);
            if (!mk) {
                const el = document.createElement('button');
                el.type = 'button';
                el.className = 'rider-marker';
                el.addEventListener('click', (ev) => {
                    ev.stopPropagation();
                    if (select.current) {
                        select.current(el.dataset.rider);
                    }
                });
                mk = { el, marker: new maplibregl.Marker({ element: el })
                                      .setLngLat([r.lon, r.lat]).addTo(m) };
                markers.current.set(r.id, mk);
            }
            const { el, marker } = mk;
            const bib = r.bib != null && r.bib !== '' ? String(r.bib) : null;
            /* a rider without a bib (an ad-hoc race) shows its name's
             * first letters, or its id's */
            const short = bib || String(r.name || r.id || '?').slice(0, 3);
            el.dataset.rider = r.id;
            el.textContent = short;
            el.setAttribute('aria-label', (bib ? 'Bib ' + bib : 'Rider')
                            + (r.name || r.id ? ', ' + (r.name || r.id) : '')
                            + (r.stale ? ', no recent position' : ''));
            el.setAttribute('aria-pressed', r.highlight ? 'true' : 'false');
            el.classList.toggle('stale', !!r.stale);
            el.classList.toggle('highlight', !!r.highlight);
            /* the followed rider on top of a bunch */
            el.style.zIndex = r.highlight ? '2' : r.stale ? '0' : '1';
            marker.setLngLat([r.lon, r.lat]);
        }
        for (const [id, { marker }] of markers.current) {
            if (!seen.has(id)) {
                marker.remove();
                markers.current.delete(id);
            }
        }
        /* a race without a course is framed by its riders, once */
        if (!fitted.current && seen.size) {
            fit(m, course, riders);
            fitted.current = true;
        }
    }, [riders, ready, course]);

    /* follow: the rider stays in the centre */
    useEffect(() => {
        const m = map.current;
        if (!m || follow == null) {
            return;
        }
        const r = (riders || []).find(x => x && x.id === follow);
        if (r && okPoint(r)) {
            m.easeTo({ center: [r.lon, r.lat], duration: 600 });
        }
    }, [follow, riders, ready]);

    const h = typeof height === 'number' ? height + 'px' : height;

    return (
        <div className="race-map" role="region" aria-label={label}
             style={{ height: h }}>
            <div className="race-map-canvas" ref={box} />
            {!ready && !error && !tileNote &&
                <p className="race-map-note" role="status">
                    Loading the map…</p>}
            {error &&
                <p className="race-map-note error" role="alert">{error}</p>}
            {!error && tileNote &&
                <p className="race-map-note" role="status">{tileNote}</p>}
        </div>
    );
}

function fit(m, course, riders) {
    const b = bounds(course) || bounds(riders);
    if (!b) {
        return;
    }
    const w = m.getContainer().clientWidth;
    const pad = Math.max(8, Math.min(40, Math.round(w / 12)));
    m.fitBounds(b, { padding: pad, maxZoom: 17, animate: false });
}
