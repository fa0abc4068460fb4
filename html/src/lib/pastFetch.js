/*
 * What a past race's page fetches besides JSON: a rider's GPX track as
 * text, and files to save.  A private race's token goes in the
 * Authorization header, which a plain link cannot carry: such a file
 * is fetched as a blob and saved through an object URL.
 */

import { ApiError } from './api.js';

async function get(path, token, signal) {
    const headers = {};
    if (token) {
        headers.Authorization = 'Bearer ' + token;
    }
    let res;
    try {
        res = await fetch('/api' + path, { headers, signal,
                                           credentials: 'same-origin' });
    } catch (e) {
        if (e.name === 'AbortError') {
            throw e;
        }
        throw new ApiError(0, 'network', 'The server cannot be reached.');
    }
    if (!res.ok) {
        let err = null;
        try {
            err = (await res.json()).error;
        } catch {
            err = null;
        }
        throw new ApiError(res.status, err ? err.code : 'http_' + res.status,
                           err ? err.message : res.statusText
                                                 || 'Request failed.');
    }
    return res;
}

export async function getText(path, token, signal) {
    return (await get(path, token, signal)).text();
}

/* fetches path with the token and hands it to the browser as a file */
export async function saveFile(path, token, filename) {
    const blob = await (await get(path, token)).blob();
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = filename;
    document.body.appendChild(a);
    a.click();
    a.remove();
    /* the download has its copy once click() returned; later is safe */
    setTimeout(() => URL.revokeObjectURL(url), 10000);
}
