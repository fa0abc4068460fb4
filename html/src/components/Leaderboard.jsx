import { age, clock, gap, km, kmh } from '../lib/format.js';
import { fixAge, isStale, staleText, statusText } from '../lib/standings.js';

/*
 * The standings, one row a rider in the order given.  A row (click, or
 * Enter on it or on the name's button) follows its rider; the star
 * keeps it among the favourites.  A stale rider's row is faded and says
 * how old its position is, so old data never passes for live.
 */
export default function Leaderboard({ rows, now, follow, favourites,
                                      onFollow, onFavourite,
                                      caption = 'Standings' }) {
    return (
        <div className="scroll leaderboard" tabIndex={0} role="region"
             aria-label={caption}>
            <table className="data">
                <caption className="sr-only">{caption}</caption>
                <thead>
                    <tr>
                        <th scope="col"><span className="sr-only">
                            Favourite</span></th>
                        <th scope="col">#</th>
                        <th scope="col">Bib</th>
                        <th scope="col" className="name">Name</th>
                        <th scope="col">Distance</th>
                        <th scope="col">Speed</th>
                        <th scope="col">Gap</th>
                        <th scope="col">To go</th>
                        <th scope="col">ETA</th>
                        <th scope="col" className="name">Status</th>
                        <th scope="col">Last fix</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.map(r => (
                        <Row key={r.rider} r={r} now={now}
                             follow={follow === r.rider}
                             fav={favourites.has(r.rider)}
                             onFollow={onFollow} onFavourite={onFavourite} />
                    ))}
                </tbody>
            </table>
        </div>
    );
}

function Row({ r, now, follow, fav, onFollow, onFavourite }) {
    const stale = isStale(r, now);
    const a = fixAge(r, now);
    const who = (r.name || r.rider) + (r.bib != null ? ', bib ' + r.bib : '');
    const cls = [stale && 'stale', follow && 'follow', fav && 'fav']
        .filter(Boolean).join(' ');

    return (
        <tr className={cls} data-rider={r.rider} data-bib={r.bib ?? ''}
            onClick={() => onFollow(r.rider)}>
            <td>
                <button type="button" className="star" aria-pressed={fav}
                        aria-label={'Favourite: ' + who}
                        onClick={(e) => {
                            e.stopPropagation();
                            onFavourite(r.rider);
                        }}>
                    {fav ? '★' : '☆'}
                </button>
            </td>
            <td className="rank">{Number.isFinite(r.rank) ? r.rank : '–'}</td>
            <td>{r.bib ?? '–'}</td>
            <td className="name">
                <button type="button" className="link follow-btn"
                        aria-pressed={follow}
                        title={follow ? 'Stop following' : 'Follow on the map'}
                        onClick={(e) => {
                            e.stopPropagation();
                            onFollow(r.rider);
                        }}>
                    {r.name || r.rider}
                </button>
            </td>
            <td className="dist">{km(r.dist_m, 2)}</td>
            <td>{kmh(r.speed_mps)}</td>
            <td>{r.rank === 1 ? 'Leader' : gap(r.gap_s)}</td>
            <td>{km(r.to_go_m, 2)}</td>
            <td>{r.status === 'racing' ? clock(r.eta) : '–'}</td>
            <td className="name">
                {stale ? <span className="stale-note">
                             {staleText(r, now)}</span>
                       : statusText(r)}
            </td>
            <td className="age">{a == null ? '–' : age(a)}</td>
        </tr>
    );
}
