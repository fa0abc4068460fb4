import { useState } from 'react';
import { api } from '../lib/api.js';
import { joinLink } from '../lib/access.js';
import OrgLink from './OrgLink.jsx';

/*
 * A race's riders: enter one (the answer's token becomes its join link
 * and QR code, shown this once: the server keeps no copy), rename or
 * renumber, mark dnf or dsq, remove.  fresh lists the join links made
 * on this page; they last until the page is left.
 */

const RIDER_STATUS = {
    entered: 'entered',
    racing: 'racing',
    finished: 'finished',
    dnf: 'DNF',
    dsq: 'DSQ',
};

function RiderRow({ race, rider, onChange, onRemove, setError }) {
    const [edit, setEdit] = useState(null);
    const [busy, setBusy] = useState(false);
    const base = '/races/' + encodeURIComponent(race.id) + '/riders/'
                 + encodeURIComponent(rider.id);
    const who = rider.name + ' (' + rider.bib + ')';

    async function run(fn) {
        setBusy(true);
        setError(null);
        try {
            await fn();
        } catch (e) {
            setError(who + ': ' + e.message);
        } finally {
            setBusy(false);
        }
    }

    const patch = body => run(async () => {
        const d = await api('PATCH', base, { body });
        onChange(d.rider);
        setEdit(null);
    });

    if (edit) {
        return (
            <tr>
                <td>
                    <input aria-label={'Bib of ' + rider.name} size="5"
                           value={edit.bib} maxLength={16}
                           onChange={e => setEdit({ ...edit,
                                                    bib: e.target.value })} />
                </td>
                <td className="name">
                    <input aria-label={'Name of ' + rider.name}
                           value={edit.name} maxLength={100}
                           onChange={e => setEdit({ ...edit,
                                                    name: e.target.value })} />
                </td>
                <td>{RIDER_STATUS[rider.status] || rider.status}</td>
                <td className="org-actions"><div>
                    <button type="button" disabled={busy}
                            onClick={() => patch({ name: edit.name.trim(),
                                                   bib: edit.bib.trim() })}>
                        Save</button>
                    <button type="button" className="secondary"
                            onClick={() => setEdit(null)}>Cancel</button>
                </div></td>
            </tr>
        );
    }

    const out = rider.status === 'dnf' || rider.status === 'dsq';

    return (
        <tr>
            <td>{rider.bib}</td>
            <th className="name" scope="row">{rider.name}</th>
            <td>{RIDER_STATUS[rider.status] || rider.status || '–'}</td>
            <td className="org-actions"><div>
                <button type="button" className="secondary" disabled={busy}
                        aria-label={'Edit ' + who}
                        onClick={() => setEdit({ name: rider.name || '',
                                                 bib: rider.bib || '' })}>
                    Edit</button>
                {out ? (
                    <button type="button" className="secondary"
                            disabled={busy}
                            aria-label={'Reinstate ' + who}
                            onClick={() => patch({ status: 'entered' })}>
                        Reinstate</button>
                ) : (
                    <>
                        <button type="button" className="secondary"
                                disabled={busy}
                                aria-label={'Mark ' + who + ' DNF'}
                                onClick={() => patch({ status: 'dnf' })}>
                            DNF</button>
                        <button type="button" className="secondary"
                                disabled={busy}
                                aria-label={'Disqualify ' + who}
                                onClick={() => patch({ status: 'dsq' })}>
                            DSQ</button>
                    </>
                )}
                <button type="button" className="danger" disabled={busy}
                        aria-label={'Remove ' + who}
                        onClick={() => {
                            if (window.confirm('Remove ' + who + '? Their '
                                               + 'join link stops working.')) {
                                run(async () => {
                                    await api('DELETE', base);
                                    onRemove(rider.id);
                                });
                            }
                        }}>
                    Remove</button>
            </div></td>
        </tr>
    );
}

function AddRider({ race, onAdded }) {
    const [v, setV] = useState({ name: '', bib: '', user: '' });
    const [error, setError] = useState(null);
    const [busy, setBusy] = useState(false);

    async function onSubmit(e) {
        e.preventDefault();
        setError(null);
        const body = { name: v.name.trim(), bib: v.bib.trim() };
        if (!body.name || !body.bib) {
            setError('A rider needs a name and a bib.');
            return;
        }
        if (v.user.trim()) {
            body.user_id = v.user.trim();
        }
        setBusy(true);
        try {
            const d = await api('POST', '/races/'
                                + encodeURIComponent(race.id) + '/riders',
                                { body });
            onAdded(d);
            setV({ name: '', bib: '', user: '' });
        } catch (err) {
            setError(err.message + (err.code ? ' (' + err.code + ')' : ''));
        } finally {
            setBusy(false);
        }
    }

    return (
        <form className="org-add" onSubmit={onSubmit} noValidate>
            <label>
                Rider name
                <input value={v.name} maxLength={100} required
                       onChange={e => setV({ ...v, name: e.target.value })} />
            </label>
            <label>
                Bib
                <input value={v.bib} maxLength={16} size="6" required
                       onChange={e => setV({ ...v, bib: e.target.value })} />
            </label>
            <label>
                User id (optional)
                <input value={v.user} maxLength={64}
                       onChange={e => setV({ ...v, user: e.target.value })} />
            </label>
            <button type="submit" disabled={busy}>Add rider</button>
            {error && <p className="error org-wide" role="alert">{error}</p>}
        </form>
    );
}

export default function OrgRiders({ race, setRace }) {
    const [fresh, setFresh] = useState([]);
    const [error, setError] = useState(null);
    const riders = Array.isArray(race.riders) ? race.riders : [];
    const closed = race.status === 'finished';

    const setRiders = fn => setRace(r => ({ ...r, riders: fn(
        Array.isArray(r.riders) ? r.riders : []) }));

    return (
        <section aria-labelledby="org-riders-h">
            <h2 id="org-riders-h">Riders ({riders.length})</h2>
            {!closed && <AddRider race={race} onAdded={d => {
                setRiders(list => [...list, d.rider]);
                setFresh(f => [{ rider: d.rider, url: joinLink(d.token) },
                               ...f]);
            }} />}
            {fresh.length > 0 && (
                <div className="org-fresh" aria-live="polite">
                    <h3>Join links made now</h3>
                    <p className="org-note">Each rider opens their link on
                        the phone that rides (or scans its QR code). A
                        link is shown <strong>only here, until you leave
                        this page</strong>: the server keeps no copy. A
                        lost link: remove the rider and enter them
                        again.</p>
                    {fresh.map(f => (
                        <OrgLink key={f.rider.id} url={f.url}
                                 label={'Join link for ' + f.rider.name
                                        + ' (' + f.rider.bib + ')'} />
                    ))}
                </div>
            )}
            {error && <p className="error" role="alert">{error}</p>}
            {riders.length ? (
                <div className="scroll" tabIndex={0} role="region"
                     aria-label="Riders">
                    <table className="data org-riders">
                        <thead>
                            <tr>
                                <th scope="col">Bib</th>
                                <th scope="col" className="name">Name</th>
                                <th scope="col">Status</th>
                                <th scope="col"><span className="sr-only">
                                    Actions</span></th>
                            </tr>
                        </thead>
                        <tbody>
                            {riders.map(r => (
                                <RiderRow key={r.id} race={race} rider={r}
                                          setError={setError}
                                          onChange={n => setRiders(list =>
                                              list.map(x => x.id === n.id
                                                  ? { ...x, ...n } : x))}
                                          onRemove={id => {
                                              setRiders(list => list.filter(
                                                  x => x.id !== id));
                                              setFresh(f => f.filter(
                                                  x => x.rider.id !== id));
                                          }} />
                            ))}
                        </tbody>
                    </table>
                </div>
            ) : <p className="empty">No rider entered yet.</p>}
        </section>
    );
}
