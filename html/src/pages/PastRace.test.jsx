import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor,
         within } from '@testing-library/react';
import PastRace from './PastRace.jsx';

/* the server's answers, by path; results answer 404 no_results first */
function serve(results, { pending = 1 } = {}) {
    const seen = [];
    let asked = 0;
    globalThis.fetch = vi.fn(async (url, init) => {
        seen.push({ url, auth: init && init.headers
                                && init.headers.Authorization });
        const json = (status, body) => new Response(JSON.stringify(body), {
            status, headers: { 'Content-Type': 'application/json' } });
        if (url === '/api/races/r1/results') {
            return asked++ < pending
                ? json(404, { error: { code: 'no_results',
                                       message: 'not computed' } })
                : json(200, results);
        }
        return json(404, { error: { code: 'no_rider', message: 'no rider' } });
    });
    return seen;
}

const RESULTS = {
    race: 'r1',
    summary: { starters: 3, finishers: 2, winning_s: 600, avg_mps: 10,
               length_m: 6000, checkpoints: [{ name: 'Top', dist_m: 3000 }] },
    riders: [
        { rider: 'a', bib: '7', name: 'Ann', rank: 1, status: 'finished',
          finish_s: 600, dist_m: 6000, moving_s: 590, avg_mps: 10.2,
          max_mps: 15, ele_gain_m: 80, splits: [300] },
        { rider: 'b', bib: '12', name: 'Bob', rank: 2, status: 'finished',
          finish_s: 650, dist_m: 6000, moving_s: 640, avg_mps: 9.4,
          max_mps: null, ele_gain_m: null, splits: [290] },
        { rider: 'c', bib: '3', name: 'Cy', rank: 3, status: 'dnf',
          finish_s: null, dist_m: 2000, moving_s: 300, avg_mps: 6.7,
          max_mps: 9, ele_gain_m: 20, splits: [null] },
    ],
};

const RACE = { id: 'r1', name: 'Test', status: 'finished',
               course: { laps: 1, length_m: 6000 } };

afterEach(() => {
    cleanup();
    vi.restoreAllMocks();
});

describe('PastRace', () => {
    it('says the results are being computed, then shows them', async () => {
        const seen = serve(RESULTS, { pending: 2 });
        render(<PastRace race={RACE} token="tok" pollMs={10} />);
        await screen.findByText(/results are being computed/);
        const table = await screen.findByRole('table', { name: /Results/ });
        const names = within(table)
            .getAllByRole('button', { name: /^(Ann|Bob|Cy)$/ })
            .map(b => b.textContent);
        expect(names).toEqual(['Ann', 'Bob', 'Cy']);
        expect(seen.filter(s => s.url.endsWith('/results'))).toHaveLength(3);
        /* a private race: the token on every request */
        expect(seen.every(s => s.auth === 'Bearer tok')).toBe(true);
        /* downloads are buttons that fetch with the token */
        expect(screen.getByRole('button',
                                { name: 'Download the results as CSV' }))
            .toBeTruthy();
    });

    it('sorts by a column, missing values last', async () => {
        serve(RESULTS, { pending: 0 });
        render(<PastRace race={RACE} token={null} />);
        const table = await screen.findByRole('table', { name: /Results/ });
        fireEvent.click(within(table).getByRole('button', { name: 'Time' }));
        fireEvent.click(within(table).getByRole('button', { name: /Time/ }));
        const rows = within(table).getAllByRole('row').slice(1);
        expect(rows.map(r => r.dataset.rider)).toEqual(['b', 'a', 'c']);
        expect(table.querySelector('th[aria-sort=descending]').textContent)
            .toMatch(/Time/);
        /* a public race: plain links */
        expect(screen.getByRole('link', { name: 'Download the results as CSV' })
            .getAttribute('href')).toBe('/api/races/r1/results.csv');
    });

    it('shows a rider\'s split against the best', async () => {
        serve(RESULTS, { pending: 0 });
        render(<PastRace race={RACE} />);
        const table = await screen.findByRole('table', { name: /Results/ });
        fireEvent.click(within(table).getByRole('button', { name: 'Ann' }));
        const splits = await screen.findByRole('table', { name: /Splits/ });
        expect(within(splits).getAllByRole('row')[1].textContent)
            .toMatch(/Top.*5:00\+0:10/);
        await screen.findByText(/The track: no rider/);
    });

    it('says why when the results cannot be read', async () => {
        globalThis.fetch = vi.fn(async () => new Response(
            JSON.stringify({ error: { code: 'unavailable',
                                      message: 'Redis is down' } }),
            { status: 503 }));
        render(<PastRace race={RACE} />);
        await screen.findByText('Redis is down');
        expect(screen.getByRole('button', { name: 'Try again' }))
            .toBeTruthy();
    });
});
