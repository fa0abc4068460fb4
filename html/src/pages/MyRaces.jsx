import { useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { api } from '../lib/api.js';
import { useAuth } from '../lib/auth.jsx';
import { dateTime, duration, km, kmh } from '../lib/format.js';
import './MyRaces.css';

/*
 * The races the logged-in user is entered in (GET /api/me/results:
 * an entry made with the user's id), latest first, each with the
 * user's row of its results once they are computed.
 */

const STATUS = { scheduled: 'Upcoming', live: 'Live', finished: 'Finished' };

function Result({ entry }) {
    const r = entry.result;
    const race = entry.race || {};
    if (!r) {
        return (
            <p className="meta">
                {race.status === 'finished' ? 'No results yet.'
                 : race.status === 'live' ? 'Racing now.'
                 : 'Not started.'}
            </p>
        );
    }
    return (
        <dl className="my-result">
            <div><dt>Rank</dt><dd>{r.rank ?? '–'}</dd></div>
            <div><dt>Time</dt><dd>{r.finish_s != null ? duration(r.finish_s)
                                   : r.status || '–'}</dd></div>
            <div><dt>Distance</dt><dd>{km(r.dist_m, 2)}</dd></div>
            <div><dt>Average</dt><dd>{kmh(r.avg_mps)}</dd></div>
        </dl>
    );
}

function List() {
    const [data, setData] = useState(null);
    const [error, setError] = useState(null);

    useEffect(() => {
        const ctl = new AbortController();
        api('GET', '/me/results', { signal: ctl.signal })
            .then(d => setData(Array.isArray(d && d.races) ? d.races : []))
            .catch(e => {
                if (e.name !== 'AbortError') {
                    setError(e.message);
                }
            });
        return () => ctl.abort();
    }, []);

    if (error) {
        return <p className="error" role="alert">{error}</p>;
    }
    if (!data) {
        return <p className="loading" role="status">Loading your races…</p>;
    }
    if (!data.length) {
        return (
            <p className="empty">You are not entered in any race yet. An
                organizer enters you with your account.</p>
        );
    }
    return (
        <ul className="races my-races">
            {data.filter(e => e && e.race && e.race.id).map(e => (
                <li key={e.race.id} data-race={e.race.id}>
                    <div>
                        <Link to={'/races/' + encodeURIComponent(e.race.id)}>
                            {e.race.name || e.race.id}
                        </Link>
                        <span className={'badge ' + (e.race.status || '')}>
                            {STATUS[e.race.status] || e.race.status}
                        </span>
                    </div>
                    <span className="meta">
                        {dateTime(e.race.started_at || e.race.start_at)}
                        {e.rider && (e.rider.bib ? ' · bib ' + e.rider.bib
                                     : '')}
                        {e.rider && e.rider.name ? ' · as ' + e.rider.name
                                                 : ''}
                    </span>
                    <Result entry={e} />
                </li>
            ))}
        </ul>
    );
}

export default function MyRaces() {
    const { user } = useAuth();

    return (
        <main className="page">
            <h1>My races</h1>
            {user === undefined ? (
                <p className="loading" role="status">Loading…</p>
            ) : user ? <List /> : (
                <p>
                    <Link to="/login?next=/me/races">Log in</Link> to see the
                    races you rode and your results.
                </p>
            )}
        </main>
    );
}
