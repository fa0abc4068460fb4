import { splitDeltas, splitText } from '../lib/standings.js';

/*
 * Times at the checkpoints, each with its delta to the fastest there;
 * the followed rider's row is marked.  Rows come in leaderboard order.
 */
export default function Splits({ checkpoints, rows, follow }) {
    if (!checkpoints || !checkpoints.length) {
        return null;
    }
    const d = splitDeltas(checkpoints, rows);

    return (
        <section className="splits" aria-labelledby="splits-h">
            <h2 id="splits-h">Splits</h2>
            <div className="scroll" tabIndex={0} role="region"
                 aria-labelledby="splits-h">
                <table className="data">
                    <thead>
                        <tr>
                            <th scope="col">Bib</th>
                            <th scope="col" className="name">Name</th>
                            {checkpoints.map((c, i) => (
                                <th scope="col" key={i}>
                                    {c.name || 'Checkpoint ' + (i + 1)}
                                </th>
                            ))}
                        </tr>
                    </thead>
                    <tbody>
                        {rows.map((r, k) => (
                            <tr key={r.rider}
                                className={r.rider === follow ? 'follow' : ''}>
                                <td>{r.bib ?? '–'}</td>
                                <td className="name">{r.name || r.rider}</td>
                                {d.rows[k].times.map((c, i) => (
                                    <td key={i} className={c.delta === 0
                                                           ? 'best' : ''}>
                                        {splitText(c)}
                                    </td>
                                ))}
                            </tr>
                        ))}
                    </tbody>
                </table>
            </div>
        </section>
    );
}
