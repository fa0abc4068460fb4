import { cloneElement, useId, useState } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { api } from '../lib/api.js';
import { km } from '../lib/format.js';
import OrgGate from '../components/OrgGate.jsx';
import OrgCoursePreview from '../components/OrgCoursePreview.jsx';
import { COURSE_MAX_BYTES, defaultStart, lapCheckpoints, raceBody,
         readCourse, toLocalInput } from '../components/orgForm.js';
import './NewRace.css';

/*
 * A new race: name, start, public or private, a course file read in
 * the browser (a preview of its shape, profile, length and climb before
 * anything is sent), laps of a loop, checkpoints and an optional
 * closing time; POST /api/races, then the race's own page.
 */

/* a File's text, through FileReader (a Blob's text() is newer) */
function readText(file) {
    return new Promise((resolve, reject) => {
        const r = new FileReader();
        r.onload = () => resolve(r.result);
        r.onerror = () => reject(new Error('The file could not be read.'));
        r.readAsText(file);
    });
}

/* a labelled input with its hint outside the label, so the input's
 * name stays short and the hint is its description */
function Field({ label, hint, children }) {
    const id = useId();
    return (
        <div className="org-field">
            <label htmlFor={id + 'i'}>{label}</label>
            {cloneElement(children, { id: id + 'i',
                                      'aria-describedby': hint ? id + 'h'
                                                               : undefined })}
            {hint && <small id={id + 'h'}>{hint}</small>}
        </div>
    );
}

function CourseFacts({ course, laps }) {
    const n = Math.max(1, laps || 1);
    return (
        <dl className="org-facts" aria-live="polite">
            <div>
                <dt>Length</dt>
                <dd data-testid="course-length">
                    {km(course.lapM * n, 2)}
                    {n > 1 && <small> ({km(course.lapM, 2)} × {n} laps)
                    </small>}
                </dd>
            </div>
            <div>
                <dt>Points</dt>
                <dd>{course.points.length}</dd>
            </div>
            <div>
                <dt>Climb</dt>
                <dd>{course.ele ? Math.round(course.gain * n) + ' m'
                     : 'no elevation in the file'}</dd>
            </div>
            <div>
                <dt>Shape</dt>
                <dd>{course.closed ? 'a loop' : 'point to point'}</dd>
            </div>
        </dl>
    );
}

function Checkpoints({ rows, setRows, course, laps }) {
    function set(i, field, value) {
        setRows(rows.map((r, j) => j === i ? { ...r, [field]: value } : r));
    }

    return (
        <fieldset className="org-cps">
            <legend>Checkpoints</legend>
            <p><small>Split times are taken where a rider passes each
                distance from the start (km, along the whole race).
                </small></p>
            {rows.map((r, i) => (
                <div className="org-cp" key={i}>
                    <label>
                        Name of checkpoint {i + 1}
                        <input value={r.name} maxLength={64}
                               onChange={e => set(i, 'name',
                                                  e.target.value)} />
                    </label>
                    <label>
                        Distance of checkpoint {i + 1} (km)
                        <input value={r.km} inputMode="decimal"
                               type="number" min="0" step="0.001"
                               onChange={e => set(i, 'km',
                                                  e.target.value)} />
                    </label>
                    <button type="button" className="secondary"
                            aria-label={'Remove checkpoint ' + (i + 1)}
                            onClick={() => setRows(rows.filter(
                                (_, j) => j !== i))}>
                        Remove
                    </button>
                </div>
            ))}
            <div className="toolbar">
                <button type="button" className="secondary"
                        onClick={() => setRows([...rows,
                                                { name: '', km: '' }])}>
                    Add checkpoint
                </button>
                {course && laps > 1 && (
                    <button type="button" className="secondary"
                            onClick={() => setRows([
                                ...rows.filter(r => r.name || r.km),
                                ...lapCheckpoints(course.lapM, laps)])}>
                        A checkpoint every lap
                    </button>
                )}
            </div>
        </fieldset>
    );
}

function NewRaceForm() {
    const navigate = useNavigate();
    const [f, setF] = useState(() => ({
        name: '', start: toLocalInput(defaultStart()), isPublic: true,
        laps: 1, close: '',
    }));
    const [rows, setRows] = useState([]);
    const [course, setCourse] = useState(null);
    const [fileName, setFileName] = useState('');
    const [courseError, setCourseError] = useState(null);
    const [error, setError] = useState(null);
    const [busy, setBusy] = useState(false);

    const set = (k, v) => setF(old => ({ ...old, [k]: v }));

    async function onFile(e) {
        const file = e.target.files && e.target.files[0];
        setCourse(null);
        setCourseError(null);
        setFileName(file ? file.name : '');
        if (!file) {
            return;
        }
        if (file.size > COURSE_MAX_BYTES) {
            setCourseError('The file is larger than 4 MB: the server '
                           + 'takes no more.');
            return;
        }
        try {
            const c = readCourse(await readText(file), file.name);
            setCourse(c);
            if (!c.closed) {
                set('laps', 1);
            }
        } catch (err) {
            setCourseError(err.message || 'This file is not a course.');
        }
    }

    async function onSubmit(e) {
        e.preventDefault();
        setError(null);
        let body;
        try {
            body = raceBody({ ...f, checkpoints: rows }, course);
        } catch (err) {
            setError(err.message);
            return;
        }
        setBusy(true);
        try {
            const d = await api('POST', '/races', { body });
            navigate('/organize/' + encodeURIComponent(d.race.id));
        } catch (err) {
            setError(err.message);
            setBusy(false);
        }
    }

    const laps = Number(f.laps) || 1;

    return (
        <main className="page">
            <p><Link to="/organize">← Your races</Link></p>
            <h1>New race</h1>
            <div className="org-new">
                <form className="stack org-form" onSubmit={onSubmit}
                      noValidate>
                    <label>
                        Name
                        <input value={f.name} required maxLength={100}
                               onChange={e => set('name', e.target.value)} />
                    </label>
                    <Field label="Start" hint="In your time zone.">
                        <input type="datetime-local" value={f.start}
                               required
                               onChange={e => set('start',
                                                  e.target.value)} />
                    </Field>
                    <fieldset className="org-vis">
                        <legend>Who may watch</legend>
                        <label className="org-inline">
                            <input type="radio" name="vis"
                                   checked={f.isPublic}
                                   onChange={() => set('isPublic', true)} />
                            Public: listed, anyone may watch
                        </label>
                        <label className="org-inline">
                            <input type="radio" name="vis"
                                   checked={!f.isPublic}
                                   onChange={() => set('isPublic', false)} />
                            Private: only with a spectator link
                        </label>
                    </fieldset>
                    <Field label="Course file"
                           hint="GPX, or GeoJSON with a LineString; up to 4 MB.">
                        <input type="file" onChange={onFile} required
                               accept=".gpx,.geojson,.json,application/gpx+xml,application/geo+json,application/json" />
                    </Field>
                    {courseError && (
                        <p className="error" role="alert">
                            {fileName}: {courseError}</p>
                    )}
                    <Field label="Laps"
                           hint={course && !course.closed
                                 ? 'The course is not a loop: one lap.'
                                 : 'For a loop: its start and finish are '
                                   + 'within 100 m.'}>
                        <input type="number" min="1" max="1000" step="1"
                               value={f.laps}
                               disabled={!course || !course.closed}
                               onChange={e => set('laps', e.target.value)} />
                    </Field>
                    <Checkpoints rows={rows} setRows={setRows}
                                 course={course} laps={laps} />
                    <Field label="Closes at (optional)"
                           hint={'The race finishes by itself then, if '
                                 + 'you have not finished it.'}>
                        <input type="datetime-local" value={f.close}
                               onChange={e => set('close',
                                                  e.target.value)} />
                    </Field>
                    {error && <p className="error" role="alert">{error}</p>}
                    <div>
                        <button type="submit" disabled={busy}>
                            {busy ? 'Creating…' : 'Create race'}</button>
                    </div>
                </form>
                <section className="org-course" aria-label="Course preview">
                    <h2>Course</h2>
                    {course ? (
                        <>
                            <OrgCoursePreview points={course.points}
                                              title={fileName} />
                            <CourseFacts course={course} laps={laps} />
                        </>
                    ) : (
                        <p className="empty">Choose a course file to see
                            it here.</p>
                    )}
                </section>
            </div>
        </main>
    );
}

export default function NewRace() {
    return (
        <OrgGate title="New race" next="/organize/new">
            <NewRaceForm />
        </OrgGate>
    );
}
