/* TEMPORARY (web-past): renders PastRace for a finished race until the
 * real RacePage (branch web-live) is merged; take theirs. */
import { lazy, useEffect, useState } from 'react';
import { useParams } from 'react-router-dom';
import { api } from '../lib/api.js';
import { raceAccess } from '../lib/access.js';

const PastRace = lazy(() => import('./PastRace.jsx'));

export default function RacePage() {
    const { id } = useParams();
    const [token] = useState(() => raceAccess(id));
    const [race, setRace] = useState(null);
    const [error, setError] = useState(null);

    useEffect(() => {
        api('GET', '/races/' + encodeURIComponent(id), { token })
            .then(d => setRace(d.race), e => setError(e.message));
    }, [id, token]);

    if (race && race.status === 'finished') {
        return <PastRace race={race} token={token} />;
    }
    return <main className="page"><p>{error || 'Loading…'}</p></main>;
}
