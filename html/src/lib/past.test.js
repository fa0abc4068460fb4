import { describe, expect, it } from 'vitest';
import { measure, unroll } from './geo.js';
import { at, flow, flowGrid, pool, sortRows, speeds, splitDeltas,
         timed } from './past.js';

/* metres to degrees of latitude, as geo.js measures them */
const M = 1 / (6371008.8 * Math.PI / 180);

/* a straight course north from 45,7 of len metres */
function line(len, step = 10) {
    const pts = [];
    for (let d = 0; d <= len; d += step) {
        pts.push({ lat: 45 + d * M, lon: 7 });
    }
    measure(pts);
    return pts;
}

describe('speeds', () => {
    it('is the distance over the time of a steady ride', () => {
        const tr = timed(Array.from({ length: 30 }, (_, i) => ({
            lat: 45 + i * 10 * M, lon: 7, t: 1000 + i * 1000 })));
        const v = speeds(tr, 10);
        expect(v).toHaveLength(30);
        for (const s of v) {
            expect(s).toBeCloseTo(10, 3);
        }
    });

    it('smooths one fix off the line, and survives a repeated time', () => {
        const pts = Array.from({ length: 21 }, (_, i) => ({
            lat: 45 + i * 5 * M, lon: 7, t: i * 1000 }));
        pts[10] = { ...pts[10], lat: pts[10].lat + 20 * M };
        pts.push({ ...pts[20] });
        const tr = timed(pts);
        const v = speeds(tr, 10);
        const raw = (tr[10].path - tr[9].path) / 1;
        expect(raw).toBeGreaterThan(20);
        expect(v[10]).toBeLessThan(10);
        expect(v.every(s => s === null || isFinite(s))).toBe(true);
    });

    it('drops points without a time and sorts by time', () => {
        const tr = timed([{ lat: 45, lon: 7, t: 2000 }, { lat: 45, lon: 7 },
                          { lat: 45 + 10 * M, lon: 7, t: 1000 }]);
        expect(tr.map(p => p.t)).toEqual([1000, 2000]);
        expect(tr[1].path).toBeCloseTo(10, 3);
    });
});

describe('flow', () => {
    it('matches a loop raced twice lap after lap, never back', () => {
        /* a square loop of 4 x 100 m, 2 laps */
        const dx = M / Math.cos(45 * Math.PI / 180);
        const corner = [[0, 0], [100, 0], [100, 100], [0, 100], [0, 0]];
        const lap = corner.map(([n, e]) => ({ lat: 45 + n * M,
                                              lon: 7 + e * dx }));
        const course = unroll(lap, 2);
        expect(course[course.length - 1].dist).toBeCloseTo(800, 0);
        /* a fix every 50 m, 10 m/s */
        const track = [];
        for (let d = 0; d <= 800; d += 50) {
            const m = d % 400;
            const side = Math.floor(m / 100);
            const f = m % 100;
            const [n0, e0] = corner[side];
            const [n1, e1] = corner[side + 1];
            track.push({ lat: 45 + (n0 + (n1 - n0) * f / 100) * M,
                         lon: 7 + (e0 + (e1 - e0) * f / 100) * dx,
                         t: d * 100 });
        }
        const fl = flow(course, timed(track), { maxSpeed: 15 });
        const ds = fl.map(p => p.dist);
        for (let i = 0; i < ds.length; i++) {
            expect(ds[i]).toBeCloseTo(i * 50, -1);
        }
        /* the finish is the start's point: the end of lap 2, not 0 */
        expect(ds[ds.length - 1]).toBeGreaterThan(790);
    });

    it('stays on the way out where the way back passes close by', () => {
        /* 300 m north, 6 m east, 300 m back south */
        const dx = M / Math.cos(45 * Math.PI / 180);
        const course = [{ lat: 45, lon: 7 }, { lat: 45 + 300 * M, lon: 7 },
                        { lat: 45 + 300 * M, lon: 7 + 6 * dx },
                        { lat: 45, lon: 7 + 6 * dx }];
        measure(course);
        /* going north at 10 m/s, a fix 4 m east: nearer the way back */
        const track = timed([{ lat: 45, lon: 7, t: 0 },
                             { lat: 45 + 50 * M, lon: 7 + 4 * dx, t: 5000 },
                             { lat: 45 + 100 * M, lon: 7, t: 10000 }]);
        const ds = flow(course, track).map(p => p.dist);
        expect(ds[1]).toBeCloseTo(50, 0);
        expect(ds[2]).toBeCloseTo(100, 0);
    });

    it('keeps the distance for a fix far off the course', () => {
        const course = line(500);
        const track = timed([{ lat: 45 + 100 * M, lon: 7, t: 0 },
                             { lat: 45 + 150 * M, lon: 7.1, t: 5000 },
                             { lat: 45 + 160 * M, lon: 7, t: 6000 }]);
        const ds = flow(course, track).map(p => p.dist);
        expect(ds[0]).toBeCloseTo(100, 0);
        expect(ds[1]).toBeCloseTo(100, 0);
        expect(ds[2]).toBeCloseTo(160, 0);
    });

    it('puts every rider on one time axis, null outside its fixes', () => {
        const a = [{ t: 1000, dist: 0 }, { t: 11000, dist: 1000 }];
        const b = [{ t: 6000, dist: 0 }, { t: 21000, dist: 500 }];
        const g = flowGrid([a, b], 1000, 21000, 100);
        expect(g.xs[0]).toBe(0);
        expect(g.xs[g.xs.length - 1]).toBe(20);
        expect(g.ys).toHaveLength(2);
        expect(g.ys[0][5]).toBeCloseTo(0.5, 6);
        expect(g.ys[0][15]).toBe(null);
        expect(g.ys[1][0]).toBe(null);
        expect(g.ys[1][20]).toBeCloseTo(0.5, 6);
    });
});

describe('at', () => {
    const track = timed([{ lat: 45, lon: 7, t: 1000 },
                         { lat: 45 + 100 * M, lon: 7, t: 11000 }]);
    const fl = [{ t: 1000, dist: 0 }, { t: 11000, dist: 100 }];

    it('interpolates between fixes', () => {
        const p = at(track, 6000, fl);
        expect(p.state).toBe('riding');
        expect(p.lat).toBeCloseTo(45 + 50 * M, 9);
        expect(p.dist).toBeCloseTo(50, 6);
    });

    it('waits at the first fix and stays at the last', () => {
        expect(at(track, 0, fl)).toMatchObject({ state: 'waiting', dist: 0 });
        expect(at(track, 99000, fl)).toMatchObject({ state: 'done',
                                                     dist: 100 });
        expect(at([], 0)).toBe(null);
        expect(at(track, 6000).dist).toBe(null);
    });
});

describe('splitDeltas', () => {
    it('is each time against the best at that checkpoint', () => {
        const riders = [
            { rider: 'a', splits: [100, 250] },
            { rider: 'b', splits: [90, 260] },
            { rider: 'c', splits: [null, 300] },
            { rider: 'd' },
        ];
        const { best, rows } = splitDeltas(riders, 2);
        expect(best).toEqual([90, 250]);
        expect(rows.get('a')).toEqual([{ s: 100, delta: 10, leg: 100 },
                                       { s: 250, delta: 0, leg: 150 }]);
        expect(rows.get('b')[1]).toEqual({ s: 260, delta: 10, leg: 170 });
        expect(rows.get('c')).toEqual([{ s: null, delta: null, leg: null },
                                       { s: 300, delta: 50, leg: null }]);
        expect(rows.get('d')[0].s).toBe(null);
    });
});

describe('sortRows', () => {
    const rows = [
        { rank: 1, bib: '10', name: 'Zoe', finish_s: 100 },
        { rank: 2, bib: '9', name: 'ann', finish_s: 120 },
        { rank: 3, bib: '2', name: 'Bob', finish_s: null },
    ];

    it('sorts numbers, bibs as numbers, names, missing last', () => {
        expect(sortRows(rows, 'bib').map(r => r.rank)).toEqual([3, 2, 1]);
        expect(sortRows(rows, 'name').map(r => r.rank)).toEqual([2, 3, 1]);
        expect(sortRows(rows, 'finish_s', true).map(r => r.rank))
            .toEqual([2, 1, 3]);
    });
});

describe('pool', () => {
    it('runs at most limit tasks at once and all of them', async () => {
        let now = 0;
        let most = 0;
        const seen = [];
        const counts = [];
        await pool([1, 2, 3, 4, 5, 6, 7], 3, async (x) => {
            now++;
            most = Math.max(most, now);
            await new Promise(r => setTimeout(r, 5));
            now--;
            if (x === 4) {
                throw new Error('one fails');
            }
            seen.push(x);
        }, n => counts.push(n));
        expect(most).toBe(3);
        expect(seen.sort()).toEqual([1, 2, 3, 5, 6, 7]);
        expect(counts).toEqual([1, 2, 3, 4, 5, 6, 7]);
    });
});
