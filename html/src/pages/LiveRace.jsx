import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link } from 'react-router-dom';
import { api } from '../lib/api.js';
import { useAuth } from '../lib/auth.jsx';
import { dateTime, duration, km } from '../lib/format.js';
import { parseGeoJson } from '../lib/geo.js';
import { LiveClient } from '../lib/live.js';
import { isStale, loadFavourites, mergeRiders, profile, saveFavourites,
         sortRiders } from '../lib/standings.js';
import RaceMap from '../components/RaceMap.jsx';
import Leaderboard from '../components/Leaderboard.jsx';
import Elevation from '../components/Elevation.jsx';
import Splits from '../components/Splits.jsx';
import './LiveRace.css';

/*
 * A race as it happens: the map, the standings, the elevation profile
 * and the splits, fed by /live/{race} (a snapshot, then ticks).  The
 * connection's state is always said: a spectator must know whether the
 * numbers are live.  A scheduled race is watched the same way, with a
 * countdown to its start.
 *
 *   <LiveRace race={race} token={token} note="..." />
 */

export default function LiveRace({ race, token, note }) {
    const [live, setLive] = useState({ riders: new Map(), state: 'connecting',
                                       t: null, error: null, tries: 0,
                                       n: 0 });
    const [lap, setLap] = useState([]);
    const [courseError, setCourseError] = useState(null);
    const [follow, setFollow] = useState(null);
    const [favourites, setFavourites] = useState(() => loadFavourites(race.id));
    const [now, setNow] = useState(() => Date.now());
    const [updated, setUpdated] = useState(null);
    const client = useRef(null);
    const auth = useAuth();
    const user = auth && auth.user;
    /* the organizer's session opens the API, not /live: a link does */
    const mine = !!user && (race.owner === user.id || user.role === 'admin');
    const needsLink = race.public === false && !token && mine;

    /* the socket, for as long as the page is open */
    useEffect(() => {
        const c = new LiveClient(race.id, {
            token,
            onChange: (s) => {
                /* the client merges ticks into the same Map: n says a
                 * new picture to the memos below */
                setLive(old => ({ ...s, tries: c.tries, n: old.n + 1 }));
                if (s.state === 'live') {
                    setUpdated(Date.now());
                }
            },
        });
        client.current = c;
        c.start();
        return () => c.stop();
    }, [race.id, token]);

    /* fix ages and the countdown move every second */
    useEffect(() => {
        const id = setInterval(() => setNow(Date.now()), 1000);
        return () => clearInterval(id);
    }, []);

    /* the course: one lap as GeoJSON; an ad-hoc race has none */
    useEffect(() => {
        if (race.adhoc) {
            return undefined;
        }
        const ac = new AbortController();
        api('GET', '/races/' + encodeURIComponent(race.id) + '/course',
            { token, signal: ac.signal })
            .then(g => setLap(parseGeoJson(g)))
            .catch(e => {
                if (e.name !== 'AbortError' && e.status !== 404) {
                    setCourseError(e.message);
                }
            });
        return () => ac.abort();
    }, [race.id, race.adhoc, token]);

    const course = race.course || {};
    const checkpoints = Array.isArray(course.checkpoints)
        ? course.checkpoints : [];

    const rows = useMemo(() => sortRiders(mergeRiders(race.riders,
                                                      live.riders)),
    /* eslint-disable-next-line react-hooks/exhaustive-deps */
                         [race.riders, live.riders, live.n]);
    const favRows = rows.filter(r => favourites.has(r.rider));
    const prof = useMemo(() => profile(lap, course.laps || 1),
                         [lap, course.laps]);

    const markers = useMemo(() => rows.filter(r => r.lat != null)
        .map(r => ({ id: r.rider, bib: r.bib, name: r.name, lat: r.lat,
                     lon: r.lon, stale: isStale(r, now),
                     highlight: r.rider === follow })),
    /* staleness is re-read every few seconds, not on each tick of now */
    /* eslint-disable-next-line react-hooks/exhaustive-deps */
    [rows, follow, Math.floor(now / 5000)]);

    const onFollow = useCallback(id => setFollow(f => (f === id ? null : id)),
                                 []);
    const onFavourite = useCallback(id => {
        setFavourites(old => {
            const f = new Set(old);
            if (!f.delete(id)) {
                f.add(id);
            }
            saveFavourites(race.id, f);
            return f;
        });
    }, [race.id]);

    const followed = follow && rows.find(r => r.rider === follow);
    /* a page opened before the start sees the race start in the data */
    const waiting = race.status === 'scheduled'
        && !rows.some(r => r.status === 'racing');

    return (
        <main className="page live-race">
            <header className="live-head">
                <h1>
                    {race.name || race.id}
                    {race.status === 'live' &&
                        <span className="badge live">Live</span>}
                    {waiting && <span className="badge">Upcoming</span>}
                </h1>
                <Connection live={live} updated={updated} />
            </header>
            {note && <p className="note">{note}</p>}
            {waiting && <Countdown at={race.start_at} now={now} />}
            {courseError && <p className="error" role="alert">
                The course could not be loaded: {courseError}</p>}
            {live.error && <p className="error" role="alert">{live.error}</p>}
            {needsLink && (
                <p className="note link-hint">
                    This race is private: it is watched live with a
                    spectator link, even by its organizer.{' '}
                    <Link to={'/organize/' + encodeURIComponent(race.id)}>
                        Make a spectator link</Link> and open it.
                </p>
            )}

            <div className="live-grid">
                <div className="live-map">
                    <RaceMap course={lap} riders={markers} follow={follow}
                             onSelect={onFollow} height="100%"
                             label={'Map of ' + (race.name || race.id)} />
                </div>
                <section className="live-board" aria-labelledby="board-h">
                    <h2 id="board-h">
                        Standings <small>{rows.length ? rows.length
                                          + ' riders' : ''}</small>
                    </h2>
                    {followed && (
                        <p className="following" role="status">
                            Following {followed.name || followed.rider}
                            {followed.bib != null && ' (bib ' + followed.bib
                                                     + ')'}
                            {' '}
                            <button type="button" className="link"
                                    onClick={() => setFollow(null)}>
                                Stop
                            </button>
                        </p>
                    )}
                    {favRows.length > 0 && (
                        <div className="favourites">
                            <h3>Your riders</h3>
                            <Leaderboard rows={favRows} now={now}
                                         follow={follow}
                                         favourites={favourites}
                                         onFollow={onFollow}
                                         onFavourite={onFavourite}
                                         caption="Your riders" />
                        </div>
                    )}
                    {rows.length ? (
                        <Leaderboard rows={rows} now={now} follow={follow}
                                     favourites={favourites}
                                     onFollow={onFollow}
                                     onFavourite={onFavourite} />
                    ) : (
                        <p className="empty">No rider has sent a position
                            yet.</p>
                    )}
                </section>
            </div>

            {prof.length > 0 && (
                <section aria-labelledby="ele-h">
                    <h2 id="ele-h">Course profile
                        {course.length_m ? <small> {km(course.length_m)}
                            {course.laps > 1 ? `, ${course.laps} laps` : ''}
                        </small> : null}
                    </h2>
                    <Elevation profile={prof} checkpoints={checkpoints}
                               riders={rows} follow={follow} />
                </section>
            )}

            <Splits checkpoints={checkpoints} rows={rows} follow={follow} />
        </main>
    );
}

const STATES = {
    connecting: 'Connecting…',
    live: 'Live',
    closed: 'Closed',
};

/*
 * Only the state word is a live region: the time of the last update
 * changes with every tick and would be read out each time.
 */
export function Connection({ live, updated }) {
    let text = STATES[live.state] || live.state;
    if (live.state === 'reconnecting') {
        /* the first retry is quick; after that, say it plainly */
        text = live.tries > 1 ? 'Connection lost, retrying' : 'Reconnecting…';
    }
    const at = updated ? new Date(updated).toLocaleTimeString() : null;
    return (
        <p className={'connection ' + live.state}>
            <span className="dot" aria-hidden="true" />
            <span className="conn-state" role="status"
                  aria-live="polite">{text}</span>
            {at && <span className="conn-time"> · updated {at}</span>}
        </p>
    );
}

function Countdown({ at, now }) {
    if (!Number.isFinite(at)) {
        return <p className="countdown">Not started yet.</p>;
    }
    const left = (at - now) / 1000;
    return (
        <p className="countdown">
            Starts at {dateTime(at)}
            {left > 0 ? <> · in <strong>{duration(left)}</strong></>
                      : ' · any moment now'}
        </p>
    );
}
