import { useEffect, useState } from 'react';
import { Link } from 'react-router-dom';
import { api } from '../lib/api.js';
import { dateTime, km } from '../lib/format.js';
import OrgGate from '../components/OrgGate.jsx';
import './Organize.css';

/*
 * An organizer's races (GET /api/races?mine=1, any status, latest
 * first): status, start, riders, and links to manage and to watch each.
 */

export const STATUS = {
    scheduled: 'Scheduled',
    live: 'Live',
    finished: 'Finished',
};

export function StatusBadge({ status }) {
    return <span className={'badge org-status-' + status
                            + (status === 'live' ? ' live' : '')}>
        {STATUS[status] || status || 'unknown'}</span>;
}

/* a list answer has the count; a full race has the array */
export function ridersCount(r) {
    if (Array.isArray(r.riders)) {
        return r.riders.length;
    }
    return typeof r.riders === 'number' ? r.riders : 0;
}

function MyRaceList() {
    const [races, setRaces] = useState(null);
    const [error, setError] = useState(null);

    useEffect(() => {
        const ac = new AbortController();
        api('GET', '/races?mine=1', { signal: ac.signal })
            .then(d => setRaces(Array.isArray(d && d.races) ? d.races : []))
            .catch(e => {
                if (e.name !== 'AbortError') {
                    setError(e.message);
                }
            });
        return () => ac.abort();
    }, []);

    return (
        <main className="page">
            <div className="org-head">
                <h1>Your races</h1>
                <Link to="/organize/new" className="button">New race</Link>
            </div>
            {error && <p className="error" role="alert">{error}</p>}
            {!races && !error && <p className="loading" role="status">
                Loading your races…</p>}
            {races && !races.length && (
                <p className="empty">No race yet. Make the first one with
                    “New race”: a name, a start time and a GPX file.</p>
            )}
            {races && races.length > 0 && (
                <div className="scroll" tabIndex={0} role="region"
                     aria-label="Your races">
                    <table className="data org-races">
                        <thead>
                            <tr>
                                <th className="name" scope="col">Race</th>
                                <th scope="col">Status</th>
                                <th scope="col">Start</th>
                                <th scope="col">Course</th>
                                <th scope="col">Riders</th>
                                <th scope="col"><span className="sr-only">
                                    Links</span></th>
                            </tr>
                        </thead>
                        <tbody>
                            {races.map(r => (
                                <tr key={r.id}>
                                    <th className="name" scope="row">
                                        <Link to={'/organize/' + r.id}>
                                            {r.name || r.id}</Link>
                                        {r.public === false && (
                                            <span className="badge">
                                                private</span>)}
                                    </th>
                                    <td><StatusBadge status={r.status} /></td>
                                    <td>{dateTime(r.started_at
                                                  || r.start_at)}</td>
                                    <td>{km(r.course && r.course.length_m)}
                                    </td>
                                    <td>{ridersCount(r)}</td>
                                    <td className="org-actions">
                                        <Link to={'/organize/' + r.id}>
                                            Manage</Link>
                                        <Link to={'/races/' + r.id}>
                                            Watch</Link>
                                    </td>
                                </tr>
                            ))}
                        </tbody>
                    </table>
                </div>
            )}
        </main>
    );
}

export default function Organize() {
    return (
        <OrgGate title="Organize" next="/organize">
            <MyRaceList />
        </OrgGate>
    );
}
