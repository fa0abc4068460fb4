import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render, screen } from '@testing-library/react';
import { Connection } from './LiveRace.jsx';

afterEach(cleanup);

describe('the connection line', () => {
    it('announces the state, not the time of every update', () => {
        const { container } = render(
            <Connection live={{ state: 'live', tries: 0 }}
                        updated={Date.UTC(2026, 4, 1, 10, 0, 0)} />);
        expect(screen.getByRole('status').textContent).toBe('Live');
        /* the time is shown, outside any live region */
        expect(container.textContent).toMatch(/updated \d/);
        for (const el of container.querySelectorAll('[aria-live]')) {
            expect(el.textContent).not.toMatch(/updated/);
        }
    });

    it('says a lost connection', () => {
        render(<Connection live={{ state: 'reconnecting', tries: 3 }}
                           updated={null} />);
        expect(screen.getByRole('status').textContent)
            .toBe('Connection lost, retrying');
    });
});
