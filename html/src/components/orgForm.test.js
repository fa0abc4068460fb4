import { describe, expect, it } from 'vitest';
import { checkpointsBody, defaultStart, fromLocalInput, lapCheckpoints,
         raceBody, readCourse, toLocalInput } from './orgForm.js';
import { coursePath, profilePath } from './OrgCoursePreview.jsx';

/* a square loop of about 4 x 111 m, with a climb */
const GPX = `<?xml version="1.0"?>
<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>
<trkpt lat="45.000" lon="7.000"><ele>100</ele></trkpt>
<trkpt lat="45.001" lon="7.000"><ele>110</ele></trkpt>
<trkpt lat="45.001" lon="7.0014"><ele>105</ele></trkpt>
<trkpt lat="45.000" lon="7.0014"><ele>108</ele></trkpt>
<trkpt lat="45.000" lon="7.000"><ele>100</ele></trkpt>
</trkseg></trk></gpx>`;

const LINE = { type: 'Feature', properties: {},
               geometry: { type: 'LineString',
                           coordinates: [[7, 45], [7, 45.01], [7.01, 45.01]] } };

describe('datetime-local and Unix ms', () => {
    it('round-trips a local time to the minute', () => {
        const ms = new Date(2026, 4, 1, 9, 30).getTime();
        expect(toLocalInput(ms)).toBe('2026-05-01T09:30');
        expect(fromLocalInput('2026-05-01T09:30')).toBe(ms);
        expect(fromLocalInput('2026-05-01T09:30:15')).toBe(ms + 15000);
    });

    it('refuses what is not a date and a time', () => {
        expect(fromLocalInput('')).toBe(null);
        expect(fromLocalInput(undefined)).toBe(null);
        expect(fromLocalInput('2026-05-01')).toBe(null);
        expect(fromLocalInput('2026-02-31T10:00')).toBe(null);
        expect(toLocalInput(null)).toBe('');
        expect(toLocalInput(NaN)).toBe('');
    });

    it('starts a new race on a full hour in the future', () => {
        const now = new Date(2026, 0, 1, 10, 17).getTime();
        expect(toLocalInput(defaultStart(now))).toBe('2026-01-01T11:00');
    });
});

describe('checkpoints', () => {
    it('turns km into whole metres, sorted, blank rows dropped', () => {
        expect(checkpointsBody([
            { name: ' Summit ', km: '2,5' },
            { name: '', km: '' },
            { name: 'Bridge', km: '0.8004' },
        ], 5000)).toEqual([{ name: 'Bridge', dist_m: 800 },
                           { name: 'Summit', dist_m: 2500 }]);
        expect(checkpointsBody([], 1000)).toEqual([]);
    });

    it('names the row that is wrong', () => {
        expect(() => checkpointsBody([{ name: 'A', km: '' }]))
            .toThrow(/Checkpoint 1 \(A\) needs a distance/);
        expect(() => checkpointsBody([{ name: 'A', km: 1 },
                                      { name: '', km: 2 }]))
            .toThrow(/Checkpoint 2 has no name/);
        expect(() => checkpointsBody([{ name: 'A', km: '-1' }]))
            .toThrow(/above 0/);
        expect(() => checkpointsBody([{ name: 'Far', km: 3 }], 2000))
            .toThrow(/past the finish/);
    });

    it('puts one at the end of every lap but the last', () => {
        expect(lapCheckpoints(1234.5, 3)).toEqual([
            { name: 'Lap 1', km: '1.234' }, { name: 'Lap 2', km: '2.469' }]);
        expect(lapCheckpoints(1000, 1)).toEqual([]);
    });
});

describe('a course file', () => {
    it('reads GPX: a loop, its length and climb; the body is the text', () => {
        const c = readCourse(GPX, 'loop.gpx');
        expect(c.kind).toBe('gpx');
        expect(c.body).toBe(GPX);
        expect(c.points).toHaveLength(5);
        expect(c.closed).toBe(true);
        expect(c.lapM).toBeGreaterThan(430);
        expect(c.lapM).toBeLessThan(450);
        expect(c.gain).toBe(13);
        expect(c.ele).toEqual([100, 110]);
    });

    it('reads GeoJSON: the body is the object, an open course', () => {
        const c = readCourse(JSON.stringify(LINE), 'c.geojson');
        expect(c.kind).toBe('geojson');
        expect(c.body).toEqual(LINE);
        expect(c.closed).toBe(false);
        expect(c.ele).toBe(null);
        expect(c.lapM).toBeGreaterThan(1800);
    });

    it('says why a file is not a course', () => {
        expect(() => readCourse('', 'x.gpx')).toThrow(/empty/);
        expect(() => readCourse('<gpx', 'x.gpx')).toThrow(/not XML/);
        expect(() => readCourse('<html/>', 'x.gpx')).toThrow(/not GPX/);
        expect(() => readCourse('{nope', 'x.json'))
            .toThrow(/neither GPX nor JSON/);
        expect(() => readCourse('{"type":"Point"}', 'x.json'))
            .toThrow(/no LineString/);
        expect(() => readCourse(JSON.stringify({ type: 'LineString',
            coordinates: [[7, 45], [7, 95]] }), 'x.json'))
            .toThrow(/valid lat/);
        expect(() => readCourse(JSON.stringify({ type: 'LineString',
            coordinates: [[7, 45]] }), 'x.json')).toThrow(/two points/);
    });
});

describe('the body of POST /api/races', () => {
    const loop = readCourse(GPX, 'loop.gpx');
    const form = { name: ' Coppa ', start: '2026-05-01T09:30',
                   isPublic: false, laps: '3',
                   checkpoints: [{ name: 'Lap 1', km: '0.44' }],
                   close: '' };

    it('has every field the API takes', () => {
        expect(raceBody(form, loop)).toEqual({
            name: 'Coppa',
            start_at: new Date(2026, 4, 1, 9, 30).getTime(),
            public: false,
            course: GPX,
            laps: 3,
            checkpoints: [{ name: 'Lap 1', dist_m: 440 }],
        });
        const b = raceBody({ ...form, close: '2026-05-01T12:00' }, loop);
        expect(b.close_at).toBe(new Date(2026, 4, 1, 12, 0).getTime());
    });

    it('refuses what the server would', () => {
        expect(() => raceBody({ ...form, name: ' ' }, loop)).toThrow(/name/);
        expect(() => raceBody({ ...form, start: '' }, loop))
            .toThrow(/start/);
        expect(() => raceBody(form, null)).toThrow(/course file/);
        expect(() => raceBody({ ...form, laps: '1.5' }, loop))
            .toThrow(/whole number/);
        expect(() => raceBody({ ...form, close: '2026-05-01T09:00' }, loop))
            .toThrow(/after its start/);
        const open = readCourse(JSON.stringify(LINE), 'c.json');
        expect(() => raceBody({ ...form, checkpoints: [] }, open))
            .toThrow(/Only a loop/);
        expect(raceBody({ ...form, laps: 1, checkpoints: [] }, open).course)
            .toEqual(LINE);
    });
});

describe('the preview', () => {
    it('fits the course in the box, north up, ends marked', () => {
        const c = readCourse(GPX, 'loop.gpx');
        const p = coursePath(c.points, 100, 100, 0);
        const nums = p.d.match(/[\d.]+/g).map(Number);
        expect(Math.min(...nums)).toBeGreaterThanOrEqual(0);
        expect(Math.max(...nums)).toBeLessThanOrEqual(100);
        /* the first point is the southern (lower) one */
        expect(p.start[1]).toBeGreaterThan(nums[3]);
        expect(p.finish).toEqual(p.start);
        expect(coursePath([c.points[0]])).toBe(null);
    });

    it('draws a profile only with elevations', () => {
        const c = readCourse(GPX, 'loop.gpx');
        const prof = profilePath(c.points, 100, 50);
        expect(prof.lo).toBe(100);
        expect(prof.hi).toBe(110);
        expect(prof.area.endsWith('Z')).toBe(true);
        expect(profilePath(readCourse(JSON.stringify(LINE)).points))
            .toBe(null);
    });
});
