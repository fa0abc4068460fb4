import { describe, expect, it } from 'vitest';
import { bounds, courseData, mapStyle } from './mapSettings.js';

describe('the map style', () => {
    const course = [{ lat: 45, lon: 7 }, { lat: 45.01, lon: 7.02 }];

    it('is a background and the course without tiles: works offline', () => {
        const s = mapStyle({}, course);
        expect(s.layers.map(l => l.id)).toEqual(['bg', 'course-casing',
                                                 'course']);
        expect(s.sources.tiles).toBeUndefined();
        expect(s.glyphs).toBeUndefined();
        expect(s.sources.course.data.geometry.coordinates)
            .toEqual([[7, 45], [7.02, 45.01]]);
    });

    it('puts the operator tiles under the course', () => {
        const s = mapStyle({ tiles: ['https://t.example/{z}/{x}/{y}.png', 3],
                             attribution: '© someone' }, course);
        expect(s.layers.map(l => l.id)).toEqual(['bg', 'tiles',
                                                 'course-casing', 'course']);
        expect(s.sources.tiles.tiles).toEqual(
            ['https://t.example/{z}/{x}/{y}.png']);
        expect(s.sources.tiles.attribution).toBe('© someone');
    });

    it('skips bad points', () => {
        const d = courseData([{ lat: 45, lon: 7 }, null, { lat: 'x', lon: 1 },
                              { lat: 99, lon: 7 }]);
        expect(d.geometry.coordinates).toEqual([[7, 45]]);
    });

    it('bounds the points, or says there are none', () => {
        expect(bounds([{ lat: 45, lon: 7 }, { lat: 44, lon: 8 }]))
            .toEqual([[7, 44], [8, 45]]);
        expect(bounds([])).toBeNull();
        expect(bounds(null)).toBeNull();
        expect(bounds([{ lat: null, lon: 3 }])).toBeNull();
    });
});
