import { useState } from 'react';
import { api } from '../lib/api.js';
import { shareLink } from '../lib/access.js';
import { dateTime } from '../lib/format.js';
import OrgLink from './OrgLink.jsx';

/*
 * Spectator links of a private race: POST links makes one (a token for
 * /live and the race's pages, for ttl_s), DELETE links/{jti} revokes
 * it.  The API lists no links (it keeps their ids, not their tokens),
 * so the ones made on this page are listed until it is left; a link
 * from before is revoked by whoever still has its id.
 */

const TTL = [
    { s: 86400, label: '1 day' },
    { s: 7 * 86400, label: '7 days' },
    { s: 30 * 86400, label: '30 days' },
];

export default function OrgShareLinks({ race }) {
    const [ttl, setTtl] = useState(7 * 86400);
    const [links, setLinks] = useState([]);
    const [error, setError] = useState(null);
    const [busy, setBusy] = useState(false);
    const base = '/races/' + encodeURIComponent(race.id) + '/links';

    async function make() {
        setBusy(true);
        setError(null);
        try {
            const d = await api('POST', base, { body: { ttl_s: ttl } });
            setLinks(l => [{ ...d.link, url: shareLink(race.id, d.token) },
                           ...l]);
        } catch (e) {
            setError(e.message);
        } finally {
            setBusy(false);
        }
    }

    async function revoke(jti) {
        if (!window.confirm('Revoke this link? Whoever watches with it is '
                            + 'cut off.')) {
            return;
        }
        setError(null);
        try {
            await api('DELETE', base + '/' + encodeURIComponent(jti));
            setLinks(l => l.filter(x => x.jti !== jti));
        } catch (e) {
            setError(e.message);
        }
    }

    return (
        <section aria-labelledby="org-links-h">
            <h2 id="org-links-h">Spectator links</h2>
            <p className="org-note">A private race is watched with a link
                of its own. Share it with whoever may watch; like a join
                link it is shown only until you leave this page.</p>
            <div className="toolbar">
                <label className="org-inline">
                    Valid for
                    <select value={ttl}
                            onChange={e => setTtl(Number(e.target.value))}>
                        {TTL.map(t => <option key={t.s} value={t.s}>
                            {t.label}</option>)}
                    </select>
                </label>
                <button type="button" onClick={make} disabled={busy}>
                    Create spectator link</button>
            </div>
            {error && <p className="error" role="alert">{error}</p>}
            <div aria-live="polite">
                {links.map((l, i) => (
                    <OrgLink key={l.jti} url={l.url}
                             label={'Spectator link ' + (links.length - i)
                                    + ', valid until '
                                    + dateTime(l.exp * 1000)}>
                        <button type="button" className="danger"
                                onClick={() => revoke(l.jti)}>
                            Revoke</button>
                    </OrgLink>
                ))}
            </div>
        </section>
    );
}
