import { lazy, useEffect, useMemo, useState } from 'react';
import { useParams } from 'react-router-dom';
import { api } from '../lib/api.js';
import { raceAccess } from '../lib/access.js';
import LiveRace from './LiveRace.jsx';

/* a finished race is another page, loaded only for one */
const PastRace = lazy(() => import('./PastRace.jsx'));

/*
 * /races/:id: the race document decides the page: live or scheduled is
 * watched live, finished is the results and replay.  A race the API
 * does not know may still be on /live (an ad-hoc race of race-sim), so
 * a 404 tries the live view, saying why the page is so bare.
 */
export default function RacePage() {
    const { id } = useParams();
    const token = useMemo(() => raceAccess(id), [id]);
    const [got, setGot] = useState({ id: null });

    useEffect(() => {
        const ac = new AbortController();
        setGot({ id: null });
        api('GET', '/races/' + encodeURIComponent(id),
            { token, signal: ac.signal })
            .then(d => setGot({ id, race: d && d.race }))
            .catch(e => {
                if (e.name === 'AbortError') {
                    return;
                }
                setGot(e.status === 404 ? { id, missing: true }
                                        : { id, error: e.message });
            });
        return () => ac.abort();
    }, [id, token]);

    if (got.id !== id) {
        return <p className="page loading" role="status">Loading…</p>;
    }
    if (got.error) {
        return (
            <main className="page">
                <h1>Race {id}</h1>
                <p className="error" role="alert">{got.error}</p>
            </main>
        );
    }
    if (got.missing || !got.race) {
        return <LiveRace race={{ id, name: id, status: 'live', adhoc: true }}
                         token={token}
                         note={'There is no race ' + id + ' in the race '
                               + 'list; its riders are shown if they ride '
                               + 'now.'} />;
    }
    if (got.race.status === 'finished') {
        return <PastRace race={got.race} token={token} />;
    }
    return <LiveRace race={got.race} token={token} />;
}
