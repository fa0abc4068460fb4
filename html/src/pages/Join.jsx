import { useCallback, useEffect, useRef, useState } from 'react';
import { Link } from 'react-router-dom';
import { api, tokenClaims } from '../lib/api.js';
import { dateTime } from '../lib/format.js';
import { getMeta, openFixStore, setMeta } from '../lib/fixstore.js';
import { RideClient } from '../lib/ride.js';
import './Join.css';

/*
 * The rider's page (/join#token=<rider token>, access.joinLink): the
 * phone's position goes to /ride while "Start tracking" is on.  The
 * token is kept in IndexedDB, so a reload or the app started from the
 * home screen still has it, and the fragment leaves the address bar.
 * Only this page registers the service worker (its scope is /join), so
 * it reloads in a dead zone and spectators' pages are not touched.
 */

const TOKEN = 'token';

/* the token taken off the address bar, for the page's second look
 * (React's strict mode runs effects twice) before IndexedDB has it */
let fromLink = null;

/* %-escapes decoded, or null when they are broken (a cut link) */
function decoded(s) {
    try {
        return decodeURIComponent(s);
    } catch {
        return null;
    }
}

/* the token of a join link, or of a token pasted alone */
export function tokenFrom(text) {
    const s = String(text || '').trim();
    const m = /[#&?]token=([^&\s]+)/.exec(s);
    const t = m ? decoded(m[1]) : s;
    return t && /^[\w-]+\.[\w-]+\.[\w-]+$/.test(t) ? t : null;
}

/* what a token says it is for, or why it cannot be used */
export function rideOf(token, now = Date.now()) {
    const c = tokenClaims(token);
    if (!c || typeof c.race !== 'string' || typeof c.sub !== 'string') {
        return { error: 'This is not a rider link.' };
    }
    if (c.aud !== undefined && c.aud !== 'ride') {
        return { error: 'This link is for watching a race, not for '
                        + 'riding it.' };
    }
    const exp = Number.isFinite(c.exp) ? c.exp * 1000 : null;
    return { race: c.race, rider: c.sub, exp,
             expired: exp !== null && exp < now };
}

function registerWorker() {
    if (!('serviceWorker' in navigator)) {
        return;
    }
    navigator.serviceWorker.register('/sw.js', { scope: '/join' })
        .then(() => navigator.serviceWorker.ready)
        .then(reg => {
            /* what this page loaded before the worker ran: the app
             * shell it needs to start offline */
            const urls = performance.getEntriesByType('resource')
                .map(e => new URL(e.name))
                .filter(u => u.origin === location.origin
                             && u.pathname.startsWith('/assets/'))
                .map(u => u.pathname);
            if (reg.active) {
                reg.active.postMessage({ type: 'cache', urls });
            }
        })
        .catch(() => {
            /* no offline reload; tracking works all the same */
        });
}

/* keeps the screen on while tracking; says when it cannot.  The browser
 * may let the lock go (page hidden, battery saver): a tap on the page
 * asks again */
export function useWakeLock(on) {
    const [wake, setWake] = useState(null);

    useEffect(() => {
        if (!on) {
            setWake(null);
            return undefined;
        }
        if (!navigator.wakeLock) {
            setWake('unsupported');
            return undefined;
        }
        let lock = null;
        let asking = false;
        let gone = false;
        const take = () => {
            if (document.visibilityState !== 'visible' || gone || asking
                || (lock && !lock.released)) {
                return;
            }
            asking = true;
            navigator.wakeLock.request('screen').then(l => {
                asking = false;
                if (gone) {
                    l.release();
                    return;
                }
                lock = l;
                setWake('on');
                l.addEventListener('release', () => {
                    if (!gone) {
                        setWake('off');
                    }
                });
            }, () => {
                asking = false;
                setWake('denied');
            });
        };
        take();
        /* the browser lets the lock go when the page is hidden */
        document.addEventListener('visibilitychange', take);
        document.addEventListener('pointerdown', take);
        return () => {
            gone = true;
            document.removeEventListener('visibilitychange', take);
            document.removeEventListener('pointerdown', take);
            if (lock) {
                lock.release().catch(() => {});
            }
        };
    }, [on]);

    return wake;
}

const STATES = {
    idle: 'Not connected',
    connecting: 'Connecting…',
    live: 'Connected',
    reconnecting: 'No connection: positions are kept and sent later',
    refused: 'Refused by the server',
};

const WAKE = {
    on: 'The screen stays on while tracking.',
    off: 'The screen may turn off: tap the page to keep it on.',
    denied: 'The browser did not let the screen stay on: keep this page '
            + 'open and the phone awake.',
    unsupported: 'This browser cannot keep the screen on: keep this page '
                 + 'open and the phone awake.',
};

function time(t) {
    return t == null ? '–' : new Date(t).toLocaleTimeString();
}

function Ride({ token, ride }) {
    const [race, setRace] = useState(null);
    const [raceError, setRaceError] = useState(null);
    const [s, setS] = useState(null);
    const [resume, setResume] = useState(0);
    const client = useRef(null);
    const wake = useWakeLock(Boolean(s && s.tracking));

    /* the race's name and start; the last answer is kept for a reload
     * without network */
    useEffect(() => {
        const ac = new AbortController();
        const key = 'race:' + ride.race;
        getMeta(key).then(r => {
            if (r && !ac.signal.aborted) {
                setRace(cur => cur || r);
            }
        });
        const path = '/races/' + encodeURIComponent(ride.race);
        /* a public race needs no token; a private one may take the
         * rider's */
        api('GET', path, { signal: ac.signal })
            .catch(e => {
                if (e.status === 401 || e.status === 403
                    || e.status === 404) {
                    return api('GET', path, { token, signal: ac.signal });
                }
                throw e;
            })
            .then(d => {
                const r = d && d.race ? d.race : {};
                const me = (Array.isArray(r.riders) ? r.riders : [])
                    .find(x => x && x.id === ride.rider) || {};
                const info = { name: r.name || null, status: r.status || null,
                               start_at: r.start_at ?? null,
                               started_at: r.started_at ?? null,
                               rider: me.name || null, bib: me.bib ?? null };
                setRace(info);
                setRaceError(null);
                setMeta(key, info);
            })
            .catch(e => {
                if (e.name !== 'AbortError') {
                    setRaceError(e.message);
                }
            });
        return () => ac.abort();
    }, [token, ride.race, ride.rider]);

    /* the client and its buffer; fixes left from before are offered */
    useEffect(() => {
        let c = null;
        let gone = false;
        openFixStore(ride.race, ride.rider).then(async store => {
            if (gone) {
                return;
            }
            c = new RideClient({ token, store, onChange: setS });
            client.current = c;
            const n = await store.count().catch(() => 0);
            setResume(n);
            setS(cur => cur || { ...c.s, pending: n });
        });
        return () => {
            gone = true;
            if (c) {
                c.close();
            }
            client.current = null;
        };
    }, [token, ride.race, ride.rider]);

    const start = useCallback(() => {
        setResume(0);
        client.current && client.current.start();
    }, []);
    const stop = useCallback(() => client.current && client.current.stop(),
                             []);
    const sendNow = useCallback(() => {
        setResume(0);
        client.current && client.current.send();
    }, []);

    const tracking = Boolean(s && s.tracking);
    const st = s ? s.state : 'idle';

    return (
        <>
            <section className="ride-race" aria-label="Your race">
                <h1>{race && race.name ? race.name : 'Race ' + ride.race}</h1>
                <p>
                    Riding as <strong>{race && race.rider
                                       ? race.rider : ride.rider}</strong>
                    {race && race.bib != null && race.bib !== ''
                        && <> (bib <strong>{race.bib}</strong>)</>}
                    {race && race.status
                        && <span className={'badge'
                                            + (race.status === 'live'
                                               ? ' live' : '')}>
                               {race.status}
                           </span>}
                </p>
                {race && (race.started_at ?? race.start_at) != null
                    && <p className="meta">
                           {race.started_at != null ? 'Started' : 'Start'}:
                           {' '}{dateTime(race.started_at ?? race.start_at)}
                       </p>}
                {raceError && !race
                    && <p className="meta">Race details unavailable:
                           {' '}{raceError}</p>}
                {ride.expired
                    && <p className="error">This link expired on{' '}
                           {dateTime(ride.exp)}: ask your organizer for a
                           new one.</p>}
            </section>

            {resume > 0 && !tracking && (
                <div className="ride-resume" role="region"
                     aria-label="Positions not sent">
                    <p>{resume === 1 ? '1 position' : resume + ' positions'}
                       {' '}from before {resume === 1 ? 'was' : 'were'} not
                       sent yet.</p>
                    <button type="button" className="secondary"
                            onClick={sendNow}>Send them now</button>
                </div>
            )}

            {tracking ? (
                <button type="button" className="ride-go danger"
                        onClick={stop}>Stop tracking</button>
            ) : (
                <button type="button" className="ride-go"
                        disabled={!s} onClick={start}>Start tracking</button>
            )}

            <div className={'ride-state ' + st} role="status"
                 aria-live="polite" data-testid="state">
                {STATES[st] || st}
                {s && s.refused && <> — {s.refused}</>}
            </div>
            {st === 'refused' && (
                <button type="button" className="secondary"
                        onClick={() => client.current
                                       && client.current.retry()}>
                    Try again
                </button>
            )}

            <dl className="ride-stats">
                <div>
                    <dt>Waiting to send</dt>
                    <dd data-testid="pending">{s ? s.pending : '–'}</dd>
                </div>
                <div>
                    <dt>Last received by the server</dt>
                    <dd>
                        {s && s.lastAck
                            ? <>{time(s.lastAck.at)}{' '}
                                <small>(fix <span data-testid="ack-seq">
                                    {s.lastAck.seq}</span>)</small></>
                            : '–'}
                    </dd>
                </div>
                <div>
                    <dt>Last position</dt>
                    <dd>
                        {s && s.lastFix
                            ? <>{time(s.lastFix.t)}{' '}
                                <small>(fix <span data-testid="fix-seq">
                                    {s.lastFix.seq}</span>)</small></>
                            : '–'}
                    </dd>
                </div>
                <div>
                    <dt>GPS accuracy</dt>
                    <dd>{s && s.accuracy != null
                         ? '± ' + Math.round(s.accuracy) + ' m' : '–'}</dd>
                </div>
            </dl>

            {wake && <p className={'ride-wake ' + wake}>{WAKE[wake]}</p>}
            {s && s.error && <p className="error" role="alert">{s.error}</p>}
        </>
    );
}

function Paste({ onToken }) {
    const [text, setText] = useState('');
    const [error, setError] = useState(null);

    return (
        <form className="stack" onSubmit={e => {
            e.preventDefault();
            const t = tokenFrom(text);
            if (!t) {
                setError('That is not a join link: it ends with '
                         + '#token=…');
                return;
            }
            setError(null);
            onToken(t);
        }}>
            <label>
                Join link
                {/* text, not url: a token pasted alone is not a URL,
                  * and the browser would refuse the form */}
                <input type="text" inputMode="url" autoComplete="off"
                       autoCapitalize="off" spellCheck="false"
                       value={text} onChange={e => setText(e.target.value)}
                       placeholder="https://…/join#token=…" />
            </label>
            {error && <p className="error" role="alert">{error}</p>}
            <button type="submit">Join</button>
        </form>
    );
}

export default function Join() {
    const [token, setToken] = useState(undefined);
    const [other, setOther] = useState(false);
    const [damaged, setDamaged] = useState(false);

    useEffect(() => {
        registerWorker();
        const m = /[#&]token=([^&]+)/.exec(location.hash);
        if (m) {
            /* the token stays out of the history and of shared URLs */
            history.replaceState(history.state, '',
                                 location.pathname + location.search);
            const t = decoded(m[1]);
            if (t === null) {
                setDamaged(true);
            } else {
                fromLink = t;
                setMeta(TOKEN, fromLink);
            }
        }
        if (fromLink) {
            setToken(fromLink);
            return;
        }
        getMeta(TOKEN).then(t => setToken(t || null),
                            () => setToken(null));
    }, []);

    const use = useCallback(t => {
        fromLink = t;
        setDamaged(false);
        setMeta(TOKEN, t);
        setOther(false);
        setToken(t);
    }, []);

    if (token === undefined) {
        return <main className="page narrow ride"><p className="loading"
                   role="status">Loading…</p></main>;
    }

    const ride = token ? rideOf(token) : null;

    return (
        <main className="page narrow ride">
            {ride && !ride.error ? (
                <Ride key={token} token={token} ride={ride} />
            ) : (
                <>
                    <h1>Ride a race</h1>
                    {damaged && !ride
                        && <p className="error" role="alert">This link is
                               damaged: open it again from the organizer's
                               message, or paste it below.</p>}
                    {ride && ride.error
                        && <p className="error" role="alert">{ride.error}</p>}
                    <p>Your organizer sends each rider a join link. Open it
                       on this phone: this page then sends your position
                       to the race while you ride, and keeps it through
                       dead zones.</p>
                    <p>Or paste the link here:</p>
                    <Paste onToken={use} />
                    <p className="meta">Only watching? <Link to="/">See the
                       races</Link>.</p>
                </>
            )}
            {ride && !ride.error && (
                <details className="ride-other" open={other}
                         onToggle={e => setOther(e.currentTarget.open)}>
                    <summary>Use another join link</summary>
                    <Paste onToken={use} />
                </details>
            )}
        </main>
    );
}
