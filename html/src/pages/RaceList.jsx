import { useEffect, useMemo, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { api } from '../lib/api.js';
import { dateTime, km } from '../lib/format.js';

/*
 * Live, upcoming and past races (GET /api/races?status=...), a tab
 * each, searchable by name.  The search filters what is loaded and
 * "More" loads the next hundred.
 */

const TABS = [
    { status: 'live', label: 'Live' },
    { status: 'scheduled', label: 'Upcoming' },
    { status: 'finished', label: 'Past' },
];

const PAGE = 100;

export default function RaceList() {
    const [params, setParams] = useSearchParams();
    const status = TABS.some(t => t.status === params.get('status'))
        ? params.get('status') : 'live';
    const query = params.get('q') || '';
    const [data, setData] = useState({ races: [], total: 0, status: null });
    const [error, setError] = useState(null);
    const [loading, setLoading] = useState(true);

    useEffect(() => {
        const ac = new AbortController();
        setLoading(true);
        setError(null);
        api('GET', `/races?status=${status}&limit=${PAGE}&offset=0`,
            { signal: ac.signal })
            .then(d => {
                setData({ races: d.races, total: d.total, status });
                setLoading(false);
            })
            .catch(e => {
                if (e.name !== 'AbortError') {
                    setError(e.message);
                    setLoading(false);
                }
            });
        return () => ac.abort();
    }, [status]);

    /* the next page of the list shown; an answer for a tab left
     * meanwhile is dropped */
    async function more() {
        const asked = status;
        try {
            const d = await api('GET', `/races?status=${asked}&limit=${PAGE}`
                                       + `&offset=${data.races.length}`);
            setData(old => old.status !== asked ? old
                : { races: old.races.concat(d.races), total: d.total,
                    status: asked });
        } catch (e) {
            setError(e.message);
        }
    }

    const shown = useMemo(() => {
        const q = query.trim().toLowerCase();
        return q ? data.races.filter(r => (r.name || '').toLowerCase()
                                              .includes(q))
                 : data.races;
    }, [data, query]);

    function set(k, v) {
        const p = new URLSearchParams(params);
        if (v) {
            p.set(k, v);
        } else {
            p.delete(k);
        }
        setParams(p, { replace: k === 'q' });
    }

    return (
        <main className="page">
            <h1>Races</h1>
            <div className="toolbar">
                <div role="group" aria-label="Which races" className="tabs">
                    {TABS.map(t => (
                        <button key={t.status} type="button"
                                aria-pressed={t.status === status}
                                onClick={() => set('status', t.status)}>
                            {t.label}
                        </button>
                    ))}
                </div>
                <label className="search">
                    <span className="sr-only">Search races</span>
                    <input type="search" placeholder="Search races"
                           value={query}
                           onChange={e => set('q', e.target.value)} />
                </label>
            </div>
            {error && <p className="error" role="alert">{error}</p>}
            {loading ? <p role="status">Loading…</p> : shown.length === 0 ? (
                <p className="empty">
                    {query ? 'No race matches “' + query + '”.'
                           : status === 'live' ? 'No race is live now.'
                           : status === 'scheduled' ? 'No race is coming up.'
                           : 'No race has finished yet.'}
                </p>
            ) : (
                <ul className="races" aria-label={status + ' races'}>
                    {shown.map(r => (
                        <li key={r.id}>
                            <Link to={'/races/' + encodeURIComponent(r.id)}>
                                <strong>{r.name}</strong>
                                {r.status === 'live' &&
                                    <span className="badge live">Live</span>}
                            </Link>
                            <span className="meta">
                                {dateTime(r.started_at || r.start_at)}
                                {r.course && ' · ' + km(r.course.length_m)}
                                {' · ' + (r.riders ?? 0) + ' riders'}
                                {!r.public && ' · private'}
                            </span>
                        </li>
                    ))}
                </ul>
            )}
            {!loading && data.races.length < data.total &&
                <button type="button" onClick={more}>More</button>}
        </main>
    );
}
