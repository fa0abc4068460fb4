import { lazy, Suspense, useCallback, useEffect, useMemo, useRef,
         useState } from 'react';
import { api, ApiError } from '../lib/api.js';
import { getText, saveFile } from '../lib/pastFetch.js';
import { parseGeoJson, parseGpx, unroll } from '../lib/geo.js';
import { flow, flowGrid, pool, sortRows, speeds, splitDeltas,
         timed } from '../lib/past.js';
import { dateTime, duration, gap, km, kmh } from '../lib/format.js';
import './PastRace.css';

/*
 * A finished race: its results, each rider's statistics and splits, the
 * speed and elevation of one rider, the race flow of all of them, a
 * replay, and the files to take away.  RacePage renders it for a
 * finished race with the race object and, for a private race, the
 * token that lets this page see it.
 *
 * The results are read once; the tracks (GPX, one request a rider) only
 * when asked for: the selected rider's, or everybody's when the race
 * flow or the replay is opened, a few at a time.
 */

const PastChart = lazy(() => import('../components/PastChart.jsx'));
const PastReplay = lazy(() => import('../components/PastReplay.jsx'));

const POLL_MS = 3000;
const POLL_TRIES = 60;      /* three minutes, then the reader decides */
const TRACKS_AT_ONCE = 4;

function path(race, rest = '') {
    return '/races/' + encodeURIComponent(race) + rest;
}

/* the results, asked again every few seconds while they are computed */
function useResults(race, token, pollMs) {
    const [state, setState] = useState({ results: null, error: null,
                                         waiting: false });
    const [round, setRound] = useState(0);

    useEffect(() => {
        const ctl = new AbortController();
        let timer = 0;
        let tries = 0;
        const ask = async () => {
            try {
                const d = await api('GET', path(race, '/results'),
                                    { token, signal: ctl.signal });
                setState({ results: d, error: null, waiting: false });
            } catch (e) {
                if (e.name === 'AbortError') {
                    return;
                }
                if (e instanceof ApiError && e.code === 'no_results'
                    && ++tries < POLL_TRIES) {
                    setState({ results: null, error: null, waiting: true });
                    timer = setTimeout(ask, pollMs);
                    return;
                }
                setState({ results: null, waiting: false,
                           error: e.code === 'no_results'
                               ? 'The results are not ready yet.'
                               : e.message });
            }
        };
        ask();
        return () => {
            ctl.abort();
            clearTimeout(timer);
        };
    }, [race, token, round, pollMs]);

    return { ...state, retry: () => setRound(r => r + 1) };
}

/*
 * The riders' tracks, each fetched once: tracks[id] is { status:
 * "loading"|"ok"|"error", track (timed points), error }.
 */
function useTracks(race, token) {
    const [tracks, setTracks] = useState({});
    const asked = useRef(new Set());

    const one = useCallback(async (id) => {
        setTracks(t => ({ ...t, [id]: { status: 'loading' } }));
        try {
            const text = await getText(path(race, '/riders/'
                                        + encodeURIComponent(id)
                                        + '/track.gpx'), token);
            /* a rider without a fix has a GPX without points */
            const track = /<trkpt\b/.test(text) ? timed(parseGpx(text)) : [];
            setTracks(t => ({ ...t, [id]: { status: 'ok', track } }));
        } catch (e) {
            setTracks(t => ({ ...t, [id]: { status: 'error',
                                            error: e.message } }));
        }
    }, [race, token]);

    const load = useCallback((ids) => {
        const todo = ids.filter(id => !asked.current.has(id));
        if (!todo.length) {
            return;
        }
        todo.forEach(id => asked.current.add(id));
        pool(todo, TRACKS_AT_ONCE, one);
    }, [one]);

    return { tracks, load };
}

/* the raced course (the lap unrolled), once asked for */
function useCourse(race, token, laps, want) {
    const [course, setCourse] = useState({ points: null, error: null });

    useEffect(() => {
        if (!want) {
            return undefined;
        }
        const ctl = new AbortController();
        api('GET', path(race, '/course'), { token, signal: ctl.signal })
            .then(d => setCourse({ points: unroll(parseGeoJson(d),
                                                  Math.max(1, laps || 1)),
                                   error: null }))
            .catch(e => {
                if (e.name !== 'AbortError') {
                    setCourse({ points: null, error: e.message });
                }
            });
        return () => ctl.abort();
    }, [race, token, laps, want]);

    return course;
}

const COLUMNS = [
    { key: 'rank', label: 'Rank' },
    { key: 'bib', label: 'Bib' },
    { key: 'name', label: 'Name', cls: 'name' },
    { key: 'status', label: 'Status', cls: 'name' },
    { key: 'finish_s', label: 'Time', fmt: duration },
    { key: 'dist_m', label: 'Distance', fmt: v => km(v, 2) },
    { key: 'moving_s', label: 'Moving', fmt: duration },
    { key: 'avg_mps', label: 'Avg', fmt: kmh },
    { key: 'max_mps', label: 'Max', fmt: kmh },
    { key: 'ele_gain_m', label: 'Climb',
      fmt: v => (v == null ? '–' : Math.round(v) + ' m') },
];

function Download({ href, token, name, children, label }) {
    const [error, setError] = useState(null);

    if (!token) {
        return <a href={'/api' + href} download={name}
                  aria-label={label}>{children}</a>;
    }
    return (
        <>
            <button type="button" className="link" aria-label={label}
                    onClick={async () => {
                        setError(null);
                        try {
                            await saveFile(href, token, name);
                        } catch (e) {
                            setError(e.message);
                        }
                    }}>
                {children}
            </button>
            {error && <span className="error" role="alert"> {error}</span>}
        </>
    );
}

function ResultsTable({ race, token, riders, selected, onSelect }) {
    const [sort, setSort] = useState({ key: 'rank', desc: false });
    const rows = useMemo(() => sortRows(riders, sort.key, sort.desc),
                         [riders, sort]);

    return (
        <div className="scroll" tabIndex={0} role="region"
             aria-label="Results">
            <table className="data past-results">
                <caption className="sr-only">
                    Results; the column buttons sort the table
                </caption>
                <thead>
                    <tr>
                        {COLUMNS.map(c => (
                            <th key={c.key} className={c.cls} scope="col"
                                aria-sort={sort.key === c.key ? (sort.desc
                                    ? 'descending' : 'ascending') : 'none'}>
                                <button type="button" className="sort"
                                        onClick={() => setSort(s => ({
                                            key: c.key,
                                            desc: s.key === c.key && !s.desc,
                                        }))}>
                                    {c.label}
                                    <span aria-hidden="true">
                                        {sort.key !== c.key ? ''
                                         : sort.desc ? ' ▼' : ' ▲'}
                                    </span>
                                </button>
                            </th>
                        ))}
                        <th scope="col">GPX</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.map(r => (
                        <tr key={r.rider} data-rider={r.rider}
                            className={r.rider === selected ? 'on' : ''}>
                            {COLUMNS.map(c => (
                                <td key={c.key} className={c.cls}>
                                    {c.key === 'name' ? (
                                        <button type="button" className="link"
                                                aria-pressed={r.rider
                                                              === selected}
                                                onClick={() => onSelect(
                                                    r.rider)}>
                                            {r.name || r.rider}
                                        </button>
                                    ) : c.key === 'status' ? (
                                        <span className={'badge ' + r.status}>
                                            {r.status}
                                        </span>
                                    ) : c.fmt ? c.fmt(r[c.key])
                                      : r[c.key] ?? '–'}
                                </td>
                            ))}
                            <td>
                                <Download href={path(race, '/riders/'
                                          + encodeURIComponent(r.rider)
                                          + '/track.gpx')}
                                          token={token}
                                          name={race + '-' + r.rider + '.gpx'}
                                          label={'GPX track of '
                                                 + (r.name || r.rider)}>
                                    GPX
                                </Download>
                            </td>
                        </tr>
                    ))}
                </tbody>
            </table>
        </div>
    );
}

function Summary({ summary }) {
    const s = summary || {};
    return (
        <dl className="past-summary">
            <div><dt>Starters</dt><dd>{s.starters ?? '–'}</dd></div>
            <div><dt>Finishers</dt><dd>{s.finishers ?? '–'}</dd></div>
            <div><dt>Winning time</dt><dd>{duration(s.winning_s)}</dd></div>
            <div><dt>Average speed</dt><dd>{kmh(s.avg_mps)}</dd></div>
            <div><dt>Course</dt><dd>{km(s.length_m)}</dd></div>
        </dl>
    );
}

const SPEED_Y = { label: 'km/h', fmt: v => v.toFixed(0) };
const TIME_X = { label: 'time', fmt: v => duration(v) };
const ELE_Y = { label: 'm', fmt: v => v.toFixed(0) };
const KM_X = { label: 'km', fmt: v => v.toFixed(2) };
const DIST_Y = { label: 'km', fmt: v => v.toFixed(1) };

function RiderCharts({ track, start, name }) {
    const speed = useMemo(() => {
        if (!track || track.length < 2) {
            return null;
        }
        const v = speeds(track, 10);
        return [track.map(p => (p.t - start) / 1000),
                v.map(s => (s == null ? null : s * 3.6))];
    }, [track, start]);
    const ele = useMemo(() => {
        if (!track || !track.some(p => p.ele != null)) {
            return null;
        }
        return [track.map(p => p.path / 1000),
                track.map(p => (p.ele == null ? null : p.ele))];
    }, [track]);
    const speedSeries = useMemo(() => [{ label: 'speed' }], []);
    const eleSeries = useMemo(() => [{ label: 'elevation',
                                       color: '#1b7a35',
                                       fill: 'rgba(27,122,53,0.12)' }], []);

    if (!speed) {
        return <p className="empty">This rider's track has too few fixes
            for charts.</p>;
    }
    return (
        <Suspense fallback={<p className="loading">Loading the charts…</p>}>
            <div className="past-charts">
                <PastChart name="speed" data={speed} series={speedSeries}
                           x={TIME_X} y={SPEED_Y} legend={false}
                           label={'Speed of ' + name + ' (km/h, '
                                  + '10 s average)'} />
                {ele ? (
                    <PastChart name="elevation" data={ele}
                               series={eleSeries} x={KM_X} y={ELE_Y}
                               legend={false}
                               label={'Elevation of ' + name
                                      + ' (m, by km ridden)'} />
                ) : <p className="empty">No elevation in this track.</p>}
            </div>
        </Suspense>
    );
}

function RiderDetail({ rider, results, deltas, tracks, start }) {
    const cps = (results.summary && results.summary.checkpoints) || [];
    const winning = results.summary ? results.summary.winning_s : null;
    const t = tracks[rider.rider];
    const rows = deltas.rows.get(rider.rider) || [];
    const name = rider.name || rider.rider;

    return (
        <section className="past-rider" aria-labelledby="past-rider-h">
            <h2 id="past-rider-h">
                {rider.bib != null && <span className="bib">{rider.bib}</span>}
                {name}
            </h2>
            <dl className="past-summary">
                <div><dt>Rank</dt><dd>{rider.rank ?? '–'}</dd></div>
                <div><dt>Status</dt><dd>{rider.status || '–'}</dd></div>
                <div><dt>Time</dt><dd>{duration(rider.finish_s)}</dd></div>
                <div><dt>Behind the winner</dt>
                    <dd>{rider.finish_s != null && winning != null
                         ? gap(rider.finish_s - winning) : '–'}</dd></div>
                <div><dt>Distance</dt><dd>{km(rider.dist_m, 2)}</dd></div>
                <div><dt>Moving</dt><dd>{duration(rider.moving_s)}</dd></div>
                <div><dt>Average</dt><dd>{kmh(rider.avg_mps)}</dd></div>
                <div><dt>Max</dt><dd>{kmh(rider.max_mps)}</dd></div>
                <div><dt>Climb</dt>
                    <dd>{rider.ele_gain_m == null ? '–'
                         : Math.round(rider.ele_gain_m) + ' m'}</dd></div>
            </dl>
            {cps.length > 0 && (
                <>
                    <h3 id="past-splits-h">Splits: the time at each
                        checkpoint, and behind the best there</h3>
                    <div className="scroll" tabIndex={0} role="region"
                         aria-labelledby="past-splits-h">
                        <table className="data past-splits"
                               aria-labelledby="past-splits-h">
                            <thead>
                                <tr>
                                    <th scope="col" className="name">
                                        Checkpoint</th>
                                    <th scope="col">At</th>
                                    <th scope="col">Time</th>
                                    <th scope="col">Behind best</th>
                                    <th scope="col">Leg</th>
                                </tr>
                            </thead>
                            <tbody>
                                {cps.map((c, k) => {
                                    const r = rows[k] || {};
                                    return (
                                        <tr key={k}>
                                            <td className="name">{c.name}</td>
                                            <td>{km(c.dist_m, 2)}</td>
                                            <td>{duration(r.s)}</td>
                                            <td className={r.delta === 0
                                                           ? 'best' : ''}>
                                                {r.delta === 0 ? 'best'
                                                 : gap(r.delta)}
                                            </td>
                                            <td>{duration(r.leg)}</td>
                                        </tr>
                                    );
                                })}
                            </tbody>
                        </table>
                    </div>
                </>
            )}
            {!t || t.status === 'loading' ? (
                <p className="loading" role="status">Loading the track…</p>
            ) : t.status === 'error' ? (
                <p className="error" role="alert">The track: {t.error}</p>
            ) : (
                <RiderCharts track={t.track} start={start} name={name} />
            )}
        </section>
    );
}

/* how many of the riders' tracks are in: done counts the failed too */
function Progress({ riders, tracks }) {
    const total = riders.length;
    let done = 0;
    const failed = [];
    for (const r of riders) {
        const t = tracks[r.rider];
        if (t && t.status !== 'loading') {
            done++;
        }
        if (t && t.status === 'error') {
            failed.push(t);
        }
    }
    const progress = { done, total };
    return (
        <p role="status" className="past-progress">
            {progress.done < progress.total
                ? `Loading the tracks: ${progress.done} of ${progress.total}`
                : `${progress.total} track${progress.total === 1 ? '' : 's'}`
                  + ' loaded'}
            {progress.done < progress.total && (
                <progress max={progress.total} value={progress.done} />
            )}
            {failed.length > 0 && (
                <span className="error">
                    {' '}{failed.length} could not be read: {failed[0].error}
                </span>
            )}
        </p>
    );
}

export default function PastRace({ race, token = null,
                                   pollMs = POLL_MS }) {
    const id = race.id;
    const laps = race.course ? race.course.laps : 1;
    const { results, error, waiting, retry } = useResults(id, token,
                                                          pollMs);
    const { tracks, load } = useTracks(id, token);
    const [selected, setSelected] = useState(null);
    const [wantAll, setWantAll] = useState(false);
    const course = useCourse(id, token, laps, wantAll);

    const riders = useMemo(() => (results && Array.isArray(results.riders)
                                  ? results.riders.filter(r => r && r.rider)
                                  : []), [results]);
    const start = race.started_at
                  || (results && results.summary && results.summary.start)
                  || 0;
    const ncp = results && results.summary
                && Array.isArray(results.summary.checkpoints)
        ? results.summary.checkpoints.length : 0;
    const deltas = useMemo(() => splitDeltas(riders, ncp), [riders, ncp]);
    const current = riders.find(r => r.rider === selected) || riders[0];

    /* the selected rider's track: the first ranked until one is picked */
    useEffect(() => {
        if (current) {
            load([current.rider]);
        }
    }, [current, load]);

    useEffect(() => {
        if (wantAll) {
            load(riders.map(r => r.rider));
        }
    }, [wantAll, riders, load]);

    /* every loaded track along the course: the flow and the replay */
    const all = useMemo(() => {
        if (!wantAll || !course.points) {
            return null;
        }
        const out = [];
        for (const r of riders) {
            const t = tracks[r.rider];
            if (t && t.status === 'ok' && t.track.length) {
                out.push({ id: r.rider, bib: r.bib, name: r.name,
                           track: t.track, flowed: flow(course.points,
                                                        t.track) });
            }
        }
        return out;
    }, [wantAll, course.points, riders, tracks]);
    const loadingAll = riders.some(r => !tracks[r.rider]
                                   || tracks[r.rider].status === 'loading');
    const end = all && all.length
        ? Math.max(...all.map(r => r.track[r.track.length - 1].t)) : start;
    const flowData = useMemo(() => {
        if (!all || !all.length || loadingAll) {
            return null;
        }
        const g = flowGrid(all.map(r => r.flowed), start, end);
        return { data: [g.xs, ...g.ys],
                 series: all.map(r => ({ label: (r.bib ? r.bib + ' ' : '')
                                                + (r.name || r.id) })) };
    }, [all, loadingAll, start, end]);

    const open = e => {
        if (e.currentTarget.open) {
            setWantAll(true);
        }
    };

    const head = (
        <>
            <h1>{race.name || id}</h1>
            <p className="past-meta">
                <span className="badge">Finished</span>{' '}
                {dateTime(race.started_at || race.start_at)}
                {race.course && race.course.length_m
                 ? ' · ' + km(race.course.length_m)
                   + (laps > 1 ? ', ' + laps + ' laps' : '') : ''}
            </p>
        </>
    );

    if (error) {
        return (
            <main className="page past">
                {head}
                <p className="error" role="alert">{error}</p>
                <button type="button" onClick={retry}>Try again</button>
            </main>
        );
    }
    if (!results) {
        return (
            <main className="page past">
                {head}
                <p className="loading" role="status">
                    {waiting ? 'The race is over: its results are being '
                               + 'computed…' : 'Loading the results…'}
                </p>
            </main>
        );
    }

    return (
        <main className="page past">
            {head}
            <div className="past-head">
                <h2 id="past-h">Results</h2>
                <Download href={path(id, '/results.csv')} token={token}
                          name={id + '-results.csv'}
                          label="Download the results as CSV">
                    Results (CSV)
                </Download>
            </div>
            <Summary summary={results.summary} />
            {riders.length ? (
                <ResultsTable race={id} token={token} riders={riders}
                              selected={current && current.rider}
                              onSelect={setSelected} />
            ) : <p className="empty">Nobody rode this race.</p>}

            {current && (
                <RiderDetail rider={current} results={results}
                             deltas={deltas} tracks={tracks}
                             start={start} />
            )}

            {riders.length > 0 && (
                <>
                    <details className="past-more" onToggle={open}>
                        <summary>Race flow: everyone's distance in
                            time</summary>
                        <Progress riders={riders} tracks={tracks} />
                        {course.error && <p className="error" role="alert">
                            The course: {course.error}</p>}
                        {flowData && (
                            <Suspense fallback={<p className="loading">
                                Loading the chart…</p>}>
                                <PastChart name="flow" data={flowData.data}
                                           series={flowData.series}
                                           x={TIME_X} y={DIST_Y}
                                           height={300}
                                           legend={flowData.series.length
                                                   <= 24}
                                           label={'Course distance (km) '
                                                  + 'of every rider against '
                                                  + 'time'} />
                            </Suspense>
                        )}
                    </details>
                    <details className="past-more" onToggle={open}>
                        <summary>Replay</summary>
                        <Progress riders={riders} tracks={tracks} />
                        {all && all.length > 0 && !loadingAll && (
                            <Suspense fallback={<p className="loading">
                                Loading the replay…</p>}>
                                <PastReplay course={course.points}
                                            riders={all} start={start}
                                            end={end}
                                            selected={current
                                                      && current.rider}
                                            onSelect={setSelected} />
                            </Suspense>
                        )}
                    </details>
                </>
            )}
        </main>
    );
}
