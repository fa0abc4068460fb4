import { useCallback, useEffect, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { api } from '../lib/api.js';
import { dateTime, km } from '../lib/format.js';
import OrgGate from '../components/OrgGate.jsx';
import OrgRiders from '../components/OrgRiders.jsx';
import OrgShareLinks from '../components/OrgShareLinks.jsx';
import { fromLocalInput, toLocalInput } from '../components/orgForm.js';
import { StatusBadge } from './Organize.jsx';
import './ManageRace.css';

/*
 * One race for its organizer: what it is, its name and start while it
 * is scheduled, its riders and their join links, spectator links if it
 * is private, and the start and finish buttons, each only in the status
 * it moves from.  Every refusal of the API shows its message.
 */

function Summary({ race }) {
    const c = race.course || {};
    const cps = Array.isArray(c.checkpoints) ? c.checkpoints : [];
    return (
        <dl className="org-summary">
            <div><dt>Status</dt>
                <dd aria-live="polite" data-testid="race-status">
                    <StatusBadge status={race.status} /></dd></div>
            <div><dt>Start</dt><dd>{dateTime(race.start_at)}</dd></div>
            {race.started_at != null && (
                <div><dt>Started</dt>
                    <dd>{dateTime(race.started_at)}</dd></div>)}
            {race.finished_at != null && (
                <div><dt>Finished</dt>
                    <dd>{dateTime(race.finished_at)}</dd></div>)}
            {race.close_at != null && (
                <div><dt>Closes</dt><dd>{dateTime(race.close_at)}</dd></div>)}
            <div><dt>Watch</dt>
                <dd>{race.public === false ? 'private' : 'public'}</dd></div>
            <div><dt>Course</dt>
                <dd>{km(c.length_m, 2)}{c.laps > 1
                    ? ` (${c.laps} laps of ${km(c.lap_length_m, 2)})`
                    : ''}</dd></div>
            <div className="org-wide"><dt>Checkpoints</dt>
                <dd>{cps.length ? (
                    <ol className="org-cplist">
                        {cps.map((cp, i) => <li key={i}>{cp.name}
                            {' '}<small>{km(cp.dist_m, 2)}</small></li>)}
                    </ol>
                ) : 'none'}</dd></div>
        </dl>
    );
}

function EditRace({ race, setRace }) {
    const [v, setV] = useState({ name: race.name || '',
                                 start: toLocalInput(race.start_at) });
    const [error, setError] = useState(null);
    const [saved, setSaved] = useState(null);
    const [busy, setBusy] = useState(false);

    async function onSubmit(e) {
        e.preventDefault();
        setError(null);
        setSaved(null);
        const start = fromLocalInput(v.start);
        if (!v.name.trim() || start == null) {
            setError('The race needs a name and a start date and time.');
            return;
        }
        setBusy(true);
        try {
            const d = await api('PATCH', '/races/'
                                + encodeURIComponent(race.id),
                                { body: { name: v.name.trim(),
                                          start_at: start } });
            setRace(r => ({ ...r, ...d.race, riders: r.riders }));
            setSaved('Saved.');
        } catch (err) {
            setError(err.message);
        } finally {
            setBusy(false);
        }
    }

    return (
        <form className="org-edit" onSubmit={onSubmit} noValidate>
            <label>
                Race name
                <input value={v.name} maxLength={100}
                       onChange={e => setV({ ...v, name: e.target.value })} />
            </label>
            <label>
                Start time
                <input type="datetime-local" value={v.start}
                       onChange={e => setV({ ...v, start: e.target.value })} />
            </label>
            <button type="submit" disabled={busy}>Save</button>
            <span role="status">{saved}</span>
            {error && <p className="error org-wide" role="alert">{error}</p>}
        </form>
    );
}

function Controls({ race, reload }) {
    const [error, setError] = useState(null);
    const [busy, setBusy] = useState(false);

    async function move(what, question) {
        if (!window.confirm(question)) {
            return;
        }
        setBusy(true);
        setError(null);
        try {
            await api('POST', '/races/' + encodeURIComponent(race.id)
                              + '/' + what);
            await reload();
        } catch (e) {
            setError(e.message);
        } finally {
            setBusy(false);
        }
    }

    return (
        <div className="toolbar org-controls">
            {race.status === 'scheduled' && (
                <button type="button" disabled={busy}
                        onClick={() => move('start', 'Start "' + race.name
                            + '" now? Riders are timed from now.')}>
                    Start race</button>
            )}
            {race.status === 'live' && (
                <button type="button" className="danger" disabled={busy}
                        onClick={() => move('finish', 'Finish "'
                            + race.name + '" now? No fix counts after.')}>
                    Finish race</button>
            )}
            <Link to={'/races/' + encodeURIComponent(race.id)}
                  className="button secondary">
                {race.status === 'finished' ? 'Results' : 'Watch live'}
            </Link>
            {error && <p className="error org-wide" role="alert">{error}</p>}
        </div>
    );
}

function Manage() {
    const { id } = useParams();
    const [race, setRace] = useState(null);
    const [error, setError] = useState(null);

    const reload = useCallback(async signal => {
        try {
            const d = await api('GET', '/races/' + encodeURIComponent(id),
                                { signal });
            setRace(d.race);
            setError(null);
        } catch (e) {
            if (e.name !== 'AbortError') {
                setError(e.message);
            }
        }
    }, [id]);

    useEffect(() => {
        const ac = new AbortController();
        reload(ac.signal);
        return () => ac.abort();
    }, [reload]);

    if (!race) {
        return (
            <main className="page">
                <p><Link to="/organize">← Your races</Link></p>
                {error ? <p className="error" role="alert">{error}</p>
                       : <p className="loading" role="status">Loading…</p>}
            </main>
        );
    }

    return (
        <main className="page org-manage">
            <p><Link to="/organize">← Your races</Link></p>
            <h1>{race.name}</h1>
            {error && <p className="error" role="alert">{error}</p>}
            <Controls race={race} reload={() => reload()} />
            <div className="org-cols">
                <section aria-labelledby="org-race-h">
                    <h2 id="org-race-h">The race</h2>
                    <Summary race={race} />
                    {race.status === 'scheduled' && (
                        <>
                            <h3>Change the name or the start</h3>
                            <EditRace key={race.start_at + race.name}
                                      race={race} setRace={setRace} />
                        </>
                    )}
                    {race.public === false && <OrgShareLinks race={race} />}
                </section>
                <OrgRiders race={race} setRace={setRace} />
            </div>
        </main>
    );
}

export default function ManageRace() {
    const { id } = useParams();
    return (
        <OrgGate title="Manage race" next={'/organize/' + (id || '')}>
            <Manage />
        </OrgGate>
    );
}
