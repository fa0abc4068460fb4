import { describe, expect, it } from 'vitest';
import { distance, locate, measure, parseGeoJson, parseGpx, unroll }
    from './geo.js';

const GPX = `<?xml version="1.0"?>
<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>
<trkpt lat="45" lon="7"><ele>100</ele><time>2026-01-01T00:00:00Z</time></trkpt>
<trkpt lat="45.001" lon="7"><ele>110</ele></trkpt>
</trkseg></trk></gpx>`;

describe('geo', () => {
    it('measures a degree of latitude as 111.2 km', () => {
        expect(distance({ lat: 0, lon: 0 }, { lat: 1, lon: 0 }))
            .toBeCloseTo(111195, -1);
    });

    it('reads GPX track points with ele and time', () => {
        const p = parseGpx(GPX);
        expect(p).toHaveLength(2);
        expect(p[0]).toMatchObject({ lat: 45, lon: 7, ele: 100,
                                     t: Date.UTC(2026, 0, 1) });
        expect(measure(p)).toBeCloseTo(111.2, 0);
    });

    it('says what is wrong with a file', () => {
        expect(() => parseGpx('<gpx')).toThrow(/not XML/);
        expect(() => parseGpx('<kml/>')).toThrow(/not GPX/);
        expect(() => parseGpx('<gpx/>')).toThrow(/no track/);
        expect(() => parseGeoJson('{"type":"Point"}')).toThrow(/LineString/);
    });

    it('locates a point along a loop raced twice, forward', () => {
        const lap = parseGeoJson({ type: 'LineString', coordinates: [
            [7, 45], [7, 45.001], [7.001, 45.001], [7, 45]] });
        const c = unroll(lap, 2);
        const len = c.at(-1).dist;
        const p = { lat: 45.0005, lon: 7 };
        expect(locate(c, p).dist).toBeCloseTo(55.6, 0);
        expect(locate(c, p, len / 2).dist).toBeCloseTo(len / 2 + 55.6, 0);
    });
});
