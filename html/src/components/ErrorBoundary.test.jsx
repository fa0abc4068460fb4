import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, render, screen } from '@testing-library/react';
import ErrorBoundary from './ErrorBoundary.jsx';

function Broken() {
    throw new Error('bad data');
}

afterEach(cleanup);

describe('ErrorBoundary', () => {
    it('a page that throws says so and offers a reload', () => {
        vi.spyOn(console, 'error').mockImplementation(() => {});
        render(<ErrorBoundary where="/x"><Broken /></ErrorBoundary>);
        expect(screen.getByRole('alert').textContent).toMatch(/bad data/);
        expect(screen.getByRole('button', { name: 'Reload' })).toBeTruthy();
    });
});
