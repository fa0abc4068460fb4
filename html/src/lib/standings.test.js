import { describe, expect, it } from 'vitest';
import { eleAt, isStale, loadFavourites, mergeRiders, profile,
         saveFavourites, sortRiders, splitDeltas, splitText,
         staleText } from './standings.js';

describe('the leaderboard order', () => {
    it('is by rank, riders without a rank after by distance then bib', () => {
        const rows = [
            { rider: 'a', bib: '10', dist_m: 50 },
            { rider: 'b', bib: '2', rank: 2, dist_m: 900 },
            { rider: 'c', bib: '3', rank: 1, dist_m: 1000 },
            { rider: 'd', bib: '9' },
            { rider: 'e', bib: '1', dist_m: 300 },
            { rider: 'f', bib: '8' },
        ];
        expect(sortRiders(rows).map(r => r.rider))
            .toEqual(['c', 'b', 'e', 'a', 'f', 'd']);
    });

    it('survives bad fields', () => {
        const rows = [{ rider: 'x', rank: 'one', dist_m: null },
                      { rider: 'y', rank: 1 }, {}];
        expect(sortRiders(rows)[0].rider).toBe('y');
    });

    it('merges the entered riders with their live state', () => {
        const live = new Map([['k', { rider: 'k', dist_m: 10, bib: '' }],
                              ['z', { rider: 'z', bib: '5', name: 'Zed' }]]);
        const rows = mergeRiders([{ id: 'k', name: 'Ann', bib: '12',
                                    status: 'entered' },
                                  { id: 'm', name: 'Moe', bib: '7' }], live);
        expect(rows).toHaveLength(3);
        const k = rows.find(r => r.rider === 'k');
        expect([k.name, k.bib, k.dist_m]).toEqual(['Ann', '12', 10]);
        expect(rows.find(r => r.rider === 'z').name).toBe('Zed');
    });
});

describe('stale riders', () => {
    const now = 1_000_000;

    it('are those racing with an old fix, or said stale', () => {
        expect(isStale({ status: 'racing', t: now - 5000 }, now)).toBe(false);
        expect(isStale({ status: 'racing', t: now - 61000 }, now)).toBe(true);
        expect(isStale({ status: 'stale', t: now }, now)).toBe(true);
        expect(isStale({ status: 'finished', t: now - 1e6 }, now))
            .toBe(false);
        expect(isStale({ status: 'racing' }, now)).toBe(false);
        expect(isStale(null, now)).toBe(false);
    });

    it('say how old their fix is', () => {
        expect(staleText({ t: now - 120000 }, now)).toBe('no fix for 2 min');
        expect(staleText({}, now)).toBe('no fix yet');
    });
});

describe('split deltas', () => {
    it('are to the fastest at each checkpoint', () => {
        const d = splitDeltas([{ name: 'A' }, { name: 'B' }], [
            { rider: 'x', splits: [100, 250] },
            { rider: 'y', splits: [95, null] },
            { rider: 'z' },
        ]);
        expect(d.fastest).toEqual([95, 250]);
        expect(d.rows[0].times).toEqual([{ s: 100, delta: 5 },
                                         { s: 250, delta: 0 }]);
        expect(d.rows[1].times[1]).toEqual({ s: null, delta: null });
        expect(d.rows[2].times[0].s).toBeNull();
        expect(splitText(d.rows[0].times[0])).toBe('1:40 (+0:05)');
        expect(splitText(d.rows[0].times[1])).toBe('4:10 (best)');
        expect(splitText(d.rows[2].times[0])).toBe('–');
    });
});

describe('favourites', () => {
    it('are kept per race', () => {
        const m = new Map();
        const store = { getItem: k => m.get(k) ?? null,
                        setItem: (k, v) => m.set(k, v) };
        saveFavourites('r1', new Set(['a', 'b']), store);
        expect(Array.from(loadFavourites('r1', store))).toEqual(['a', 'b']);
        expect(loadFavourites('r2', store).size).toBe(0);
        m.set('race-favourites:r3', '{bad');
        expect(loadFavourites('r3', store).size).toBe(0);
    });

    it('do without storage when reading localStorage throws', () => {
        const was = Object.getOwnPropertyDescriptor(globalThis,
                                                    'localStorage');
        Object.defineProperty(globalThis, 'localStorage', {
            configurable: true,
            get() {
                throw new DOMException('blocked', 'SecurityError');
            },
        });
        try {
            expect(loadFavourites('r1').size).toBe(0);
            expect(() => saveFavourites('r1', new Set(['a']))).not.toThrow();
        } finally {
            if (was) {
                Object.defineProperty(globalThis, 'localStorage', was);
            } else {
                delete globalThis.localStorage;
            }
        }
    });
});

describe('the elevation profile', () => {
    const lap = [{ lat: 45, lon: 7, ele: 100 },
                 { lat: 45.001, lon: 7, ele: 120 },
                 { lat: 45, lon: 7, ele: 100 }];

    it('is unrolled by the laps', () => {
        const p = profile(lap, 2);
        expect(p).toHaveLength(5);
        expect(p[4].d).toBeCloseTo(4 * 111.2, 0);
        expect(eleAt(p, p[1].d / 2)).toBeCloseTo(110, 5);
        expect(eleAt(p, 1e9)).toBe(100);
    });

    it('is empty without elevations', () => {
        expect(profile([{ lat: 1, lon: 1 }, { lat: 2, lon: 2 }])).toEqual([]);
        expect(profile(null)).toEqual([]);
    });
});
